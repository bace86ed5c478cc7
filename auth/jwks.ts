/**
 * The issuer's signing keys (http-and-operations.md §9.4), fetched and cached here and handed to jose as a
 * local key set. jose's own remote set was not enough: its cooldown counts only successful fetches, so an
 * issuer whose JWKS endpoint fails would be fetched once per incoming token (risk R17). Here every refetch
 * — after a failure or for an unknown `kid` — waits at least `cooldownMs` after the previous attempt.
 */
import { createLocalJWKSet, errors, type CryptoKey, type FlattenedJWSInput, type JWSHeaderParameters, type KeyObject } from 'jose'

export interface JwksOptions {
  /** Keys are refreshed when older than this (1 h). */
  readonly ttlMs: number
  /** Minimum time between two fetch attempts outside the TTL schedule (60 s). */
  readonly cooldownMs: number
  readonly timeoutMs: number
  readonly now?: () => number
  readonly fetch?: typeof fetch
}

type LocalSet = ReturnType<typeof createLocalJWKSet>
type Key = CryptoKey | KeyObject | Uint8Array

export class CachedJwks {
  private local: LocalSet | undefined
  private loadedAt = Number.NEGATIVE_INFINITY
  private attemptedAt = Number.NEGATIVE_INFINITY
  private pending: Promise<void> | undefined
  private readonly now: () => number

  constructor(
    /** Resolves the JWKS URL (it may come from discovery still in flight). */
    private readonly url: () => Promise<string>,
    private readonly opts: JwksOptions,
  ) {
    this.now = opts.now ?? Date.now
  }

  /** The key-resolver jose's jwtVerify calls with the token's protected header. */
  readonly getKey = async (header: JWSHeaderParameters, token: FlattenedJWSInput): Promise<Key> => {
    if (this.local === undefined || this.now() - this.loadedAt >= this.opts.ttlMs) {
      // A failed refresh keeps serving the keys we already have: an issuer hiccup must not log everyone out.
      await this.refreshIfAllowed().catch((error: unknown) => {
        if (this.local === undefined) throw error
      })
    }
    const used = this.local
    if (used === undefined) throw new errors.JOSEError('The issuer key set is unavailable')
    try {
      return await used(header, token)
    } catch (error) {
      if (!(error instanceof errors.JWKSNoMatchingKey)) throw error
      // A rotated key: refetch once — unless a fetch already replaced the set meanwhile, or the cooldown forbids it.
      if (this.local === used && !(await this.refreshIfAllowed())) throw error
      const current = this.local
      if (current === undefined) throw error
      return current(header, token)
    }
  }

  /** Joins the fetch in flight, or starts one unless the previous attempt was less than a cooldown ago. */
  private async refreshIfAllowed(): Promise<boolean> {
    if (this.pending === undefined && this.now() - this.attemptedAt < this.opts.cooldownMs) return false
    await this.refresh()
    return true
  }

  /** One fetch at a time; concurrent callers share it (the reference's 0.15.0 thundering-herd fix). */
  refresh(): Promise<void> {
    this.pending ??= this.load().finally(() => {
      this.pending = undefined
    })
    return this.pending
  }

  private async load(): Promise<void> {
    this.attemptedAt = this.now()
    const url = await this.url()
    const response = await (this.opts.fetch ?? fetch)(url, {
      headers: { accept: 'application/jwk-set+json, application/json' },
      redirect: 'error',
      signal: AbortSignal.timeout(this.opts.timeoutMs),
    })
    if (response.status !== 200) throw new errors.JOSEError(`The JWKS endpoint answered ${response.status}`)
    const body: unknown = await response.json()
    this.local = createLocalJWKSet(body as Parameters<typeof createLocalJWKSet>[0]) // throws unless it is a JWK set
    this.loadedAt = this.now()
  }
}
