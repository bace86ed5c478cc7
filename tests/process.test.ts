/**
 * The server as a process (http-and-operations.md §1.1–§1.2): a bad configuration stops the start with
 * every problem listed; a real start serves requests; SIGTERM drains and exits 0; a second process on the
 * same embedded data directory is refused.
 */
import t from 'tap'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { listeningUrl, startProcess as start } from './fixtures/server-process.js'

t.test('an invalid configuration exits 1 and lists every problem at once', async (t) => {
  const r = start({ AWARENESS_PORT: 'eighty', AWARENESS_AUTH_REQUIRED: 'true', AWARENESS_TRANSPORT: 'stdio' })
  t.equal(await r.exited, 1)
  const out = r.output()
  t.match(out, /AWARENESS_PORT/)
  t.match(out, /AWARENESS_JWT_SECRET/)
  t.match(out, /AWARENESS_OAUTH_ISSUER/)
  t.match(out, /AWARENESS_TRANSPORT/)
  t.notMatch(out, /\n\s+at /, 'no stack trace')
})

t.test('a real start serves MCP; SIGTERM shuts down cleanly; one process per data directory', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'awareness-proc-'))
  t.teardown(() => rmSync(dir, { recursive: true, force: true }))
  const r = start({ AWARENESS_DATA_DIR: dir, AWARENESS_DEFAULT_OWNER: 'proc-test' })
  t.teardown(() => r.child.kill('SIGKILL'))
  const base = await listeningUrl(r)
  const health = await fetch(`${base}/health`)
  t.equal(health.status, 200)
  t.equal(((await health.json()) as { database: string }).database, 'up')
  const res = await fetch(`${base}/mcp`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', accept: 'application/json, text/event-stream' },
    body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'tools/call', params: { name: 'remember', arguments: { source: 's', tags: [], description: 'survives a restart' } } }),
  })
  t.equal(res.status, 200)

  const second = start({ AWARENESS_DATA_DIR: dir })
  t.equal(await second.exited, 1, 'a second process on the same data directory is refused')
  t.match(second.output(), /in use by process/)

  r.child.kill('SIGTERM')
  t.equal(await r.exited, 0, 'SIGTERM exits 0')
  t.match(r.output(), /shutdown requested/)
  t.match(r.output(), /"stopped"/)

  const again = start({ AWARENESS_DATA_DIR: dir, AWARENESS_DEFAULT_OWNER: 'proc-test' })
  t.teardown(() => again.child.kill('SIGKILL'))
  const base2 = await listeningUrl(again)
  const list = await fetch(`${base2}/mcp`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', accept: 'application/json, text/event-stream' },
    body: JSON.stringify({ jsonrpc: '2.0', id: 2, method: 'tools/call', params: { name: 'get_knowledge', arguments: {} } }),
  })
  const body = (await list.json()) as { result: { content: { text: string }[] } }
  t.equal(JSON.parse(body.result.content[0].text).entries[0].data.description, 'survives a restart', 'data persisted in the directory')
  again.child.kill('SIGINT')
  t.equal(await again.exited, 0, 'SIGINT exits 0 too')
})
