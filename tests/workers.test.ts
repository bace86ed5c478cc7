import t from 'tap'
import { spawn } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import { pino } from 'pino'
import { WorkerHost, WorkerPool } from '../workers/host.js'
import { WorkerError } from '../workers/protocol.js'
import type { LogLevel, WorkerLog } from '../workers/protocol.js'
import { spawnableUrl, workerUrl } from '../core/worker-url.js'

const fixture = new URL('./fixtures/crash-worker.ts', import.meta.url)

// Compile-time check: the process logger can be handed to a host as is.
const pinoIsAWorkerLog: WorkerLog = pino({ level: 'silent' })
void pinoIsAWorkerLog

function collectingLog(): { log: WorkerLog; lines: { level: LogLevel; obj: Record<string, unknown>; msg: string }[] } {
  const lines: { level: LogLevel; obj: Record<string, unknown>; msg: string }[] = []
  const at = (level: LogLevel) => (obj: object, msg: string) => void lines.push({ level, obj: obj as Record<string, unknown>, msg })
  return { log: { debug: at('debug'), info: at('info'), warn: at('warn'), error: at('error') }, lines }
}

async function codeOf(p: Promise<unknown>): Promise<string | undefined> {
  try {
    await p
    return undefined
  } catch (err) {
    return (err as { code?: string }).code
  }
}

t.test('workerUrl and spawnableUrl', async (t) => {
  t.equal(workerUrl('embed-worker', 'file:///app/workers/host.ts').href, 'file:///app/workers/embed-worker.ts')
  t.equal(workerUrl('embed-worker', 'file:///app/dist/workers/host.js').href, 'file:///app/dist/workers/embed-worker.js')
  const js = new URL('file:///app/dist/workers/embed-worker.js')
  t.equal(spawnableUrl(js), js, 'compiled workers load directly')
  const ts = spawnableUrl(new URL('file:///app/workers/embed-worker.ts'))
  t.equal(ts.protocol, 'data:', 'sources go through the tsx bootstrap')
  t.match(decodeURIComponent(ts.href), /register\(\);[\s\S]*file:\/\/\/app\/workers\/embed-worker\.ts/)
})

t.test('concurrent requests are answered by id, out of order', async (t) => {
  const host = new WorkerHost({ name: 'fx', url: fixture })
  t.teardown(() => host.close())
  const delays = [300, 250, 200, 150, 100, 50, 0]
  const finished: number[] = []
  const results = await Promise.all(
    delays.map((ms, i) =>
      host.request<{ slept: number }>('sleep', { ms }).then((r) => {
        finished.push(i)
        return r.slept
      }),
    ),
  )
  t.same(results, delays, 'each caller gets the answer to its own request')
  t.same(finished, [6, 5, 4, 3, 2, 1, 0], 'answers arrived in completion order, not send order')
  t.same(await host.request('echo', { a: [1, 'two', null] }), { a: [1, 'two', null] })
  t.equal(host.inFlight, 0)
})

t.test('handler errors keep their code; unknown kinds are refused', async (t) => {
  const host = new WorkerHost({ name: 'fx', url: fixture })
  t.teardown(() => host.close())
  const err = await host.request('fail', null).catch((e: unknown) => e)
  t.ok(err instanceof WorkerError)
  t.equal((err as WorkerError).code, 'CUSTOM_CODE')
  t.equal((err as WorkerError).message, 'custom failure')
  t.equal(await codeOf(host.request('nope', null)), 'WORKER_BAD_REQUEST')
  t.equal(await host.request('echo', 'still fine'), 'still fine')
  t.equal(host.stats().crashes, 0)
})

t.test('worker log lines reach the host logger with the worker name', async (t) => {
  const { log, lines } = collectingLog()
  const host = new WorkerHost({ name: 'logger', url: fixture, log })
  t.teardown(() => host.close())
  t.equal(await host.request('log', null), true)
  const line = lines.find((l) => l.msg === 'hello from worker')
  t.ok(line, 'the line was forwarded')
  t.equal(line?.level, 'info')
  t.same(line?.obj, { a: 1, worker: 'logger' })
})

