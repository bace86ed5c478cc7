/**
 * The HTTP contract of the MCP endpoint (http-and-operations.md §3–§5, §8, §12, §21 A; decisions 1, 12–14):
 * every status code and body, both protocol eras on one URL, and the request log line.
 */
import t from 'tap'
import { request } from 'node:http'
import { backends, captureLog, clientV1, clientV2, post, startServer } from './helpers.js'

const INIT = { jsonrpc: '2.0', id: 1, method: 'initialize', params: { protocolVersion: '2025-06-18', capabilities: {}, clientInfo: { name: 'curl', version: '1' } } }
const LIST = { jsonrpc: '2.0', id: 2, method: 'tools/list' }


const backend = backends()[0]

/** fetch() cannot set Host (a forbidden header), so this goes through node:http. */
function rawPost(url: string, body: unknown, host: string): Promise<number> {
  return new Promise((ok, fail) => {
    const req = request(url, { method: 'POST', headers: { host, 'content-type': 'application/json', accept: 'application/json, text/event-stream' } }, (res) => {
      res.resume()
      res.on('end', () => ok(res.statusCode ?? 0))
    })
    req.on('error', fail)
    req.end(JSON.stringify(body))
  })
}

t.test('POST /mcp: both protocol eras on one URL, stateless', async (t) => {
  const srv = await startServer(t, { backend })
  const init = await post(srv.url, INIT)
  t.equal(init.status, 200)
  t.match(init.headers.get('content-type'), /application\/json/, '2025-era answers are JSON (decision 14)')
  t.equal(init.headers.get('mcp-session-id'), null, 'no session id, ever')
  const result = (init.json() as { result: { serverInfo: { name: string; version: string }; protocolVersion: string; instructions: string; capabilities: object } }).result
  t.equal(result.serverInfo.name, 'mcp-awareness')
  t.match(result.serverInfo.version, /^\d+\.\d+\.\d+/)
  t.equal(result.protocolVersion, '2025-06-18')
  t.ok(result.instructions.length > 200)
  t.same(Object.keys(result.capabilities).sort(), ['prompts', 'resources', 'tools'])
  const old = await post(srv.url, { ...INIT, params: { ...INIT.params, protocolVersion: '1999-01-01' } })
  t.match((old.json() as { result: { protocolVersion: string } }).result.protocolVersion, /^20\d\d-/, 'unknown version → a supported one')
  const list = await post(srv.url, LIST, { 'mcp-session-id': 'stale-from-before' })
  t.equal(list.status, 200, 'no initialize needed; a stale session id is ignored')
  t.ok((list.json() as { result: { tools: unknown[] } }).result.tools.length >= 4)
  const note = await post(srv.url, { jsonrpc: '2.0', method: 'notifications/initialized' })
  t.equal(note.status, 202)
  t.equal(note.text, '')
  const unknown = await post(srv.url, { jsonrpc: '2.0', id: 7, method: 'nope/nope' })
  t.equal(unknown.status, 200)
  t.same((unknown.json() as { error: { code: number }; id: number }).error.code, -32601)
  t.equal((unknown.json() as { id: number }).id, 7)
  const parallel = await Promise.all(Array.from({ length: 10 }, () => post(srv.url, LIST)))
  t.same(parallel.map((r) => r.status), Array(10).fill(200), 'ten parallel POSTs are independent')
})

t.test('2025-era (v1) and 2026-07-28 (v2) SDK clients list the same tools', async (t) => {
  const srv = await startServer(t, { backend })
  const v1 = await clientV1(t, srv.url)
  const v2 = await clientV2(t, srv.url)
  const a = await v1.listTools()
  const b = await v2.listTools()
  t.same(b.tools.map((x) => x.name), a.tools.map((x) => x.name))
  for (const tool of a.tools) {
    t.ok(tool.title && tool.description && tool.inputSchema.type === 'object' && tool.annotations, `${tool.name} has title, description, schema, annotations`)
    t.match(tool.description, /structured JSON/)
  }
})

