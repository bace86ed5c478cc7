/**
 * The embedded data directory's lock dies with its holder (audit H3, L9): a lock file left by any earlier
 * process — even one naming the PID the new process will have, as after every unclean stop in a
 * container — never blocks a start; two processes starting at the same moment never both open the
 * directory; a live server always refuses a second one.
 */
import t, { type Test } from 'tap'
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { DataDirInUseError, LOCK_FILE, lockDataDir } from '../store/data-dir-lock.js'
import { callTool, listeningUrl, startProcess, type Running } from './fixtures/server-process.js'

function tempDir(t: Test, prefix: string): string {
  const dir = mkdtempSync(join(tmpdir(), prefix))
  t.teardown(() => rmSync(dir, { recursive: true, force: true }))
  return dir
}

const OWNER = { AWARENESS_DEFAULT_OWNER: 'lock-test' }

t.test('one holder at a time within a process; a stale file, even naming this process, is no obstacle', async (t) => {
  const dir = tempDir(t, 'awareness-lock-')
  writeFileSync(join(dir, LOCK_FILE), `${process.pid}\n`) // what a PID-1 restart in a container finds
  const release = lockDataDir(dir)
  t.equal(readFileSync(join(dir, LOCK_FILE), 'utf8'), `${process.pid}\n`, 'the holder names itself for the refusal message')
  t.throws(() => lockDataDir(dir), DataDirInUseError, 'a second open of the same directory is refused while the first holds it')
  release()
  release() // idempotent
  const again = lockDataDir(dir)
  t.pass('released, it can be taken again')
  again()
})

t.test('a lock file naming the new process itself does not block its start (H3: node is PID 1 in a container)', async (t) => {
  const dir = tempDir(t, 'awareness-pid1-')
  // The shell writes its own PID into the lock and then becomes node with that PID: exactly what a
  // restarted container sees after an unclean stop. Before the fix the start failed with "in use by
  // process N", N being the new process's own PID (the audit's reproduction; this test exited 1 on the
  // old code).
  const r = startProcess({ AWARENESS_DATA_DIR: dir, ...OWNER }, { shell: `echo $$ > "${join(dir, LOCK_FILE)}"; exec "$@"` })
  t.teardown(() => r.child.kill('SIGKILL'))
  const base = await listeningUrl(r)
  const saved = await callTool(base, 'remember', { source: 'lock', tags: [], description: 'after a PID-1 restart' })
  t.equal(saved.body?.status, 'ok', 'the server started and writes')
  r.child.kill('SIGTERM')
  t.equal(await r.exited, 0)
})

t.test('after kill -9 the next start opens the directory; two simultaneous starters never both open it', async (t) => {
  const dir = tempDir(t, 'awareness-race-')
  const first = startProcess({ AWARENESS_DATA_DIR: dir, ...OWNER })
  t.teardown(() => first.child.kill('SIGKILL'))
  await listeningUrl(first)
  first.child.kill('SIGKILL')
  await first.exited

  const racers: Running[] = [startProcess({ AWARENESS_DATA_DIR: dir, ...OWNER }), startProcess({ AWARENESS_DATA_DIR: dir, ...OWNER })]
  for (const r of racers) t.teardown(() => r.child.kill('SIGKILL'))
  const outcomes = await Promise.all(racers.map((r) => listeningUrl(r).then((url) => ({ url }), () => ({ url: undefined }))))
  const winners = outcomes.filter((o) => o.url !== undefined)
  t.equal(winners.length, 1, 'exactly one of two simultaneous starters serves')
  const loser = racers[outcomes.findIndex((o) => o.url === undefined)]
  t.equal(await loser.exited, 1, 'the other exits 1')
  t.match(loser.output(), /in use by process \d+/, 'naming the holder')
  const list = await callTool(winners[0].url!, 'get_knowledge', {})
  t.equal(list.body?.status ?? 'ok', 'ok', 'the winner serves the data the killed process left')
})
