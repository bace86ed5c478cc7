/**
 * OAuth 2.1 access tokens from an external issuer (http-and-operations.md §9.4, §9.5): endpoint discovery,
 * signature and claim checks with jose, and userinfo enrichment cached per token.
 */
import { errors, jwtVerify, type JWTPayload } from 'jose'
import type { Config } from '../core/config.js'
import type { Log } from '../core/ports.js'
import { CachedJwks } from './jwks.js'
import { issuedInFuture } from './jwt.js'
import { TtlCache, tokenDigest } from './ttl-cache.js'

const HTTP_TIMEOUT_MS = 10_000
const JWKS_TTL_MS = 3_600_000
const REFETCH_COOLDOWN_MS = 60_000
const USERINFO_TTL_MS = 5 * 60_000
const CACHE_ENTRIES = 10_000
const ALGORITHMS = ['RS256', 'ES256']

export interface OAuthIdentity {
  /** The configured user claim's value: the candidate owner id. */
  readonly owner: string
  readonly subject?: string
  readonly issuer?: string
  readonly email?: string
  readonly name?: string
  /** As the issuer reports it; undefined when it says nothing. */
  readonly emailVerified?: boolean
  /** The token's `exp` (NumericDate), bounding how long per-token results may be cached. */
  readonly expiresAt?: number
}

export type OAuthResult = { ok: true; identity: OAuthIdentity } | { ok: false; reason: string }

interface Endpoints {
  jwksUri: string
  userinfo?: string
}

/** Compares issuers with one trailing '/' removed on both sides (risk R6). */
export function sameIssuer(a: string, b: string): boolean {
  const strip = (s: string) => (s.endsWith('/') ? s.slice(0, -1) : s)
  return strip(a) === strip(b)
}

const str = (v: unknown): string | undefined => (typeof v === 'string' && v !== '' ? v : undefined)
const verified = (v: unknown): boolean | undefined => (v === true || v === 'true' ? true : v === false || v === 'false' ? false : undefined)

function httpUrl(v: unknown): string | undefined {
  if (typeof v !== 'string') return undefined
  try {
    const url = new URL(v)
    return url.protocol === 'https:' || url.protocol === 'http:' ? v : undefined
  } catch {
    return undefined
  }
}

export interface OAuthDeps {
  readonly log: Log
  readonly fetch?: typeof fetch
  readonly now?: () => number
}

export class OAuthValidator {
  private endpoints: Promise<Endpoints> | undefined
  private discoveryFailedAt: number | undefined
  private readonly jwks: CachedJwks
  private readonly userinfoCache: TtlCache<{ email?: string; name?: string; emailVerified?: boolean }>
  private readonly fetch: typeof fetch
  private readonly now: () => number
  private readonly issuerBase: string

  constructor(
    private readonly cfg: Config['oauth'],
    private readonly deps: OAuthDeps,
  ) {
    this.fetch = deps.fetch ?? fetch
    this.now = deps.now ?? Date.now
    this.issuerBase = cfg.issuer.replace(/\/+$/, '')
    this.userinfoCache = new TtlCache(CACHE_ENTRIES, this.now)
    this.jwks = new CachedJwks(async () => (await this.currentEndpoints(true)).jwksUri, {
      ttlMs: JWKS_TTL_MS,
      cooldownMs: REFETCH_COOLDOWN_MS,
      timeoutMs: HTTP_TIMEOUT_MS,
      now: this.now,
      fetch: this.fetch,
    })
  }

  /** Starts discovery in the background; requests wait for it only if it is still running (risk R17). */
  start(): void {
    void this.currentEndpoints(false)
  }

  async validate(token: string): Promise<OAuthResult> {
    let payload: JWTPayload
    try {
      ;({ payload } = await jwtVerify(token, this.jwks.getKey, {
        algorithms: ALGORITHMS,
        audience: this.cfg.audience === '' ? undefined : this.cfg.audience,
        clockTolerance: 0,
        requiredClaims: ['exp'],
      }))
    } catch (error) {
      // JOSE codes name the failed check; anything else is the key fetch failing (network, DNS, timeout).
      return { ok: false, reason: error instanceof errors.JOSEError ? error.code : `key set unavailable: ${error instanceof Error ? error.message : String(error)}` }
    }
    if (issuedInFuture(payload)) return { ok: false, reason: 'iat in the future' }
    if (typeof payload.iss !== 'string' || !sameIssuer(payload.iss, this.cfg.issuer)) return { ok: false, reason: 'issuer mismatch' }
    const owner = str(payload[this.cfg.userClaim])
    if (owner === undefined) return { ok: false, reason: `missing ${this.cfg.userClaim} claim` }
    return {
      ok: true,
      identity: {
        owner,
        subject: str(payload.sub),
        issuer: payload.iss,
        email: str(payload.email),
        name: str(payload.name),
        emailVerified: verified(payload.email_verified),
        expiresAt: payload.exp,
      },
    }
  }

