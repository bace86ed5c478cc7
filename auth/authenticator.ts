/**
 * Bearer token → owner (http-and-operations.md §9.1–§9.7): self-signed first, then OAuth; the first failure
 * message wins. Built once per app; holds the JWKS and the per-token caches.
 */
import type { Store } from '../store/index.js'
import type { Config } from '../core/config.js'
import type { Log } from '../core/ports.js'
import { MESSAGES, createSelfSignedVerifier, type AuthResult } from './jwt.js'
import { OAuthValidator, cacheTtl } from './oauth.js'
import { TtlCache, tokenDigest } from './ttl-cache.js'
import { resolveOAuthOwner } from './users.js'

/** Owner ids no token may carry: '' means nobody, `_system` is the operator's (data-and-engine.md §2.8). */
const RESERVED_OWNERS = new Set(['', '_system'])
const BEARER = /^bearer /i

export interface Authenticator {
  /** Checks the Authorization header value; the result carries the owner or the 401 message. */
  authenticate(authorization: string | undefined): Promise<AuthResult & { reason?: string }>
}

export interface AuthenticatorDeps {
  readonly getStore: () => Promise<Store>
  readonly log: Log
  readonly fetch?: typeof fetch
  readonly now?: () => number
}

export function createAuthenticator(config: Config, deps: AuthenticatorDeps): Authenticator {
  const selfSigned = config.jwtSecret === '' ? undefined : createSelfSignedVerifier(config.jwtSecret, config.jwtAlgorithm)
  const oauth = config.oauth.issuer === '' ? undefined : new OAuthValidator(config.oauth, deps)
  oauth?.start()
  const now = deps.now ?? Date.now
  const owners = new TtlCache<string>(10_000, now)

  async function viaOAuth(validator: OAuthValidator, token: string): Promise<{ owner?: string; reason: string }> {
    const result = await validator.validate(token)
    if (!result.ok) return { reason: result.reason }
    const key = tokenDigest(token)
    const cached = owners.get(key)
    if (cached !== undefined) return { owner: cached, reason: 'ok' }
    const identity = await validator.enrich(token, result.identity)
    let store: Store | undefined
    try {
      store = await deps.getStore()
    } catch (error) {
      deps.log.warn({ reason: error instanceof Error ? error.message : String(error) }, 'OAuth user resolution skipped: the database is unavailable')
    }
    if (store === undefined) return { owner: identity.owner, reason: 'ok' }
    const { owner, settled } = await resolveOAuthOwner(store, identity, config.oauth.autoProvision, deps.log)
    if (settled) owners.set(key, owner, cacheTtl(identity.expiresAt, now()))
    return { owner, reason: 'ok' }
  }

  return {
    async authenticate(authorization) {
      if (authorization === undefined || !BEARER.test(authorization)) return { ok: false, message: MESSAGES.missing, reason: 'missing token' }
      const token = authorization.slice(7)
      let message: string = MESSAGES.invalid
      if (selfSigned !== undefined) {
        const result = await selfSigned(token)
        if (result.ok) return checked(result.owner)
        message = result.message
      }
      if (oauth !== undefined) {
        const { owner, reason } = await viaOAuth(oauth, token)
        if (owner !== undefined) return checked(owner)
        // An HMAC token already failed as self-signed; the OAuth verdict on it adds nothing to the log.
        if (selfSigned === undefined || reason !== 'ERR_JOSE_ALG_NOT_ALLOWED') deps.log.warn({ reason }, 'OAuth token rejected')
      }
      return { ok: false, message, reason: 'invalid token' }
    },
  }
}

function checked(owner: string): AuthResult & { reason?: string } {
  return RESERVED_OWNERS.has(owner) ? { ok: false, message: MESSAGES.invalid, reason: 'reserved owner id' } : { ok: true, owner }
}
