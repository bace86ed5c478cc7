/**
 * Authentication benchmark: `get_stats` with auth off, with a self-signed HS256 token, and with an OAuth
 * RS256 token (keys from a JWKS served by this process, cached by the server), alternating in one run.
 * The differences are the per-request cost of the bearer check, the owner cache and the concurrency slot.
 */
import { createServer } from 'node:http'
import type { AddressInfo } from 'node:net'
import { SignJWT, exportJWK, generateKeyPair } from 'jose'
import { alternate, benchBackends, legacyCall, load, once, report, startBenchServer } from './lib.js'

const OWNER = 'bench'
const SECRET = 'bench-secret-0123456789-abcdefghijklmnop'

export async function benchAuth(): Promise<void> {
  const { publicKey, privateKey } = await generateKeyPair('RS256')
  const jwks = JSON.stringify({ keys: [{ ...(await exportJWK(publicKey)), kid: 'bench', alg: 'RS256', use: 'sig' }] })
  const issuerServer = createServer((_req, res) => res.writeHead(200, { 'content-type': 'application/json' }).end(jwks))
  await new Promise<void>((ok) => issuerServer.listen(0, '127.0.0.1', ok))
  const issuer = `http://127.0.0.1:${(issuerServer.address() as AddressInfo).port}`
  const hs = await new SignJWT({ sub: OWNER }).setProtectedHeader({ alg: 'HS256', typ: 'JWT' }).setIssuedAt().setExpirationTime('2h').sign(new TextEncoder().encode(SECRET))
  const rs = await new SignJWT({ sub: OWNER, iss: issuer, aud: 'awareness' }).setProtectedHeader({ alg: 'RS256', kid: 'bench' }).setIssuedAt().setExpirationTime('2h').sign(privateKey)
  const withToken = (token: string) => () => {
    const call = legacyCall('get_stats')
    return { body: call.body, headers: { ...call.headers, authorization: `Bearer ${token}` } }
  }
  // Ten connections stay under the per-owner cap, so no request is refused with 429.
  const authEnv = { AWARENESS_AUTH_REQUIRED: 'true', AWARENESS_MAX_CONCURRENT_PER_OWNER: '64', AWARENESS_DEFAULT_OWNER: OWNER }
  try {
    for (const backend of await benchBackends()) {
      const open = await startBenchServer({ kind: 'awareness', backend, env: { AWARENESS_DEFAULT_OWNER: OWNER } })
      const selfSigned = await startBenchServer({ kind: 'awareness', backend, env: { ...authEnv, AWARENESS_JWT_SECRET: SECRET } })
      const oauth = await startBenchServer({
        kind: 'awareness',
        backend,
        env: { ...authEnv, AWARENESS_OAUTH_ISSUER: issuer, AWARENESS_OAUTH_JWKS_URI: `${issuer}/jwks`, AWARENESS_OAUTH_AUDIENCE: 'awareness' },
      })
      try {
        for (const [server, request] of [[open, () => legacyCall('get_stats')], [selfSigned, withToken(hs)], [oauth, withToken(rs)]] as const) {
          const answer = await once(server.url, request())
          if (answer.result === undefined || answer.result.isError === true) throw new Error(`get_stats failed before the benchmark: ${JSON.stringify(answer)}`)
        }
        const connections = 10
        const results = await alternate([
          { name: 'get_stats, auth off', run: () => load(open, { connections, request: () => legacyCall('get_stats') }) },
          { name: 'get_stats, self-signed HS256', run: () => load(selfSigned, { connections, request: withToken(hs) }) },
          { name: 'get_stats, OAuth RS256 (JWKS cached)', run: () => load(oauth, { connections, request: withToken(rs) }) },
        ])
        report(`authentication on ${backend}, ${connections} connections`, results, 'get_stats, auth off')
      } finally {
        await open.close()
        await selfSigned.close()
        await oauth.close()
      }
    }
  } finally {
    await new Promise<void>((ok) => issuerServer.close(() => ok()))
  }
}
