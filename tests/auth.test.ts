/**
 * Authentication (http-and-operations.md §2, §9, §10, §21 B–D; decision 10): self-signed JWTs, OAuth access
 * tokens from a mock issuer on 127.0.0.1 (discovery, JWKS, userinfo), owner resolution, the 401 contract,
 * public paths and the RFC 9728 metadata — on both backends.
 */
import t, { type Test } from 'tap'
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'
import { SignJWT, UnsecuredJWT, exportJWK, exportSPKI, generateKeyPair, type CryptoKey, type JWK, type JWTPayload } from 'jose'
import { Client as ClientV1 } from '@modelcontextprotocol/sdk/client/index.js'
import { StreamableHTTPClientTransport as TransportV1 } from '@modelcontextprotocol/sdk/client/streamableHttp.js'
import { Client as ClientV2, StreamableHTTPClientTransport as TransportV2 } from '@modelcontextprotocol/client'
import { OAuthValidator } from '../auth/oauth.js'
import { insertUser } from '../store/queries/users.js'
import { buildApp } from '../app/app.js'
import { backends, captureLog, call, post, silentLogger, startServer, testConfig, uniqueOwner } from './helpers.js'

const SECRET = 'test-secret-0123456789-abcdefghijklmnop'
const LIST = { jsonrpc: '2.0', id: 1, method: 'tools/list' }
const now = () => Math.floor(Date.now() / 1000)
const enc = (s: string) => new TextEncoder().encode(s)
const AUTH_ON = { AWARENESS_AUTH_REQUIRED: 'true', AWARENESS_JWT_SECRET: SECRET }

/** A self-signed token; it expires in an hour unless the claims say otherwise (`exp: undefined`: none). */
function hs(claims: JWTPayload, opts: { alg?: string; secret?: string } = {}): Promise<string> {
  return new SignJWT('exp' in claims ? claims : { ...claims, exp: now() + 3600 }).setProtectedHeader({ alg: opts.alg ?? 'HS256', typ: 'JWT' }).sign(enc(opts.secret ?? SECRET))
}


/** 2025-era and 2026-era clients that send a bearer token on every request. */
async function clients(tt: Test, url: string, token: string): Promise<{ v1: ClientV1; v2: ClientV2 }> {
  const requestInit = { headers: { authorization: `Bearer ${token}` } }
  const v1 = new ClientV1({ name: 'auth-v1', version: '1' })
  await v1.connect(new TransportV1(new URL(url), { requestInit }))
  const v2 = new ClientV2({ name: 'auth-v2', version: '1' }, { versionNegotiation: { mode: { pin: '2026-07-28' } } })
  await v2.connect(new TransportV2(new URL(url), { requestInit }))
  tt.teardown(async () => {
    await v1.close()
    await v2.close()
  })
  return { v1, v2 }
}

