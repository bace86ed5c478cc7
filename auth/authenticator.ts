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

const UNAVAILABLE = 'Authentication is unavailable right now; retry shortly'
/** At most one "token rejected" line per this interval, counting the ones left out. */
const REJECTION_LOG_EVERY_MS = 10_000

/** Lets one event through per interval and counts the ones it held back since. */
class LogSampler {
  private last = -Infinity
  private suppressed = 0
  constructor(
    private readonly everyMs: number,
    private readonly now: () => number,
  ) {}

  log(write: (suppressed: number) => void): void {
    const t = this.now()
    if (t - this.last < this.everyMs) {
      this.suppressed++
      return
    }
    this.last = t
    write(this.suppressed)
    this.suppressed = 0
  }
}

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

  const rejections = new LogSampler(REJECTION_LOG_EVERY_MS, now)

  async function viaOAuth(validator: OAuthValidator, token: string): Promise<{ owner?: string; unavailable?: boolean; reason: string }> {
    const result = await validator.validate(token)
    if (!result.ok) return { reason: result.reason }
    const key = tokenDigest(token)
    const cached = owners.get(key)
    if (cached !== undefined) return { owner: cached, reason: 'ok' }
    const identity = await validator.enrich(token, result.identity)
    let store: Store
    try {
      store = await deps.getStore()
    } catch (error) {
      deps.log.warn({ reason: error instanceof Error ? error.message : String(error) }, 'OAuth user resolution impossible: the database is unavailable')
      return { unavailable: true, reason: 'database unavailable' }
    }
    const resolved = await resolveOAuthOwner(store, identity, config.oauth.autoProvision, deps.log)
    if ('unavailable' in resolved) return { unavailable: true, reason: 'database unavailable' }
    owners.set(key, resolved.owner, cacheTtl(identity.expiresAt, now()))
    return { owner: resolved.owner, reason: 'ok' }
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
        const { owner, unavailable, reason } = await viaOAuth(oauth, token)
        if (owner !== undefined) return checked(owner)
        if (unavailable === true) return { ok: false, message: UNAVAILABLE, unavailable: true, reason }
        // An HMAC token already failed as self-signed; the OAuth verdict on it adds nothing to the log. The
        // rest is sampled: anyone can send forged tokens, and one line each would flood the log (audit L6).
        if (selfSigned === undefined || reason !== 'ERR_JOSE_ALG_NOT_ALLOWED') rejections.log((suppressed) => deps.log.warn({ reason, suppressed }, 'OAuth token rejected'))
      }
      return { ok: false, message, reason: 'invalid token' }
    },
  }
}

function checked(owner: string): AuthResult & { reason?: string } {
  return RESERVED_OWNERS.has(owner) ? { ok: false, message: MESSAGES.invalid, reason: 'reserved owner id' } : { ok: true, owner }
}
