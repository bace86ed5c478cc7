/**
 * No data in errors or logs (security audit L2, L3): resources and prompts answer generic errors as tools do,
 * and a failure's log line carries no stored or searched values.
 */
import t from 'tap'
import { backends, captureLog, post, startServer } from './helpers.js'

for (const backend of backends()) {
  t.test(`generic errors on ${backend}`, async (t) => {
    const { logger, lines } = captureLog()
    const srv = await startServer(t, { backend, logger })
    // Before the fix (the audit's reproduction): answered -32603 "invalid byte sequence for encoding \"UTF8\": 0x00" and logged nothing.
    const resource = await post(srv.url, { jsonrpc: '2.0', id: 1, method: 'resources/read', params: { uri: 'awareness://status/abc%00def' } })
    const error = (resource.json() as { error?: { code: number; message: string } }).error
    t.equal(error?.code, -32603)
    t.equal(error?.message, 'Internal error; it has been logged')
    // Before the fix (the audit's reproduction): answered "unsupported Unicode escape sequence".
    const prompt = await post(srv.url, { jsonrpc: '2.0', id: 2, method: 'prompts/get', params: { name: 'project_context', arguments: { repo_name: 'a\u0000b' } } })
    t.notMatch(prompt.text, /Unicode escape|encoding|UTF8|0x00/, 'no driver text in the answer')
    const logged = lines.filter((l) => l.msg === 'MCP request failed unexpectedly')
    t.ok(logged.length >= 1, 'the failure is logged')
    for (const line of logged) t.notMatch(JSON.stringify(line), /abc.{0,8}def|"detail"/, 'without the value or the driver detail')
  })
}