/** A tiny OIDC issuer: discovery, a JWKS it can rotate, userinfo; counts every fetch. */
async function mockIssuer(tt: Test) {
  const rsa = await generateKeyPair('RS256', { extractable: true })
  const ec = await generateKeyPair('ES256', { extractable: true })
  const jwk = async (key: CryptoKey, kid: string, alg: string): Promise<JWK> => ({ ...(await exportJWK(key)), kid, alg, use: 'sig' })
  const state = {
    keys: [await jwk(rsa.publicKey, 'rsa-1', 'RS256'), await jwk(ec.publicKey, 'ec-1', 'ES256')],
    discovery: true,
    jwksUp: true,
    hits: { discovery: 0, jwks: 0, fallbackJwks: 0, userinfo: 0 },
    userinfo: new Map<string, Record<string, unknown>>(),
  }
  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    const send = (status: number, body: unknown) => res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body))
    if (req.url === '/.well-known/openid-configuration') {
      state.hits.discovery++
      return state.discovery ? send(200, { issuer: base, jwks_uri: `${base}/keys`, userinfo_endpoint: `${base}/userinfo` }) : send(500, {})
    }
    if (req.url === '/keys' || req.url === '/.well-known/jwks.json') {
      if (req.url === '/keys') state.hits.jwks++
      else state.hits.fallbackJwks++
      return state.jwksUp ? send(200, { keys: state.keys }) : send(503, {})
    }
    if (req.url === '/userinfo') {
      state.hits.userinfo++
      const info = state.userinfo.get((req.headers.authorization ?? '').slice(7))
      return info ? send(200, info) : send(401, {})
    }
    send(404, {})
  })
  await new Promise<void>((ok) => server.listen(0, '127.0.0.1', ok))
  const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`
  tt.teardown(() => new Promise<void>((ok) => server.close(() => ok())))
  const sign = (claims: JWTPayload, opts: { key?: 'rsa' | 'ec'; kid?: string; iss?: string; aud?: string | null } = {}) => {
    const which = opts.key ?? 'rsa'
    const body: JWTPayload = { iss: opts.iss ?? base, iat: now(), exp: now() + 600, ...claims }
    if (opts.aud !== null) body.aud = opts.aud ?? 'awareness'
    return new SignJWT(body).setProtectedHeader({ alg: which === 'rsa' ? 'RS256' : 'ES256', kid: opts.kid ?? `${which}-1` }).sign(which === 'rsa' ? rsa.privateKey : ec.privateKey)
  }
  return { base, state, sign, rsa, jwk }
}

const noStack = (tt: Test, text: string) => tt.notMatch(text, /\n\s+at |node_modules|Error:/, 'no stack trace or error class in the body')

for (const backend of backends()) {
  t.test(`self-signed tokens on ${backend}`, async (t) => {
    const { logger, lines } = captureLog()
    const srv = await startServer(t, { backend, env: AUTH_ON, logger })
    const alice = uniqueOwner('alice')
    const good = await hs({ sub: alice, iat: now(), exp: now() + 3600 })

    t.test('every bad credential is a 401 with the §9.2/§9.3 message', async (t) => {
      const rsa = await generateKeyPair('RS256')
      const cases: [string, string | undefined, string][] = [
        ['no header', undefined, 'Missing or invalid Authorization header'],
        ['Basic scheme', 'Basic abc', 'Missing or invalid Authorization header'],
        ['Bearer without a space', `Bearer${good}`, 'Missing or invalid Authorization header'],
        ['empty token (HTTP trims it to "Bearer")', 'Bearer ', 'Missing or invalid Authorization header'],
        ['garbage', 'Bearer x.y.z', 'Invalid token'],
        ['expired', `Bearer ${await hs({ sub: alice, exp: now() - 1 })}`, 'Token expired'],
        ['expiring this second (no leeway)', `Bearer ${await hs({ sub: alice, exp: now() })}`, 'Token expired'],
        ['not yet valid (nbf)', `Bearer ${await hs({ sub: alice, nbf: now() + 60 })}`, 'Invalid token'],
        ['issued in the future (iat)', `Bearer ${await hs({ sub: alice, iat: now() + 3600 })}`, 'Invalid token'],
        ['wrong signature', `Bearer ${await hs({ sub: alice }, { secret: `${SECRET}-other` })}`, 'Invalid token'],
        ['alg none', `Bearer ${new UnsecuredJWT({ sub: alice }).encode()}`, 'Invalid token'],
        ['other HMAC algorithm', `Bearer ${await hs({ sub: alice }, { alg: 'HS512' })}`, 'Invalid token'],
        ['RS256', `Bearer ${await new SignJWT({ sub: alice }).setProtectedHeader({ alg: 'RS256' }).sign(rsa.privateKey)}`, 'Invalid token'],
        ['no sub', `Bearer ${await hs({ exp: now() + 60 })}`, "JWT missing 'sub' claim"],
        ['empty sub', `Bearer ${await hs({ sub: '' })}`, "JWT missing 'sub' claim"],
        // Before the fix: accepted, valid for ever (audit L7).
        ['no exp', `Bearer ${await hs({ sub: alice, exp: undefined })}`, 'Invalid token'],
        ['aud present', `Bearer ${await hs({ sub: alice, aud: 'awareness' })}`, 'Invalid token'],
        ['reserved owner _system', `Bearer ${await hs({ sub: '_system' })}`, 'Invalid token'],
        ['12 KiB of garbage', `Bearer ${'a'.repeat(12 * 1024)}`, 'Invalid token'],
      ]
      for (const [name, authorization, message] of cases) {
        const r = await post(srv.url, LIST, authorization === undefined ? {} : { authorization })
        t.equal(r.status, 401, `${name}: 401`)
        t.same(r.json(), { error: message }, `${name}: body`)
        t.match(r.headers.get('content-type'), /^application\/json/)
        const challenge = r.headers.get('www-authenticate') ?? ''
        t.match(challenge, /^Bearer/, `${name}: WWW-Authenticate`)
        t.notMatch(challenge, /resource_metadata/, 'no metadata URL without an issuer (R3)')
        t.equal(challenge.includes('error="invalid_token"'), message !== 'Missing or invalid Authorization header', `${name}: error code only for a presented token`)
        noStack(t, r.text)
      }
      const huge = await fetch(srv.url, { method: 'POST', headers: { authorization: `Bearer ${'a'.repeat(1024 * 1024)}`, 'content-type': 'application/json' }, body: JSON.stringify(LIST) })
      const text = await huge.text()
      t.equal(huge.status, 431, 'a 1 MiB header is refused before authentication')
      noStack(t, text)
    })

    t.test('a valid token acts as its subject, in any scheme casing, with both client eras', async (t) => {
      for (const scheme of ['Bearer', 'bearer', 'BEARER']) t.equal((await post(srv.url, LIST, { authorization: `${scheme} ${good}` })).status, 200, scheme)
      const { v1, v2 } = await clients(t, srv.url, good)
      const written = await call(v1, 'remember', { source: 's', tags: [], description: 'owned by alice' })
      t.equal(written.isError, false)
      const [row] = await srv.store.withOwner(alice, (tx) => tx`SELECT owner_id FROM entries WHERE id = ${written.body.id}`)
      t.equal(row.owner_id, alice, 'the token subject is the owner')
      t.equal((await call(v2, 'get_stats')).body.total, 1)
      const bob = await clients(t, srv.url, await hs({ sub: uniqueOwner('bob') }))
      t.equal((await call(bob.v2, 'get_stats')).body.total, 0, 'another subject sees nothing of it')
    })

    t.test('public paths need no token; everything else does (unknown paths too)', async (t) => {
      const base = srv.url.replace(/\/mcp$/, '')
      for (const path of ['/health', '/favicon.ico', '/icons/awareness-32.svg']) t.equal((await fetch(base + path)).status, 200, path)
      t.equal((await fetch(`${base}/.well-known/oauth-protected-resource`)).status, 404, 'no issuer: metadata is 404, not 401')
      t.equal((await fetch(srv.url)).status, 401, 'GET /mcp: 401 comes before 405')
      t.equal((await fetch(srv.url, { headers: { authorization: `Bearer ${good}` } })).status, 405)
      t.equal((await fetch(`${base}/unknown`)).status, 401)
      t.equal((await fetch(`${base}/unknown`, { headers: { authorization: `Bearer ${good}` } })).status, 404)
      t.equal((await fetch(`${base}/health`, { method: 'POST' })).status, 401, 'POST /health is not the public route')
      t.equal((await post(srv.url, LIST, { origin: 'http://evil.example' })).status, 403, 'Origin is checked before auth')
    })

    t.test('401s on the MCP path are logged with a reason, never with the token', async (t) => {
      lines.length = 0
      await post(srv.url, LIST, { authorization: `Bearer ${await hs({ sub: alice, exp: now() - 5 })}` })
      await new Promise((ok) => setTimeout(ok, 50))
      const line = lines.find((l) => l.status === 401)
      t.ok(line, 'a log line for the rejection')
      t.equal(line?.reason, 'invalid token')
      t.notMatch(JSON.stringify(lines), /eyJ/, 'no token in any log line')
    })
  })

  t.test(`OAuth access tokens on ${backend}`, async (t) => {
    const idp = await mockIssuer(t)
    const env = { AWARENESS_AUTH_REQUIRED: 'true', AWARENESS_OAUTH_ISSUER: `${idp.base}/`, AWARENESS_OAUTH_AUDIENCE: 'awareness', AWARENESS_PUBLIC_URL: 'https://a.example' }
    const srv = await startServer(t, { backend, env })
    const base = srv.url.replace(/\/mcp$/, '')
    const status = async (token: string) => (await post(srv.url, LIST, { authorization: `Bearer ${token}` })).status

    t.test('signature, algorithm, issuer and audience', async (t) => {
      const sub = uniqueOwner('oidc')
      t.equal(await status(await idp.sign({ sub, email: `${sub}@x.example` })), 200, 'RS256')
      t.equal(await status(await idp.sign({ sub, email: `${sub}@x.example` }, { key: 'ec' })), 200, 'ES256')
      t.equal(await status(await idp.sign({ sub, email: `${sub}@x.example` }, { iss: `${idp.base}/` })), 200, "iss with a trailing '/' (R6)")
      t.equal(idp.state.hits.discovery, 1, 'discovery ran once, at start')
      t.equal(idp.state.hits.jwks, 1, 'the key set was fetched once and cached')
      t.equal(await status(await idp.sign({ sub }, { aud: 'someone-else' })), 401, 'wrong aud')
      t.equal(await status(await idp.sign({ sub }, { aud: null })), 401, 'no aud')
      t.equal(await status(await idp.sign({ sub }, { iss: 'http://127.0.0.1:1' })), 401, 'wrong iss')
      t.equal(await status(await idp.sign({ sub, exp: now() - 1 })), 401, 'expired')
      t.equal(await status(await idp.sign({ sub, iat: now() + 600 })), 401, 'iat in the future')
      t.equal(await status(await idp.sign({ sub: '_system' })), 401, 'reserved owner id')
      const pem = await exportSPKI(idp.rsa.publicKey)
      const confused = await new SignJWT({ sub, iss: idp.base, aud: 'awareness' }).setProtectedHeader({ alg: 'HS256', kid: 'rsa-1' }).sign(enc(pem))
      t.equal(await status(confused), 401, 'HS256 signed with the public key (algorithm confusion)')
      t.equal(await status(new UnsecuredJWT({ sub, iss: idp.base, aud: 'awareness' }).encode()), 401, 'alg none')
      const r = await post(srv.url, LIST, { authorization: `Bearer ${await idp.sign({ sub }, { aud: 'x' })}` })
      t.same(r.json(), { error: 'Invalid token' })
      t.equal(r.headers.get('www-authenticate'), 'Bearer resource_metadata="https://a.example/.well-known/oauth-protected-resource/mcp", error="invalid_token"')
    })

    t.test('unknown kid: no refetch storm', async (t) => {
      const before = idp.state.hits.jwks
      const stranger = await generateKeyPair('RS256')
      const token = await new SignJWT({ sub: 'x', iss: idp.base, aud: 'awareness', exp: now() + 60 }).setProtectedHeader({ alg: 'RS256', kid: 'rotated' }).sign(stranger.privateKey)
      const results = await Promise.all(Array.from({ length: 20 }, () => status(token)))
      t.same(new Set(results), new Set([401]))
      t.equal(idp.state.hits.jwks, before, 'the key set was fetched moments ago: no refetch within 60 s')
    })

    t.test('RFC 9728 metadata is served where WWW-Authenticate points', async (t) => {
      for (const path of ['/.well-known/oauth-protected-resource', '/.well-known/oauth-protected-resource/mcp']) {
        const r = await fetch(base + path)
        t.equal(r.status, 200, path)
        t.same(await r.json(), { resource: 'https://a.example/mcp', authorization_servers: [idp.base], bearer_methods_supported: ['header'], token_methods: ['Bearer'] })
      }
      const challenge = (await post(srv.url, LIST)).headers.get('www-authenticate') ?? ''
      const advertised = /resource_metadata="([^"]+)"/.exec(challenge)?.[1] ?? ''
      t.equal(advertised, 'https://a.example/.well-known/oauth-protected-resource/mcp')
      t.equal((await fetch(base + new URL(advertised).pathname)).status, 200, 'the advertised URL is served (R2)')
    })

    t.test('userinfo fills a missing email, once per token', async (t) => {
      const sub = uniqueOwner('wos')
      const token = await idp.sign({ sub })
      idp.state.userinfo.set(token, { email: `${sub}@corp.example`, name: 'Wos User', email_verified: true })
      const before = idp.state.hits.userinfo
      for (let i = 0; i < 3; i++) t.equal(await status(token), 200)
      t.equal(idp.state.hits.userinfo - before, 1, 'cached per token')
    })

    t.test('a pre-provisioned user is linked by canonical email; an unverified email is not', async (t) => {
      const userId = uniqueOwner('pre')
      const local = userId.replace('-', '.')
      await srv.store.system((tx) => insertUser(tx, { id: userId, email: `${local}+work@GoogleMail.com` }))
      const sub = uniqueOwner('sub')
      // Before the fix: a token with this email and no email_verified claim at all took the account (audit H2).
      const unverified = await idp.sign({ sub: uniqueOwner('sub'), email: `${local.replace('.', '')}@gmail.com` })
      t.equal(await status(unverified), 200)
      const [untouched] = await srv.store.system((tx) => tx`SELECT oauth_subject FROM users WHERE id = ${userId}`)
      t.equal(untouched.oauth_subject, null, 'an email the issuer does not say it verified claims nothing')
      const token = await idp.sign({ sub, email: `${local.replace('.', '')}@gmail.com`, email_verified: true })
      const { v1 } = await clients(t, srv.url, token)
      const written = await call(v1, 'remember', { source: 's', tags: [], description: 'linked' })
      const [entry] = await srv.store.withOwner(userId, (tx) => tx`SELECT owner_id FROM entries WHERE id = ${written.body.id}`)
      t.equal(entry?.owner_id, userId, 'the owner is the pre-provisioned user id')
      const [user] = await srv.store.system((tx) => tx`SELECT oauth_subject, oauth_issuer FROM users WHERE id = ${userId}`)
      t.same({ ...user }, { oauth_subject: sub, oauth_issuer: idp.base })
      const again = await clients(t, srv.url, await idp.sign({ sub }))
      t.equal((await call(again.v2, 'get_stats')).body.total, 1, 'a later token of the same subject finds the link without an email')

      const other = uniqueOwner('pre')
      await srv.store.system((tx) => insertUser(tx, { id: other, email: `${other}@corp.example` }))
      const sneaky = uniqueOwner('sub')
      t.equal(await status(await idp.sign({ sub: sneaky, email: `${other}@corp.example`, email_verified: false })), 200)
      const [unlinked] = await srv.store.system((tx) => tx`SELECT oauth_subject FROM users WHERE id = ${other}`)
      t.equal(unlinked.oauth_subject, null, 'email_verified: false never claims an account (R10)')
    })
  })

  t.test(`OAuth auto-provisioning and the user claim on ${backend}`, async (t) => {
    const idp = await mockIssuer(t)
    const env = { AWARENESS_AUTH_REQUIRED: 'true', AWARENESS_OAUTH_ISSUER: idp.base, AWARENESS_OAUTH_AUDIENCE: 'awareness', AWARENESS_OAUTH_AUTO_PROVISION: 'true', AWARENESS_OAUTH_USER_CLAIM: 'preferred_username', AWARENESS_PUBLIC_URL: 'https://a.example' }
    const srv = await startServer(t, { backend, env })
    const name = uniqueOwner('nick')
    const login = async (claims: JWTPayload) => (await post(srv.url, LIST, { authorization: `Bearer ${await idp.sign({ sub: `s-${name}`, preferred_username: name, email: `${name}@x.example`, ...claims })}` })).status
    t.equal(await login({}), 200)
    const read = () => srv.store.system((tx) => tx`SELECT id, email, display_name, oauth_subject, updated IS NOT NULL AS touched FROM users WHERE id = ${name}`)
    t.same((await read()).map((r) => ({ ...r })), [{ id: name, email: `${name}@x.example`, display_name: null, oauth_subject: `s-${name}`, touched: false }], 'created at first login')
    t.equal(await login({ name: 'Nick' }), 200)
    t.same((await read()).map((r) => ({ ...r })), [{ id: name, email: `${name}@x.example`, display_name: 'Nick', oauth_subject: `s-${name}`, touched: true }], 'a later login fills the missing name; still one user')
    t.equal(await login({ name: 'Other' }), 200)
    t.equal((await read())[0].display_name, 'Nick', 'a name already set is kept')
    t.equal((await post(srv.url, LIST, { authorization: `Bearer ${await idp.sign({ sub: 'no-claim' })}` })).status, 401, 'the configured claim is required')
  })
}

t.test('both modes: the self-signed message wins; well-known under a mount', async (t) => {
  const idp = await mockIssuer(t)
  const backend = backends()[0]
  const env = { ...AUTH_ON, AWARENESS_OAUTH_ISSUER: idp.base, AWARENESS_MOUNT_PATH: '/s3cret', AWARENESS_PUBLIC_URL: 'https://m.example' }
  const srv = await startServer(t, { backend, env })
  const base = srv.url.replace(/\/s3cret\/mcp$/, '')
  const r = await post(srv.url, LIST, { authorization: `Bearer ${await hs({ sub: 'a', exp: now() - 10 })}` })
  t.same(r.json(), { error: 'Token expired' })
  t.equal((await post(srv.url, LIST, { authorization: `Bearer ${await idp.sign({ sub: uniqueOwner() }, { aud: 'https://m.example/s3cret/mcp' })}` })).status, 200, 'OAuth tokens for this resource pass too')
  // Before the fix (no audience configured): tokens without aud, or for another API, were accepted.
  t.equal((await post(srv.url, LIST, { authorization: `Bearer ${await idp.sign({ sub: uniqueOwner() }, { aud: null })}` })).status, 401, 'a token without aud is refused')
  t.equal((await post(srv.url, LIST, { authorization: `Bearer ${await idp.sign({ sub: uniqueOwner() }, { aud: 'https://other-api.example' })}` })).status, 401, 'a token for another API is refused')
  t.equal((await fetch(`${base}/s3cret/health`)).status, 200, '<mount>/health is public under auth (R1)')
  t.equal((await fetch(`${base}/.well-known/oauth-protected-resource`)).status, 404, 'the bare root metadata would disclose the mount (R4)')
  for (const path of ['/.well-known/oauth-protected-resource/s3cret/mcp', '/s3cret/.well-known/oauth-protected-resource']) {
    const m = await fetch(base + path)
    t.equal(m.status, 200, path)
    t.equal(((await m.json()) as { resource: string }).resource, 'https://m.example/s3cret/mcp', 'the public URL, never the caller\'s Host (audit L12)')
  }
  t.equal((await post(srv.url, LIST)).headers.get('www-authenticate'), 'Bearer resource_metadata="https://m.example/.well-known/oauth-protected-resource/s3cret/mcp"')
  const forged = await fetch(`${base}/s3cret/.well-known/oauth-protected-resource`, { headers: { host: 'evil.example' } })
  t.equal(((await forged.json()) as { resource: string }).resource, 'https://m.example/s3cret/mcp', 'a forged Host is not reflected')
  const outside = await fetch(`${base}/elsewhere`)
  t.equal(outside.status, 401)
  t.equal(outside.headers.get('www-authenticate'), 'Bearer', 'a request outside the mount is not told where it is')
})

t.test('OAuth fails closed: no exp, an unreachable user table, a flood of forged tokens', async (t) => {
  const idp = await mockIssuer(t)
  const env = { AWARENESS_AUTH_REQUIRED: 'true', AWARENESS_OAUTH_ISSUER: idp.base, AWARENESS_OAUTH_AUDIENCE: 'awareness', AWARENESS_PUBLIC_URL: 'https://a.example' }
  const { logger, lines } = captureLog()
  const srv = await startServer(t, { backend: backends()[0], env, logger })
  // Before the fix: accepted (audit L7).
  t.equal((await post(srv.url, LIST, { authorization: `Bearer ${await idp.sign({ sub: uniqueOwner(), exp: undefined })}` })).status, 401, 'a token without exp is refused')
  const before = lines.filter((l) => l.msg === 'OAuth token rejected').length
  for (let i = 0; i < 40; i++) await post(srv.url, LIST, { authorization: `Bearer ${await idp.sign({ sub: 'x' }, { kid: `unknown-${i}` })}` })
  // Before the fix: 40 forged tokens wrote 40 warn lines (audit L6).
  t.ok(lines.filter((l) => l.msg === 'OAuth token rejected').length - before <= 1, 'rejections are logged at most once per 10 s')

  // The users table cannot be asked: before the fix the request ran as the raw claim (audit L8).
  const app = await buildApp({ config: testConfig(env), logger: silentLogger(), getServices: () => Promise.reject(new Error('database down')) })
  t.teardown(() => app.close())
  const down = await app.inject({ method: 'POST', url: '/mcp', headers: { authorization: `Bearer ${await idp.sign({ sub: uniqueOwner() })}`, 'content-type': 'application/json', accept: 'application/json, text/event-stream' }, payload: LIST })
  t.equal(down.statusCode, 503, 'answered 503, never as another owner')
  t.equal(down.headers['retry-after'], '5')
  t.same(down.json(), { error: 'Authentication is unavailable right now; retry shortly' })
})

t.test('auth off with an issuer: metadata is served, nothing is validated', async (t) => {
  const idp = await mockIssuer(t)
  const srv = await startServer(t, { backend: backends()[0], env: { AWARENESS_OAUTH_ISSUER: idp.base, AWARENESS_PUBLIC_URL: 'https://a.example' } })
  const r = await fetch(srv.url.replace(/\/mcp$/, '/.well-known/oauth-protected-resource'))
  t.equal(r.status, 200, 'parity: the metadata exists whenever an issuer is configured')
  t.equal((await post(srv.url, LIST)).status, 200, 'no token needed')
  t.equal((await post(srv.url, LIST, { authorization: 'Bearer garbage' })).status, 200, 'a token is not even looked at')
  t.equal(idp.state.hits.discovery + idp.state.hits.jwks, 0, 'no validator, so no discovery and no key fetch')
})

t.test('JWKS cache: TTL, unknown-kid refetch at most once a minute, discovery fallback', async (t) => {
  const idp = await mockIssuer(t)
  let clock = Date.now()
  const log = { debug() {}, info() {}, warn() {}, error() {} }
  const validator = new OAuthValidator({ issuer: idp.base, audience: '', jwksUri: '', userClaim: 'sub', autoProvision: false }, { log, now: () => clock })
  validator.start()
  const ok = async (token: string) => (await validator.validate(token)).ok
  t.equal(await ok(await idp.sign({ sub: 'a' })), true)
  const rotated = await generateKeyPair('ES256', { extractable: true })
  const rotatedToken = await new SignJWT({ sub: 'b', iss: idp.base, exp: now() + 600 }).setProtectedHeader({ alg: 'ES256', kid: 'ec-2' }).sign(rotated.privateKey)
  idp.state.keys.push(await idp.jwk(rotated.publicKey, 'ec-2', 'ES256'))
  t.equal(await ok(rotatedToken), false, 'a new kid within 60 s of the last fetch is not refetched')
  t.equal(idp.state.hits.jwks, 1)
  clock += 61_000
  const burst = await Promise.all(Array.from({ length: 10 }, () => ok(rotatedToken)))
  t.same(new Set(burst), new Set([true]), 'after the cooldown the rotated key is found')
  t.equal(idp.state.hits.jwks, 2, 'concurrent refreshes collapse into one fetch')
  const unknown = await new SignJWT({ sub: 'c', iss: idp.base, exp: now() + 600 }).setProtectedHeader({ alg: 'ES256', kid: 'nope' }).sign(rotated.privateKey)
  clock += 61_000
  for (let i = 0; i < 5; i++) t.equal(await ok(unknown), false)
  t.equal(idp.state.hits.jwks, 3, 'five unknown-kid tokens: one refetch')
  clock += 3_600_000
  idp.state.jwksUp = false
  t.equal(await ok(await idp.sign({ sub: 'a' })), true, 'stale keys keep working while the issuer is down')
  t.equal(idp.state.hits.jwks, 4, 'the TTL refresh was attempted')
  for (let i = 0; i < 5; i++) await ok(await idp.sign({ sub: 'a' }))
  t.equal(idp.state.hits.jwks, 4, 'a failed refresh is not retried before the cooldown')

  idp.state.discovery = false
  const fallback = new OAuthValidator({ issuer: `${idp.base}/`, audience: '', jwksUri: '', userClaim: 'sub', autoProvision: false }, { log })
  fallback.start()
  idp.state.jwksUp = true
  t.equal(await (async () => (await fallback.validate(await idp.sign({ sub: 'a' }))).ok)(), true, 'discovery failed: <issuer>/.well-known/jwks.json')
  t.equal(idp.state.hits.fallbackJwks, 1)
})
