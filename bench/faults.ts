/**
 * `npm run bench -- faults`: the long versions of the fault checks CI keeps short (tests/faults-*.test.ts).
 *  1. Kill loop: FAULTS_ROUNDS (default 20) rounds of 8 concurrent writers on one embedded data directory,
 *     SIGKILL at a random point of each, amcheck and a count of every acknowledged note after each reopen.
 *  2. What durability costs: the same `remember` load on a real data directory with
 *     AWARENESS_EMBEDDED_FSYNC on and off, alternating, BENCH_ROUNDS rounds: one client's latency and the
 *     server's CPU per call, and eight clients' throughput. The fsync wait is mostly I/O, not CPU: the
 *     latency shows it, CPU per call hardly moves.
 * Servers are real processes (npm start's entry), as in the fault tests; CPU is read from /proc.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { killLoop } from '../tests/fixtures/kill-loop.js'
import { callTool, listeningUrl, startProcess, type Running } from '../tests/fixtures/server-process.js'
import { ROUNDS, median } from './lib.js'

const KILL_ROUNDS = Number(process.env.FAULTS_ROUNDS ?? 20)
const ONE_CLIENT_CALLS = 300
const LOADED_CALLS = 800
const LOADED_CLIENTS = 8
const WARMUP_CALLS = 50

/** User + system CPU of a process in ms, from /proc (clock ticks are 100 Hz on Linux). */
function cpuMs(pid: number): number {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ')
  return (Number(fields[11]) + Number(fields[12])) * 10
}

async function killLoopBench(): Promise<void> {
  const dataDir = mkdtempSync(join(tmpdir(), 'awareness-bench-kill-'))
  try {
    const started = performance.now()
    const r = await killLoop({ dataDir, rounds: KILL_ROUNDS, writers: 8, env: { AWARENESS_EMBEDDING_PROVIDER: 'none' }, log: (line) => console.log(`  ${line}`) })
    console.log(`kill loop: ${r.rounds} rounds × 8 writers in ${((performance.now() - started) / 1000).toFixed(0)} s: acknowledged ${r.acknowledged}, present ${r.present}, lost ${r.lost.length}, amcheck problems ${r.problems.length}`)
    for (const p of r.problems.slice(0, 5)) console.log(`  - ${p}`)
    if (r.lost.length > 0 || r.problems.length > 0) process.exitCode = 1
  } finally {
    rmSync(dataDir, { recursive: true, force: true })
  }
}

interface WriteFigures {
  oneClientP50Ms: number
  cpuPerCallMs: number
  loadedCallsPerSec: number
}

async function writes(base: string, server: Running, calls: number, clients: number, tag: string): Promise<{ latencies: number[]; cpuMs: number; wallMs: number }> {
  const latencies: number[] = []
  const pid = server.child.pid!
  const cpu0 = cpuMs(pid)
  const started = performance.now()
  let next = 0
  const client = async () => {
    for (let n = next++; n < calls; n = next++) {
      const t = performance.now()
      const r = await callTool(base, 'remember', { source: 'bench', tags: [tag], description: `${tag} note ${n}`, content: `a note of ordinary length, number ${n}. `.repeat(8) })
      if (r.body?.status !== 'ok') throw new Error(`write failed: ${JSON.stringify(r.body)}`)
      latencies.push(performance.now() - t)
    }
  }
  await Promise.all(Array.from({ length: clients }, client))
  return { latencies, cpuMs: cpuMs(pid) - cpu0, wallMs: performance.now() - started }
}

async function measureFsync(fsync: boolean, dataDir: string): Promise<WriteFigures> {
  const server = startProcess({ AWARENESS_DATA_DIR: dataDir, AWARENESS_DEFAULT_OWNER: 'bench', AWARENESS_EMBEDDING_PROVIDER: 'none', AWARENESS_EMBEDDED_FSYNC: String(fsync) })
  try {
    const base = await listeningUrl(server)
    await writes(base, server, WARMUP_CALLS, 1, 'warmup')
    const one = await writes(base, server, ONE_CLIENT_CALLS, 1, 'one')
    const loaded = await writes(base, server, LOADED_CALLS, LOADED_CLIENTS, 'loaded')
    return { oneClientP50Ms: median(one.latencies), cpuPerCallMs: one.cpuMs / ONE_CLIENT_CALLS, loadedCallsPerSec: LOADED_CALLS / (loaded.wallMs / 1000) }
  } finally {
    server.child.kill('SIGTERM')
    await server.exited
  }
}

async function fsyncBench(): Promise<void> {
  const samples = new Map<boolean, WriteFigures[]>([[true, []], [false, []]])
  const dirs = new Map([true, false].map((f) => [f, mkdtempSync(join(tmpdir(), `awareness-bench-fsync-${f}-`))]))
  try {
    for (let round = 0; round < ROUNDS; round++) for (const fsync of [false, true]) samples.get(fsync)!.push(await measureFsync(fsync, dirs.get(fsync)!))
  } finally {
    for (const dir of dirs.values()) rmSync(dir, { recursive: true, force: true })
  }
  const med = (fsync: boolean, k: keyof WriteFigures) => median(samples.get(fsync)!.map((s) => s[k]))
  console.log(`\n## remember on a real data directory, fsync on vs off (median of ${ROUNDS} alternating rounds)`)
  console.log('| AWARENESS_EMBEDDED_FSYNC | 1-client p50 ms | server CPU ms/call (1 client) | calls/s with 8 clients |')
  console.log('|---|---|---|---|')
  for (const fsync of [false, true]) console.log(`| ${fsync} | ${med(fsync, 'oneClientP50Ms').toFixed(2)} | ${med(fsync, 'cpuPerCallMs').toFixed(2)} | ${med(fsync, 'loadedCallsPerSec').toFixed(0)} |`)
  const ratio = (k: keyof WriteFigures) => (med(true, k) / med(false, k)).toFixed(2)
  console.log(`fsync on / off: 1-client p50 ×${ratio('oneClientP50Ms')}, CPU per call ×${ratio('cpuPerCallMs')}, 8-client throughput ×${ratio('loadedCallsPerSec')}`)
}

export async function benchFaults(): Promise<void> {
  await killLoopBench()
  await fsyncBench()
}