  /** Adds email and name from the userinfo endpoint when the token carries no email (§9.5). */
  async enrich(token: string, identity: OAuthIdentity): Promise<OAuthIdentity> {
    if (identity.email !== undefined) return identity
    const userinfo = (await this.currentEndpoints(false)).userinfo
    if (userinfo === undefined) return identity
    const key = tokenDigest(token)
    let info = this.userinfoCache.get(key)
    if (info === undefined) {
      info = await this.fetchUserinfo(userinfo, token)
      this.userinfoCache.set(key, info, cacheTtl(identity.expiresAt, this.now()))
    }
    return { ...identity, email: info.email, name: identity.name ?? info.name, emailVerified: identity.emailVerified ?? info.emailVerified }
  }

  private async fetchUserinfo(url: string, token: string): Promise<{ email?: string; name?: string; emailVerified?: boolean }> {
    try {
      const response = await this.fetch(url, { headers: { authorization: `Bearer ${token}`, accept: 'application/json' }, signal: AbortSignal.timeout(HTTP_TIMEOUT_MS) })
      if (!response.ok) throw new Error(`userinfo answered ${response.status}`)
      const body: unknown = await response.json()
      if (typeof body !== 'object' || body === null || Array.isArray(body)) throw new Error('userinfo is not a JSON object')
      const fields = body as Record<string, unknown>
      return { email: str(fields.email), name: str(fields.name) ?? str(fields.preferred_username), emailVerified: verified(fields.email_verified) }
    } catch (error) {
      this.deps.log.warn({ reason: error instanceof Error ? error.message : String(error) }, 'OAuth userinfo lookup failed')
      return {}
    }
  }

  /**
   * The JWKS and userinfo URLs. A failed discovery falls back to `<issuer>/.well-known/jwks.json` and is
   * retried (at most once a minute) when the keys are next fetched, so a slow issuer at boot heals itself.
   */
  private currentEndpoints(forKeyFetch: boolean): Promise<Endpoints> {
    if (this.cfg.jwksUri !== '') return Promise.resolve({ jwksUri: this.cfg.jwksUri })
    const retry = forKeyFetch && this.discoveryFailedAt !== undefined && this.now() - this.discoveryFailedAt >= REFETCH_COOLDOWN_MS
    if (this.endpoints === undefined || retry) this.endpoints = this.discover()
    return this.endpoints
  }

  private async discover(): Promise<Endpoints> {
    const url = `${this.issuerBase}/.well-known/openid-configuration`
    try {
      const response = await this.fetch(url, { headers: { accept: 'application/json' }, signal: AbortSignal.timeout(HTTP_TIMEOUT_MS) })
      if (!response.ok) throw new Error(`answered ${response.status}`)
      const doc = (await response.json()) as Record<string, unknown> | null
      const jwksUri = httpUrl(doc?.jwks_uri)
      if (jwksUri === undefined) throw new Error('no jwks_uri in the discovery document')
      this.discoveryFailedAt = undefined
      return { jwksUri, userinfo: httpUrl(doc?.userinfo_endpoint) }
    } catch (error) {
      this.discoveryFailedAt = this.now()
      const jwksUri = `${this.issuerBase}/.well-known/jwks.json`
      this.deps.log.warn({ reason: error instanceof Error ? error.message : String(error), jwksUri }, 'OIDC discovery failed; using the default JWKS location and no userinfo endpoint')
      return { jwksUri }
    }
  }
}

/** Per-token results live at most 5 minutes and never beyond the token's own expiry. */
export function cacheTtl(expiresAt: number | undefined, nowMs: number): number {
  const untilExpiry = expiresAt === undefined ? USERINFO_TTL_MS : expiresAt * 1000 - nowMs
  return Math.min(USERINFO_TTL_MS, untilExpiry)
}

