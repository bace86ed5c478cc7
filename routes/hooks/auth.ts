/**
 * Who the caller is (http-and-operations.md §2 stages 4–5, §9, §11). With auth off every request runs as the
 * default owner. With auth on every request except the public routes needs a valid bearer token — unknown
 * paths too, so a stranger cannot map the server — and then takes a per-owner concurrency slot.
 *
 * Two hooks share one authenticator: `root` on the root instance for everything outside the MCP route, and
 * `mcp` inside the MCP scope, where it runs after the Origin check (a browser page on another origin is
 * refused before its token is even looked at).
 */
import type { FastifyReply, FastifyRequest } from 'fastify'
import { createAuthenticator } from '../../auth/authenticator.js'
import type { Config } from '../../core/config.js'
import type { Log } from '../../core/ports.js'
import type { Store } from '../../store/index.js'
import { OwnerSlots, acquireSlot } from './limits.js'
import { metadataUrl, wellKnownPaths } from '../well-known.js'

declare module 'fastify' {
  interface FastifyRequest {
    /** The owner every tool, resource and prompt of this request acts for. */
    ownerId: string
  }
}

export type GuardHook = (request: FastifyRequest, reply: FastifyReply) => Promise<FastifyReply | undefined>

export interface RequestGuard {
  /** Root `onRequest`: authenticates every request but the public routes and the MCP route. */
  readonly root: GuardHook
  /** `onRequest` of the MCP scope, registered after the Origin check. */
  readonly mcp: GuardHook
  /** True when this Authorization header would be let in (always, with authentication off). */
  readonly admits: (authorization: string | undefined) => Promise<boolean>
}

export interface GuardOptions {
  readonly config: Config
  readonly getStore: () => Promise<Store>
  readonly log: Log
  /** For tests of the OAuth client side; the global fetch otherwise. */
  readonly fetch?: typeof fetch
}

export function createRequestGuard(opts: GuardOptions): RequestGuard {
  const { config } = opts
  if (!config.authRequired) {
    return {
      root: async () => undefined,
      mcp: async (request) => {
        request.ownerId = config.defaultOwner
        return undefined
      },
      admits: async () => true,
    }
  }

  const mount = config.mountPath
  const mcpRoute = `${mount}/mcp`
  // Matched route patterns, so a public path is public under any spelling the router accepts.
  const publicRoutes = new Set([`${mount}/health`, '/favicon.ico', '/icons/*', ...wellKnownPaths(mount)])
  const authenticator = createAuthenticator(config, { getStore: opts.getStore, log: opts.log, fetch: opts.fetch })
  const slots = new OwnerSlots(config.maxConcurrentPerOwner)

  /** §9.7. The metadata URL names the mount, so it is only shown to requests that already know the mount. */
  function challenge(request: FastifyRequest, tokenGiven: boolean): string {
    const path = request.url.split('?', 1)[0]
    const knowsMount = mount === '' || path === mount || path.startsWith(`${mount}/`)
    const params: string[] = []
    if (config.oauth.issuer !== '' && knowsMount) params.push(`resource_metadata="${metadataUrl(config)}"`)
    if (tokenGiven) params.push('error="invalid_token"') // RFC 6750 §3.1; omitted when no credentials came
    return params.length === 0 ? 'Bearer' : `Bearer ${params.join(', ')}`
  }

  const guard: GuardHook = async (request, reply) => {
    const result = await authenticator.authenticate(request.headers.authorization)
    if (!result.ok && result.unavailable === true) {
      request.rejectReason = result.reason ?? 'unavailable'
      return reply.code(503).header('retry-after', '5').type('application/json').send({ error: result.message })
    }
    if (!result.ok) {
      request.rejectReason = result.reason ?? 'unauthorized'
      const tokenGiven = result.reason !== 'missing token'
      return reply.code(401).header('www-authenticate', challenge(request, tokenGiven)).type('application/json').send({ error: result.message })
    }
    request.ownerId = result.owner
    return acquireSlot(slots, request, reply) ? undefined : reply
  }

  return {
    root: async (request, reply) => {
      const route = request.routeOptions.url
      if (route !== undefined && (route === mcpRoute || publicRoutes.has(route))) return undefined
      return guard(request, reply)
    },
    mcp: guard,
    admits: async (authorization) => authorization !== undefined && (await authenticator.authenticate(authorization)).ok,
  }
}
