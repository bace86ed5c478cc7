/**
 * Self-signed tokens (http-and-operations.md §9.3): HMAC JWTs such as those `mcp-awareness-token` mints,
 * verified by jose with the configured algorithm pinned, so `none` and algorithm confusion cannot pass.
 */
import { SignJWT, errors, jwtVerify, type JWTPayload } from 'jose'
import type { JwtAlgorithm } from '../core/config.js'

export type AuthResult = { ok: true; owner: string } | { ok: false; message: string; unavailable?: boolean }

export const MESSAGES = {
  missing: 'Missing or invalid Authorization header',
  invalid: 'Invalid token',
  expired: 'Token expired',
  noSub: "JWT missing 'sub' claim",
} as const

/** NumericDate now, floored as jose floors it, so both checks use the same clock reading. */
export const epochNow = (): number => Math.floor(Date.now() / 1000)

/** `iat` in the future (0.15.0 fix) — jose checks it only together with maxTokenAge. */
export function issuedInFuture(payload: JWTPayload, now = epochNow()): boolean {
  return typeof payload.iat === 'number' && payload.iat > now
}

export function secretKey(secret: string): Uint8Array {
  return new TextEncoder().encode(secret)
}

export function createSelfSignedVerifier(secret: string, algorithm: JwtAlgorithm): (token: string) => Promise<AuthResult> {
  const key = secretKey(secret)
  // A token without `exp` would be valid for ever; the CLI always sets one (audit L7).
  const options = { algorithms: [algorithm], clockTolerance: 0, requiredClaims: ['exp'] }
  return async (token) => {
    let payload: JWTPayload
    try {
      ;({ payload } = await jwtVerify(token, key, options))
    } catch (error) {
      return { ok: false, message: error instanceof errors.JWTExpired ? MESSAGES.expired : MESSAGES.invalid }
    }
    // PyJWT (the reference) refuses any token carrying `aud` when no audience is expected; so do we.
    if (payload.aud !== undefined || issuedInFuture(payload)) return { ok: false, message: MESSAGES.invalid }
    if (typeof payload.sub !== 'string' || payload.sub === '') return { ok: false, message: MESSAGES.noSub }
    return { ok: true, owner: payload.sub }
  }
}

/** `{ sub, iat, exp }` with header `{ alg, typ: "JWT" }` (§17.3). */
export async function signSelfSignedToken(secret: string, algorithm: JwtAlgorithm, subject: string, lifetimeSec: number, now = epochNow()): Promise<string> {
  return new SignJWT({ sub: subject, iat: now, exp: now + lifetimeSec })
    .setProtectedHeader({ alg: algorithm, typ: 'JWT' })
    .sign(secretKey(secret))
}