t.test('HTTP-level refusals are JSON-RPC error bodies', async (t) => {
  const srv = await startServer(t, { backend })
  const bodyOf = (r: { json: () => unknown }) => r.json() as { jsonrpc: string; error: { code: number; message: string }; id: null }
  const noAccept = await fetch(srv.url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(LIST) })
  t.equal(noAccept.status, 406)
  t.equal(((await noAccept.json()) as { error: { code: number } }).error.code, -32000)
  const jsonOnly = await post(srv.url, LIST, { accept: 'application/json' })
  t.equal(jsonOnly.status, 406)
  for (const type of ['text/plain', 'application/x-www-form-urlencoded']) {
    const r = await post(srv.url, 'x=1', { 'content-type': type })
    t.equal(r.status, 415, `${type} → 415`)
    t.equal(bodyOf(r).error.code, -32000)
    t.equal(bodyOf(r).jsonrpc, '2.0')
  }
  const charset = await post(srv.url, LIST, { 'content-type': 'application/json; charset=utf-8' })
  t.equal(charset.status, 200, 'media type parameters are fine')
  for (const body of ['{not json', '']) {
    const r = await post(srv.url, body)
    t.equal(r.status, 400)
    t.equal(bodyOf(r).error.code, -32700)
  }
  const notRpc = await post(srv.url, { foo: 1 })
  t.equal(notRpc.status, 400)
  // Valid JSON that is not a JSON-RPC message: SDK v2 answers -32600 (JSON-RPC's "Invalid Request"), where the
  // 1.x SDK the spec quotes answered -32700; we keep the SDK's (more precise) code.
  t.equal(bodyOf(notRpc).error.code, -32600)
  const batch = await post(srv.url, Array.from({ length: 101 }, (_, i) => ({ jsonrpc: '2.0', id: i, method: 'ping' })))
  t.equal(batch.status, 400)
  t.equal(bodyOf(batch).error.code, -32600)
  const badVersion = await post(srv.url, LIST, { 'mcp-protocol-version': '1999-01-01' })
  t.equal(badVersion.status, 400)
  t.equal((await post(srv.url, LIST, { 'mcp-protocol-version': '2025-06-18' })).status, 200)
  const big = await post(srv.url, JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'ping', params: { pad: 'x'.repeat(4 * 1024 * 1024) } }))
  t.equal(big.status, 413)
  t.equal(bodyOf(big).error.code, -32000)
  t.equal(bodyOf(big).id, null)
})

t.test('every other method on /mcp answers 405 at once, never a held stream', async (t) => {
  const srv = await startServer(t, { backend })
  for (const method of ['GET', 'DELETE', 'PUT', 'PATCH', 'OPTIONS', 'HEAD']) {
    const started = performance.now()
    const r = await fetch(srv.url, { method, headers: { accept: 'text/event-stream' }, signal: AbortSignal.timeout(3000) })
    t.equal(r.status, 405, `${method} → 405`)
    t.equal(r.headers.get('allow'), 'POST')
    t.notMatch(r.headers.get('content-type') ?? '', /event-stream/)
    if (method !== 'HEAD') t.same(await r.json(), { jsonrpc: '2.0', error: { code: -32000, message: 'Method not allowed.' }, id: null })
  }
})

t.test('Origin and Host validation (decision 12)', async (t) => {
  const srv = await startServer(t, { backend })
  const evil = await post(srv.url, LIST, { origin: 'http://evil.example' })
  t.equal(evil.status, 403)
  t.same(evil.json(), { jsonrpc: '2.0', error: { code: -32000, message: 'Forbidden: invalid Origin' }, id: null })
  t.equal((await post(srv.url, LIST, { origin: 'http://localhost:6274' })).status, 200)
  t.equal((await post(srv.url, LIST, { origin: 'http://[::1]:3000' })).status, 200)
  t.equal((await post(srv.url, LIST)).status, 200, 'no Origin (CLI tools) is fine')
  const rebound = await rawPost(srv.url, LIST, 'attacker.example:8420')
  t.equal(rebound, 403, 'a non-loopback Host on a loopback bind is refused')
  t.equal(await rawPost(srv.url, LIST, 'localhost:8420'), 200)
  const allowed = await startServer(t, { backend, env: { AWARENESS_ALLOWED_ORIGINS: 'https://app.example', AWARENESS_PUBLIC_URL: 'https://awareness.example' } })
  t.equal((await post(allowed.url, LIST, { origin: 'https://app.example' })).status, 200)
  t.equal((await post(allowed.url, LIST, { origin: 'https://awareness.example' })).status, 200)
  t.equal((await post(allowed.url, LIST, { origin: 'https://app.example.evil' })).status, 403)
  const open = await startServer(t, { backend, env: { AWARENESS_ALLOWED_ORIGINS: '*' } })
  t.equal((await post(open.url, LIST, { origin: 'http://evil.example' })).status, 200, '* disables the check')
})

t.test('mount path: only mounted routes exist', async (t) => {
  const srv = await startServer(t, { backend, env: { AWARENESS_MOUNT_PATH: 's3cret/' } })
  const base = srv.url.replace('/s3cret/mcp', '')
  t.equal((await fetch(`${base}/s3cret/health`)).status, 200)
  t.equal((await fetch(`${base}/health`)).status, 404)
  t.equal((await post(`${base}/mcp`, LIST)).status, 404)
  t.equal((await post(`${base}/s3cret/mcp`, LIST)).status, 200)
  t.equal((await post(`${base}/s3cret/mcp/`, LIST)).status, 200, 'a trailing slash is the same route')
  t.equal((await post(`${base}/s3cretX/mcp`, LIST)).status, 404, 'a segment boundary is required')
  t.equal((await fetch(`${base}/s3cret/other`)).status, 404)
  t.equal((await fetch(`${base}/favicon.ico`)).status, 200, 'public assets stay at the root')
  t.equal((await fetch(`${base}/icons/awareness-32.svg`)).status, 200)
})

