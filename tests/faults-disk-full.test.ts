/**
 * Disk full on the embedded backend: the data directory is a small tmpfs (mounted here, so the test needs
 * root and a kernel that lets it mount; otherwise it is skipped with the reason). 20 KB notes are written
 * until the server refuses one; then a refused write must have changed nothing, reads, search and /health
 * must keep working, and once the tmpfs is grown writes must succeed again without a restart. Finally the
 * stopped data directory is checked with amcheck and every acknowledged note must be in it.
 *
 * Before the free-space reserve (store/disk-space.ts) this was fatal. Measured with the reserve at 0, which
 * is the old code's behaviour: write 194 (the one that hit ENOSPC) had no answer within 30 s, and the
 * database thread spun at 100% CPU until the process was killed. With the reserve on but free space
 * measured once a second, writes of 5 ms each outran it: write 193 had no answer within 30 s.
 */
import t from 'tap'
import { execFileSync } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { mkdtempSync, rmSync, statfsSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { checkEmbeddedIntegrity } from './fixtures/embedded-integrity.js'
import { callTool, listeningUrl, startProcess, type CallOutcome } from './fixtures/server-process.js'

/** A fresh data directory takes ~40 MB; 80 MB leaves room for ~120 notes above a 24 MB reserve. */
const TMPFS_MB = 80
const GROWN_MB = 200
/** Above one 16 MB WAL segment, which PGlite creates whole; the production default is 64. */
const RESERVE_MB = 24
const MAX_WRITES = 1_000
/** A call that does not answer within this is the hang the reserve exists to prevent. */
const CALL_BOUND_MS = 30_000

const mountPoint = mkdtempSync(join(tmpdir(), 'awareness-diskfull-'))
const mount = (...args: string[]) => execFileSync('mount', args, { stdio: 'pipe' })
let mounted = false
let skip: string | false = false
if (process.getuid?.() !== 0) skip = 'mounting a tmpfs needs root'
else {
  try {
    mount('-t', 'tmpfs', '-o', `size=${TMPFS_MB}m`, 'tmpfs', mountPoint)
    mounted = true
  } catch (error) {
    skip = `cannot mount a tmpfs here: ${String((error as { stderr?: Buffer }).stderr ?? error).trim()}`
  }
}
t.teardown(() => {
  if (mounted) execFileSync('umount', ['-l', mountPoint])
  rmSync(mountPoint, { recursive: true, force: true })
})

async function bounded(call: Promise<CallOutcome>, what: string): Promise<CallOutcome> {
  let timer: NodeJS.Timeout | undefined
  const timeout = new Promise<never>((_, fail) => (timer = setTimeout(() => fail(new Error(`${what}: no answer within ${CALL_BOUND_MS} ms`)), CALL_BOUND_MS)))
  try {
    return await Promise.race([call, timeout])
  } finally {
    clearTimeout(timer)
  }
}

const note = (n: number) => ({ source: 'disk', tags: ['disk'], description: `note ${n}`, content: randomBytes(15_000).toString('base64') })

t.test('embedded: a full disk refuses writes clearly, keeps reads, and recovers when space returns', { skip }, async (t) => {
  const dataDir = join(mountPoint, 'data')
  const server = startProcess({ AWARENESS_DATA_DIR: dataDir, AWARENESS_DEFAULT_OWNER: 'disk', AWARENESS_EMBEDDING_PROVIDER: 'none', AWARENESS_EMBEDDED_MIN_FREE_MB: String(RESERVE_MB) })
  t.teardown(() => server.child.kill('SIGKILL'))
  const base = await listeningUrl(server)

  const acknowledged: string[] = []
  let refusal: CallOutcome | undefined
  for (let n = 0; n < MAX_WRITES && refusal === undefined; n++) {
    const r = await bounded(callTool(base, 'remember', note(n)), `write ${n}`)
    if (r.body?.status === 'ok') acknowledged.push(r.body.id as string)
    else refusal = r
  }
  t.comment(`tmpfs ${TMPFS_MB} MB, reserve ${RESERVE_MB} MB: ${acknowledged.length} notes acknowledged before the first refusal`)
  t.ok(acknowledged.length > 10, 'writes succeed while there is room')
  t.ok(refusal, 'a write is refused before the disk is full')
  const error = refusal?.body?.error as { code?: string; retryable?: boolean; message?: string } | undefined
  t.equal(refusal?.status, 200, 'the refusal is a tool result, not an HTTP failure')
  t.equal(refusal?.isError, true)
  t.match(error, { code: 'unavailable', retryable: true, message: /disk is full/ }, 'the refusal says why, and that it can be retried')

  const again = await bounded(callTool(base, 'remember', note(-1)), 'second refused write')
  t.match(again.body, { status: 'error', error: { code: 'unavailable' } }, 'writes stay refused while the disk is full')
  const status = await bounded(callTool(base, 'report_status', { source: 'nas', tags: [], metrics: { disk_pct: 100 } }), 'report_status')
  t.match(status.body, { status: 'error', error: { code: 'unavailable' } }, 'every writing tool is refused, not only remember')

  const list = await bounded(callTool(base, 'get_knowledge', { source: 'disk', mode: 'list', limit: 500 }), 'get_knowledge')
  const listed = (list.body?.entries as { id: string }[] | undefined)?.map((e) => e.id) ?? []
  t.same(new Set(listed), new Set(acknowledged), 'reads work, and show exactly the acknowledged notes: the refused ones changed nothing')
  const search = await bounded(callTool(base, 'search', { query: 'note 3' }), 'search')
  t.equal(search.isError, false, 'search works on a full disk')
  const briefing = await bounded(callTool(base, 'get_briefing', {}), 'get_briefing')
  t.equal(briefing.isError, false, 'the briefing works on a full disk')
  t.equal((await fetch(`${base}/health`)).status, 200, '/health answers')

  mount('-o', `remount,size=${GROWN_MB}m`, mountPoint)
  const after = await bounded(callTool(base, 'remember', note(MAX_WRITES)), 'write after space returned')
  t.equal(after.body?.status, 'ok', 'writes resume by themselves once space is freed')
  if (after.body?.status === 'ok') acknowledged.push(after.body.id as string)

  server.child.kill('SIGTERM')
  t.equal(await server.exited, 0, 'the server stops cleanly')
  const report = await checkEmbeddedIntegrity(dataDir)
  t.same(report.problems, [], `amcheck finds nothing (${report.tables} tables, ${report.indexes} indexes)`)
  const lost = acknowledged.filter((id) => !report.entryIds.has(id))
  t.comment(`acknowledged ${acknowledged.length}, present ${acknowledged.length - lost.length}, lost ${lost.length}`)
  t.same(lost, [], 'every acknowledged note is present')

  // A start on a disk below the reserve is refused, saying why, before the database opens.
  const s = statfsSync(mountPoint)
  const usedMb = Math.ceil(((s.blocks - s.bfree) * s.bsize) / (1024 * 1024))
  mount('-o', `remount,size=${usedMb + RESERVE_MB / 2}m`, mountPoint)
  const refused = startProcess({ AWARENESS_DATA_DIR: dataDir, AWARENESS_DEFAULT_OWNER: 'disk', AWARENESS_EMBEDDING_PROVIDER: 'none', AWARENESS_EMBEDDED_MIN_FREE_MB: String(RESERVE_MB) })
  t.teardown(() => refused.child.kill('SIGKILL'))
  t.not(await refused.exited, 0, 'a start below the reserve exits non-zero')
  t.match(refused.output(), new RegExp(`cannot start: The data directory's disk has [\\d.]+ MB free, below the ${RESERVE_MB} MB reserve`), 'and says why')
})