t.test('a request without an answer in time rejects with WORKER_TIMEOUT', async (t) => {
  const host = new WorkerHost({ name: 'fx', url: fixture, timeoutMs: 10_000 })
  t.teardown(() => host.close())
  await host.request('echo', 'warm') // worker started; the timeout below measures the request alone
  const started = Date.now()
  const err = await host.request('sleep', { ms: 20_000 }, { timeoutMs: 150 }).catch((e: unknown) => e)
  t.equal((err as WorkerError).code, 'WORKER_TIMEOUT')
  t.match((err as WorkerError).message, /150 ms/)
  t.ok(Date.now() - started < 10_000, 'rejected at the deadline, not when the worker answered')
  t.equal(host.inFlight, 0)
  t.equal(await host.request('echo', 'after'), 'after', 'the worker keeps serving')
  t.equal(host.stats().spawns, 1)
})

t.test('a crash rejects in-flight requests with WORKER_CRASHED; the next request gets a fresh worker', async (t) => {
  const { log, lines } = collectingLog()
  const host = new WorkerHost({ name: 'fx', url: fixture, log })
  t.teardown(() => host.close())
  const before = await host.request<number>('thread', null)
  const inFlight = host.request('sleep', { ms: 5_000 })
  const crashing = host.request('crash', null)
  t.equal(await codeOf(inFlight), 'WORKER_CRASHED', 'the bystander request fails')
  const err = await crashing.catch((e: unknown) => e)
  t.equal((err as WorkerError).code, 'WORKER_CRASHED')
  t.match((err as WorkerError).message, /boom/)
  t.match(host.stats(), { crashes: 1, spawns: 1, pending: 0, lastCrash: 'boom' })
  t.ok(lines.some((l) => l.level === 'error' && l.msg === 'worker exited unexpectedly'), 'the crash is logged')

  const after = await host.request<number>('thread', null)
  t.not(after, before, 'answered by another thread')
  t.match(host.stats(), { state: 'running', spawns: 2, crashes: 1 })

  t.equal(await codeOf(host.request('exit', { code: 3 })), 'WORKER_CRASHED', 'process.exit in the worker counts as a crash')
  t.match(host.stats().lastCrash, /code 3/)
  t.equal(await host.request('echo', 'third worker'), 'third worker')
  t.match(host.stats(), { spawns: 3, crashes: 2 })
})

t.test('a worker that dies at start is restarted with backoff, not in a loop', async (t) => {
  const host = new WorkerHost({
    name: 'doomed',
    url: fixture,
    workerData: { dieAtStart: true },
    restartBackoffMs: { base: 5_000, max: 60_000 },
  })
  t.teardown(() => host.close())
  t.equal(await codeOf(host.request('echo', 1)), 'WORKER_CRASHED')
  t.equal(await codeOf(host.request('echo', 2)), 'WORKER_CRASHED', 'the first restart is immediate')
  t.match(host.stats(), { spawns: 2, crashes: 2, state: 'backoff', lastCrash: /dies at start/ })
  t.equal(await codeOf(host.request('echo', 3, { timeoutMs: 300 })), 'WORKER_TIMEOUT', 'the third start is held back')
  t.equal(host.stats().spawns, 2, 'no worker was started meanwhile')
})

