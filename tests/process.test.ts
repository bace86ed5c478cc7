/**
 * The server as a process (http-and-operations.md §1.1–§1.2): a bad configuration stops the start with
 * every problem listed; a real start serves requests; SIGTERM drains and exits 0; a second process on the
 * same embedded data directory is refused.
 */
import t from 'tap'
import { spawn, type ChildProcess } from 'node:child_process'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'

const MAIN = fileURLToPath(new URL('../app/main.ts', import.meta.url))

interface Running {
  child: ChildProcess
  output: () => string
  exited: Promise<number | null>
}

function start(env: Record<string, string>): Running {
  const child = spawn(process.execPath, ['--import', 'tsx', MAIN], { env: { PATH: process.env.PATH ?? '', AWARENESS_PORT: '0', ...env }, stdio: ['ignore', 'pipe', 'pipe'] })
  let out = ''
  child.stdout!.on('data', (d) => (out += String(d)))
  child.stderr!.on('data', (d) => (out += String(d)))
  const exited = new Promise<number | null>((ok) => child.once('exit', (code) => ok(code)))
  return { child, output: () => out, exited }
}

async function listeningUrl(r: Running, timeoutMs = 60_000): Promise<string> {
  const deadline = Date.now() + timeoutMs
  while (Date.now() < deadline) {
    const m = /Server listening at (http:\/\/127\.0\.0\.1:\d+)/.exec(r.output())
    if (m) return m[1]
    if (r.child.exitCode !== null) throw new Error(`server exited early: ${r.output()}`)
    await new Promise((ok) => setTimeout(ok, 100))
  }
  throw new Error(`server did not start: ${r.output()}`)
}

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