t.test('health: status, version, uptime and database', async (t) => {
  const srv = await startServer(t, { backend })
  const base = srv.url.replace('/mcp', '')
  const r = await fetch(`${base}/health`)
  t.equal(r.status, 200)
  const h = (await r.json()) as { status: string; version: string; uptime: number; uptime_sec: number; database: string; timestamp: string; transport: string }
  t.equal(h.status, 'ok')
  t.equal(h.database, 'up')
  t.equal(h.transport, 'streamable-http')
  t.type(h.uptime, 'number')
  t.ok(h.uptime >= 0)
  t.ok(Number.isFinite(Date.parse(h.timestamp)))
  t.equal((await fetch(`${base}/health`, { method: 'HEAD' })).status, 200)
  t.equal((await fetch(`${base}/nope`)).status, 404)
  t.equal((await fetch(`${base}/.well-known/oauth-protected-resource`)).status, 404, 'no issuer, no metadata')
})

t.test('health answers 503 when the database is unreachable', async (t) => {
  const { buildApp } = await import('../app/app.js')
  const { testConfig, silentLogger } = await import('./helpers.js')
  const app = await buildApp({ config: testConfig(), logger: silentLogger(), getServices: () => Promise.reject(new Error('connection refused')) })
  t.teardown(() => app.close())
  const r = await app.inject({ method: 'GET', url: '/health' })
  t.equal(r.statusCode, 503)
  t.equal(r.json().database, 'down')
  const call = await app.inject({
    method: 'POST',
    url: '/mcp',
    headers: { 'content-type': 'application/json', accept: 'application/json, text/event-stream' },
    payload: { jsonrpc: '2.0', id: 1, method: 'tools/call', params: { name: 'get_stats', arguments: {} } },
  })
  const result = call.json().result
  t.equal(result.isError, true, 'a tool call without a database is a structured, retryable error')
  const envelope = JSON.parse(result.content[0].text)
  t.equal(envelope.error.code, 'unavailable', 'the catalogue\'s retryable "not there right now" code, not internal_error')
  t.equal(envelope.error.retryable, true)
  t.notMatch(envelope.error.message, /refused/, 'no driver detail leaks (D2)')
})

t.test('one request log line per request, without arguments or bodies', async (t) => {
  const { logger, lines } = captureLog()
  const srv = await startServer(t, { backend, logger, env: { AWARENESS_MOUNT_PATH: '/hidden-mount' } })
  await post(srv.url, { jsonrpc: '2.0', id: 3, method: 'tools/call', params: { name: 'remember', arguments: { source: 's', tags: [], description: 'SECRET-ARGUMENT-VALUE' } } })
  await fetch(srv.url, { method: 'GET' })
  await post(srv.url, LIST, { origin: 'http://evil.example' })
  await new Promise((r) => setTimeout(r, 50))
  const requestLines = lines.filter((l) => typeof l.msg === 'string' && (l.msg as string).startsWith('MCP '))
  t.equal(requestLines.length, 3, 'one line per request')
  const [callLine, getLine, refused] = requestLines
  t.match(callLine, { method: 'POST', path: '/mcp', status: 200, rpcMethod: 'tools/call', tool: 'remember', isError: false, owner: srv.owner, client: '127.0.0.1' })
  t.type(callLine.durationMs, 'number')
  t.type(callLine.toolMs, 'number', "the tool's own duration is on the request's line")
  t.type(callLine.reqId, 'string')
  t.notOk('session' in callLine, 'a stateless request has no session to log')
  t.match(callLine.msg, /^MCP POST \/mcp client=127\.0\.0\.1 status=200$/)
  t.equal(lines.filter((l) => l.msg === 'tool call').length, 0, 'one info line per tool call, not two')
  t.match(getLine, { method: 'GET', status: 405 })
  t.match(refused, { status: 403, reason: 'origin not allowed' })
  const all = JSON.stringify(lines)
  t.notMatch(all, /SECRET-ARGUMENT-VALUE/, 'tool arguments never logged')
  t.notMatch(all, /hidden-mount/, 'the mount path never logged')

  const stats = (id: number) => ({ jsonrpc: '2.0', id, method: 'tools/call', params: { name: 'get_stats', arguments: {} } })
  await post(srv.url, [stats(4), { jsonrpc: '2.0', id: 5, method: 'tools/call', params: { name: 'get_knowledge', arguments: { limit: 'x' } } }], { 'mcp-session-id': 'a-client-that-insists-on-sessions' })
  await new Promise((r) => setTimeout(r, 50))
  const batchLine = lines.filter((l) => typeof l.msg === 'string' && (l.msg as string).startsWith('MCP ')).at(-1)!
  t.match(batchLine, { tools: ['get_stats', 'get_knowledge'], isError: true, session: 'a-client-tha…' }, 'a batch: its tools, and whether any answered an error')
  t.match(batchLine.msg, /^MCP POST \/mcp session=a-client-tha… client=/)
})