t.test('close() rejects pending and later requests with WORKER_CLOSED', async (t) => {
  const host = new WorkerHost({ name: 'fx', url: fixture })
  t.equal(await host.request('echo', 1), 1)
  const pending = host.request('sleep', { ms: 10_000 })
  const closing = host.close()
  t.equal(host.close(), closing, 'close is idempotent')
  t.equal(await codeOf(pending), 'WORKER_CLOSED')
  await closing
  t.equal(await codeOf(host.request('echo', 2)), 'WORKER_CLOSED')
  t.match(host.stats(), { state: 'closed', pending: 0, crashes: 0 })
  const never = new WorkerHost({ name: 'unused', url: fixture })
  await never.close()
  t.equal(never.stats().spawns, 0, 'a host that never got a request never started a worker')
})

t.test('the process does not hang on a host', async (t) => {
  const script = fileURLToPath(new URL('./fixtures/host-exit.ts', import.meta.url))
  const run = (mode: string) =>
    new Promise<{ code: number | null; out: string; ms: number }>((resolve, reject) => {
      const started = Date.now()
      const child = spawn(process.execPath, ['--import', 'tsx', script, mode], { stdio: ['ignore', 'pipe', 'inherit'] })
      let out = ''
      child.stdout.on('data', (b: Buffer) => (out += b.toString()))
      const killer = setTimeout(() => {
        child.kill('SIGKILL')
        reject(new Error(`child '${mode}' still running after 30 s`))
      }, 30_000)
      child.on('exit', (code) => {
        clearTimeout(killer)
        resolve({ code, out, ms: Date.now() - started })
      })
    })
  for (const [mode, expected] of [
    ['close', 'ping close\n'],
    ['pending-close', 'WORKER_CLOSED ping pending-close\n'],
    ['idle', 'ping idle\n'],
  ] as const) {
    const r = await run(mode)
    t.equal(r.code, 0, `${mode}: exit code`)
    t.equal(r.out, expected, `${mode}: output`)
    t.ok(r.ms < 15_000, `${mode}: ended on its own (${r.ms} ms)`)
  }
})

t.test('WorkerPool spreads concurrent requests over its workers', async (t) => {
  const pool = new WorkerPool({ name: 'pool', url: fixture })
  t.teardown(() => pool.close())
  t.equal(pool.size, 2)
  const answers = await Promise.all([0, 1, 2, 3].map(() => pool.request<{ threadId: number }>('sleep', { ms: 200 })))
  const threads = new Map<number, number>()
  for (const a of answers) threads.set(a.threadId, (threads.get(a.threadId) ?? 0) + 1)
  t.equal(threads.size, 2, 'two worker threads served')
  t.same([...threads.values()], [2, 2], 'two requests each')
  t.same(
    pool.stats().map((s) => [s.name, s.spawns]),
    [
      ['pool-1', 1],
      ['pool-2', 1],
    ],
  )
  t.throws(() => new WorkerPool({ name: 'bad', url: fixture, size: 0 }), RangeError)
  await pool.close()
  t.equal(await codeOf(pool.request('echo', 1)), 'WORKER_CLOSED')
})

t.test('WorkerPool routes around a worker that is holding back a restart', async (t) => {
  const pool = new WorkerPool({ name: 'pool', url: fixture, restartBackoffMs: { base: 60_000, max: 60_000 } })
  t.teardown(() => pool.close())
  // Two crashes in a row put a host into backoff (the first restart is immediate).
  const a = await pool.request<number>('thread', null)
  const b = await pool.request<number>('thread', null)
  t.not(a, b, 'idle hosts take turns')
  for (let i = 0; i < 2; i++) {
    // While one host is busy, least-busy sends the crash to the other: the same host both times.
    const busy = pool.request('sleep', { ms: 400 })
    t.equal(await codeOf(pool.request('crash', null)), 'WORKER_CRASHED')
    await busy
  }
  const states = pool.stats().map((s) => s.state)
  t.ok(states.includes('backoff'), `one host is backing off (${states.join(', ')})`)
  const served = await Promise.all([1, 2, 3].map((n) => pool.request('echo', n, { timeoutMs: 5_000 })))
  t.same(served, [1, 2, 3], 'requests go to the healthy host instead of waiting a minute')
})
