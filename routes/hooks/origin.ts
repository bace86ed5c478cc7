/**
 * DNS-rebinding protection (decision 12, http-and-operations.md §8): a browser page on another origin must
 * not reach a server on this machine. Requests without an Origin header (CLI tools, server-side clients)
 * pass; when the server listens on loopback, the Host header must name loopback too.
 */
import { isLoopbackHost, type Config } from '../../core/config.js'

function hostnameOf(hostHeader: string): string {
  if (hostHeader.startsWith('[')) return hostHeader.slice(0, hostHeader.indexOf(']') + 1)
  return hostHeader.split(':')[0]
}

export function originCheck(config: Config): (origin: string | undefined, host: string | undefined) => string | undefined {
  const allowAll = config.allowedOrigins.includes('*')
  const allowed = new Set(config.allowedOrigins)
  if (config.publicUrl !== '') allowed.add(new URL(config.publicUrl).origin)
  const loopbackBind = isLoopbackHost(config.host)
  /** Returns the reason for refusing, or undefined to let the request through. */
  return (origin, host) => {
    if (loopbackBind && host !== undefined && !isLoopbackHost(hostnameOf(host))) return 'host not allowed'
    if (origin === undefined || allowAll || allowed.has(origin)) return undefined
    try {
      const url = new URL(origin)
      if ((url.protocol === 'http:' || url.protocol === 'https:') && isLoopbackHost(url.hostname) && url.origin === origin) return undefined
    } catch {
      // not a URL: refused below
    }
    return 'origin not allowed'
  }
}
