/**
 * Database URL checks and the libpq key=value DSN → postgresql:// URL conversion (http-and-operations.md
 * §16): postgres.js takes URLs only, and operators coming from the reference may still have DSNs.
 */

/** Why a postgres:// URL is unusable, or undefined. Never quotes the URL: it usually carries a password. */
export function postgresUrlProblem(url: string): string | undefined {
  if (!/^postgres(?:ql)?:\/\//i.test(url)) {
    return 'must start with postgres:// or postgresql:// (or be a libpq key=value DSN)'
  }
  if (/\s/.test(url)) return 'must not contain whitespace (percent-encode it, e.g. %20)'
  const rest = url.slice(url.indexOf('://') + 3)
  const authority = rest.split(/[/?#]/, 1)[0]
  const at = authority.lastIndexOf('@')
  if (authority.indexOf('@') !== at) {
    return "has an unencoded '@' in the user name or password (percent-encode it as %40)"
  }
  if (at === -1 && rest.split(/[?#]/, 1)[0].includes('@')) {
    return "has an '@' after a '/': percent-encode reserved characters in the user name or password ('/' as %2F)"
  }
  if (at !== -1) {
    try {
      decodeURIComponent(authority.slice(0, at))
    } catch {
      return 'has malformed percent-encoding in the user name or password'
    }
  }
  // Empty hosts are allowed (Unix socket via ?host=); several hosts are comma-separated.
  for (const hostPort of authority.slice(at + 1).split(',')) {
    const match = /^(?:\[[0-9A-Fa-f:.]*\]|[^:[\]]*)(?::(\d*))?$/.exec(hostPort)
    if (match === null) return 'has an invalid host or port'
    if (match[1] !== undefined && match[1] !== '' && Number(match[1]) > 65535) return 'has a port above 65535'
  }
  return undefined
}

/** libpq conninfo → postgresql:// URL (libpq URI syntax). Values are percent-encoded as needed. */
export function dsnToUrl(dsn: string): { url: string; problem?: undefined } | { url?: undefined; problem: string } {
  const pairs = new Map<string, string>()
  const isSpace = (c: string | undefined): boolean => c !== undefined && /\s/.test(c)
  let i = 0
  while (true) {
    while (isSpace(dsn[i])) i++
    if (i >= dsn.length) break
    let key = ''
    while (i < dsn.length && dsn[i] !== '=' && !isSpace(dsn[i])) key += dsn[i++]
    while (isSpace(dsn[i])) i++
    if (dsn[i] !== '=') return { problem: 'every item must be keyword=value' }
    if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(key)) return { problem: 'a keyword has invalid characters' }
    i++
    while (isSpace(dsn[i])) i++
    let value = ''
    if (dsn[i] === "'") {
      i++
      let closed = false
      while (i < dsn.length) {
        const c = dsn[i++]
        if (c === '\\' && i < dsn.length) value += dsn[i++]
        else if (c === "'") {
          closed = true
          break
        } else value += c
      }
      if (!closed) return { problem: 'a quoted value is not terminated' }
    } else {
      while (i < dsn.length && !isSpace(dsn[i])) {
        const c = dsn[i++]
        value += c === '\\' && i < dsn.length ? dsn[i++] : c
      }
    }
    pairs.set(key.toLowerCase(), value) // libpq: the last occurrence wins
  }

  const enc = encodeURIComponent
  const take = (key: string): string => {
    const value = pairs.get(key) ?? ''
    pairs.delete(key)
    return value
  }
  const user = take('user')
  const password = take('password')
  const dbname = take('dbname')
  const host = take('host')
  const port = take('port')
  const ports = port === '' ? [] : port.split(',')
  if (ports.some((p) => !/^\d+$/.test(p.trim()) || Number(p) > 65535)) {
    return { problem: 'port must be a number between 0 and 65535 (or a comma list of them)' }
  }
  const query: string[] = []
  let hosts = ''
  const hostList = host === '' ? [] : host.split(',').map((h) => h.trim())
  if (hostList.some((h) => h.startsWith('/') || h.startsWith('@'))) {
    // A Unix-socket directory cannot sit in the URL authority; libpq URIs take it as ?host=.
    query.push(`host=${enc(host)}`)
    if (port !== '') query.push(`port=${enc(port)}`)
  } else {
    hosts = hostList
      .map((h, index) => {
        const name = h.includes(':') ? `[${h}]` : enc(h)
        const p = (ports.length === 1 ? ports[0] : ports[index] ?? '').trim()
        return p === '' ? name : `${name}:${p}`
      })
      .join(',')
    if (hostList.length === 0 && ports.length > 0) query.push(`port=${enc(port)}`)
  }
  for (const [key, value] of pairs) query.push(`${enc(key)}=${enc(value)}`)
  const userinfo = user === '' && password === '' ? '' : `${enc(user)}${password === '' ? '' : `:${enc(password)}`}@`
  const path = dbname === '' ? '' : `/${enc(dbname)}`
  const search = query.length > 0 ? `?${query.join('&')}` : ''
  return { url: `postgresql://${userinfo}${hosts}${path === '' && search !== '' ? '/' : path}${search}` }
}
