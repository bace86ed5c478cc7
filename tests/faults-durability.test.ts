/**
 * Nothing acknowledged is lost on the embedded database (audit H5): the server is killed at random points
 * of heavy writing, several times, and after each kill the directory is checked with amcheck and a full
 * read; and when the database's thread dies, the process exits for a restart instead of failing every call.
 * `npm run bench -- faults` runs the long kill loop.
 */
import t from 'tap'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { setTimeout as sleep } from 'node:timers/promises'
import { checkEmbeddedIntegrity } from './fixtures/embedded-integrity.js'
import { killLoop } from './fixtures/kill-loop.js'
import { connect } from '../store/connect.js'
import { callTool, listeningUrl, startProcess } from './fixtures/server-process.js'

const TERMINATE_THREAD = fileURLToPath(new URL('./fixtures/terminate-embedded-thread.mjs', import.meta.url))

t.test('kill -9 during heavy writing loses no acknowledged write and corrupts nothing', async (t) => {
  const dataDir = mkdtempSync(join(tmpdir(), 'awareness-kill-'))
  t.teardown(() => rmSync(dataDir, { recursive: true, force: true }))
  const report = await killLoop({ dataDir, rounds: 3, writers: 8, log: (line) => t.comment(line) })
  t.comment(`rounds ${report.rounds}, acknowledged ${report.acknowledged}, present ${report.present}, lost ${report.lost.length}`)
  t.ok(report.acknowledged >= report.rounds * 8, `the writers got a real load through (${report.acknowledged} acknowledged)`)
  t.same(report.lost, [], 'every acknowledged write is present')
  t.same(report.problems, [], 'amcheck and the full read find nothing wrong')
})

t.test('the embedded database runs with fsync on by default, PGlite\'s no-fsync only when asked', async (t) => {
  for (const fsync of [undefined, false]) {
    const dataDir = mkdtempSync(join(tmpdir(), 'awareness-fsync-'))
    t.teardown(() => rmSync(dataDir, { recursive: true, force: true }))
    const conn = await connect({ databaseUrl: '', dataDir, embedded: fsync === undefined ? {} : { fsync } }, { applicationName: 'fsync-test', maxConnections: 1 })
    try {
      const [row] = await conn.sql<{ fsync: string; method: string }[]>`SELECT current_setting('fsync') AS fsync, current_setting('wal_sync_method') AS method`
      // PGlite 0.5's own start parameters include -F: fsync off, which is what the false case keeps.
      if (fsync === undefined) t.same(row, { fsync: 'on', method: 'fsync' }, 'durable by default: fsync on, WAL flushed with fsync()')
      else t.equal(row?.fsync, 'off', 'AWARENESS_EMBEDDED_FSYNC=false keeps PGlite\'s default')
    } finally {
      await conn.close()
    }
  }
})

t.test('the embedded database thread dies: calls answer unavailable, the process exits 1, a restart recovers', async (t) => {
  const dataDir = mkdtempSync(join(tmpdir(), 'awareness-thread-'))
  t.teardown(() => rmSync(dataDir, { recursive: true, force: true }))
  const env = { AWARENESS_DATA_DIR: dataDir, AWARENESS_DEFAULT_OWNER: 'thread-test' }
  const server = startProcess(env, { nodeArgs: ['--import', TERMINATE_THREAD] })
  t.teardown(() => server.child.kill('SIGKILL'))
  const base = await listeningUrl(server)
  const acknowledged: string[] = []
  const outcomes: string[] = []
  let stop = false
  const writer = async (w: number): Promise<void> => {
    for (let n = 0; !stop; n++) {
      const r = await callTool(base, 'remember', { source: 'thread', tags: [], description: `writer ${w} note ${n}` })
      if (r.status === 0) return // the process has gone
      if (r.body?.status === 'ok') acknowledged.push(r.body.id as string)
      else outcomes.push(`${r.status} ${(r.body?.error as { code?: string } | undefined)?.code ?? 'no envelope'}`)
    }
  }
  const writers = Array.from({ length: 4 }, (_, w) => writer(w))
  await sleep(500)
  server.child.kill('SIGUSR2')
  // Before the fix the process kept running with a dead database and every later call failed: run against
  // that code, this test timed out after 60 s still waiting for an exit.
  t.equal(await server.exited, 1, 'the process exits 1 for its supervisor to restart it')
  stop = true
  await Promise.all(writers)
  t.match(server.output(), /the embedded database stopped; exiting for a restart/)
  // A call the thread's death caught answers `unavailable`; one arriving while the server closes gets
  // Fastify's 503 for a closing server. Never a 500, never an "ok" that was not written.
  t.same([...new Set(outcomes)].filter((o) => o !== '200 unavailable' && !o.startsWith('503 ')), [], 'only unavailable answers and closing-server 503s')
  t.comment(`acknowledged ${acknowledged.length} before the thread died; failed answers: ${outcomes.length}`)

  const again = startProcess(env)
  t.teardown(() => again.child.kill('SIGKILL'))
  const base2 = await listeningUrl(again)
  const health = await fetch(`${base2}/health`)
  t.equal(health.status, 200, 'the restarted process serves')
  again.child.kill('SIGTERM')
  t.equal(await again.exited, 0)
  const report = await checkEmbeddedIntegrity(dataDir)
  t.same(acknowledged.filter((id) => !report.entryIds.has(id)), [], 'every acknowledged write survived')
  t.same(report.problems, [])
})
