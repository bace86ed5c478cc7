/**
 * `npm run bench -- soak`: many clients at once, for a minute, on a real server process per backend — the
 * failures and memory growth that a 10-second single-tool benchmark cannot show. SOAK_CLIENTS (default 50)
 * clients each loop over a fixed mix of remember, report_status, search, get_briefing and get_knowledge for
 * SOAK_SECONDS (default 60). Before it, a 5 s warm-up (JIT, pools, first embeddings) and a 5 s one-client
 * baseline of the same mix: its p50 and CPU per call show how much of the loaded p50 is queueing
 * (loaded p50 ≈ clients × CPU per call / free cores when the server is CPU-bound).
 * Server RSS is sampled every second; its least-squares slope tells steady state from growth. The embedded
 * backend keeps its database in memory (memory://), so there RSS also grows with the data written: the
 * database size is printed beside it. SOAK_EMBEDDING picks the provider (default hash, '' for none), so the
 * embedding queue and hybrid search run under the load too. Exits non-zero when any call failed.
 */
import { availableParallelism } from 'node:os'
import { fileURLToPath } from 'node:url'
import { benchBackends, legacyCall, median, startBenchServer, type Backend, type BenchServer } from './lib.js'

const CLIENTS = Number(process.env.SOAK_CLIENTS ?? 50)
const SECONDS = Number(process.env.SOAK_SECONDS ?? 60)
const EMBEDDING = process.env.SOAK_EMBEDDING ?? 'hash'
const WARMUP_SEC = 5
const BASELINE_SEC = 5
const CALL_TIMEOUT_MS = 30_000
const MAX_FAILURE_BODIES = 5
const MB = 1024 * 1024
const GC_PROBE = fileURLToPath(new URL('./gc-probe.ts', import.meta.url))
const sleep = (ms: number) => new Promise((ok) => setTimeout(ok, ms))

const TOOLS = ['remember', 'report_status', 'search', 'get_briefing', 'get_knowledge'] as const
type Tool = (typeof TOOLS)[number]
/** Per 20 calls: 35% remember, 10% report_status, 25% search, 15% get_briefing, 15% get_knowledge. */
const WEIGHTS: Record<Tool, number> = { remember: 7, report_status: 2, search: 5, get_briefing: 3, get_knowledge: 3 }

/** A fixed interleaving (not random), so every run and every client sees exactly the same ratio. */
const SCHEDULE: Tool[] = (() => {
  const slots: { tool: Tool; at: number }[] = []
  for (const tool of TOOLS) for (let i = 0; i < WEIGHTS[tool]; i++) slots.push({ tool, at: (i + 0.5) / WEIGHTS[tool] })
  return slots.sort((a, b) => a.at - b.at).map((s) => s.tool)
})()

const SOURCES = ['personal', 'homelab', 'synology-nas', 'awareness', 'garden', 'car', 'work-laptop', 'kitchen', 'finance', 'travel']
const TAGS = ['infra', 'backup', 'health', 'family', 'project', 'todo', 'network', 'storage', 'music', 'reading']
const SUBJECTS = ['the NAS backup', 'the router firmware', 'the garden irrigation', 'the car insurance', 'the laptop battery', 'the kitchen oven', 'the VPN certificate', 'the photo archive']
const FACTS = ['runs every night at 02:00', 'was replaced in March', 'needs a new password each quarter', 'is shared with the family', 'lives on the second disk', 'costs 12 euros a month', 'must be checked before travelling']
const QUESTIONS = [
  'When does the NAS backup run?',
  'What do I know about the router firmware?',
  'how much does the car insurance cost',
  'Which things need a new password every quarter?',
  'Where is the photo archive stored?',
  'what was replaced in March',
  'Is anything shared with the family?',
  'What should I check before travelling?',
]

/** Deterministic variety per (client, call number): cheap, and a rerun writes the same data. */
function args(tool: Tool, client: number, n: number): Record<string, unknown> {
  const k = client * 7919 + n
  const pick = <T>(xs: readonly T[], salt = 0): T => xs[(k + salt * 31) % xs.length]
  switch (tool) {
    case 'remember': {
      const subject = pick(SUBJECTS)
      const base = { source: pick(SOURCES), tags: [pick(TAGS), pick(TAGS, 1)].filter((t, i, a) => a.indexOf(t) === i), description: `${subject} ${pick(FACTS, 2)}` }
      // A fifth upsert a small set of living documents (same source + key from many clients at once).
      if (k % 5 === 0) return { ...base, source: 'homelab', logical_key: `doc-${k % 8}`, content: `Notes on ${subject}, revision ${n} by client ${client}.` }
      if (k % 3 === 0) return { ...base, content: { subject, client, n, measured: [k % 97, k % 13] }, content_type: 'application/json' }
      return { ...base, content: `${subject} ${pick(FACTS, 3)}; noted by client ${client} on call ${n}. `.repeat(1 + (k % 4)) }
    }
    case 'report_status':
      return { source: `host-${k % 12}`, tags: ['soak'], metrics: { cpu: k % 100, disk_pct: 40 + (k % 55), mem_mb: 1000 + (k % 3000) }, ttl_sec: 600 }
    case 'search':
      return { query: pick(QUESTIONS), limit: 10 }
    case 'get_briefing':
      return {}
    case 'get_knowledge':
      return k % 2 === 0 ? { limit: 20, mode: 'list' } : { limit: 20, tags: [pick(TAGS)] }
  }
}

interface Stats {
  latencies: Record<Tool, number[]>
  failed: Record<Tool, number>
  failures: string[]
}

const newStats = (): Stats => ({
  latencies: Object.fromEntries(TOOLS.map((t) => [t, []])) as unknown as Record<Tool, number[]>,
  failed: Object.fromEntries(TOOLS.map((t) => [t, 0])) as Record<Tool, number>,
  failures: [],
})

/** One tools/call; returns a failure description, or undefined when the call succeeded. */
async function call(url: string, tool: Tool, a: Record<string, unknown>): Promise<string | undefined> {
  const req = legacyCall(tool, a)
  try {
    const res = await fetch(url, { method: 'POST', headers: req.headers, body: req.body, signal: AbortSignal.timeout(CALL_TIMEOUT_MS) })
    const text = await res.text()
    if (res.status !== 200) return `HTTP ${res.status}: ${text}`
    const rpc = JSON.parse(text) as { result?: { isError?: boolean }; error?: unknown }
    if (rpc.result === undefined || rpc.result.isError === true) return `HTTP 200: ${text}`
    return undefined
  } catch (error) {
    return `threw: ${error instanceof Error ? `${error.name}: ${error.message}${error.cause === undefined ? '' : ` (${String(error.cause)})`}` : String(error)}`
  }
}

/** Runs `clients` loops until `seconds` have passed; returns per-tool figures and the server CPU spent. */
async function phase(server: BenchServer, clients: number, seconds: number): Promise<{ stats: Stats; wallSec: number; cpuUs: number }> {
  const stats = newStats()
  const cpu0 = await server.cpu()
  const started = performance.now()
  const deadline = started + seconds * 1000
  const loop = async (client: number) => {
    for (let n = 0; performance.now() < deadline; n++) {
      const tool = SCHEDULE[(client + n) % SCHEDULE.length]
      const t = performance.now()
      const failure = await call(server.url, tool, args(tool, client, n))
      stats.latencies[tool].push(performance.now() - t)
      if (failure === undefined) continue
      stats.failed[tool]++
      if (stats.failures.length < MAX_FAILURE_BODIES) stats.failures.push(`${tool}: ${failure.slice(0, 600)}`)
    }
  }
  await Promise.all(Array.from({ length: clients }, (_, c) => loop(c)))
  const wallSec = (performance.now() - started) / 1000
  return { stats, wallSec, cpuUs: (await server.cpu()) - cpu0 }
}

interface Sample {
  min: number
  rssMb: number
  heapMb: number
}

/** Samples the server's memory every second until `stop()`; an IPC answer delayed by load is timed on arrival. */
function sampleMemory(server: BenchServer): { stop: () => Promise<Sample[]> } {
  const samples: Sample[] = []
  const started = performance.now()
  let running = true
  const loop = (async () => {
    while (running) {
      const m = await server.memory()
      samples.push({ min: (performance.now() - started) / 60_000, rssMb: m.rss / MB, heapMb: m.heapUsed / MB })
      await sleep(1000)
    }
  })()
  return {
    stop: async () => {
      running = false
      await loop
      return samples
    },
  }
}

/** Least-squares slope of RSS against time, in MB per minute. */
function slope(samples: Sample[]): number {
  const n = samples.length
  if (n < 2) return 0
  const mx = samples.reduce((s, p) => s + p.min, 0) / n
  const my = samples.reduce((s, p) => s + p.rssMb, 0) / n
  const num = samples.reduce((s, p) => s + (p.min - mx) * (p.rssMb - my), 0)
  const den = samples.reduce((s, p) => s + (p.min - mx) ** 2, 0)
  return den === 0 ? 0 : num / den
}

const percentile = (sorted: number[], q: number) => (sorted.length === 0 ? 0 : sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * q))])
const totalCalls = (s: Stats) => TOOLS.reduce((sum, t) => sum + s.latencies[t].length, 0)
const totalFailed = (s: Stats) => TOOLS.reduce((sum, t) => sum + s.failed[t], 0)

async function databaseMb(server: BenchServer): Promise<number> {
  const rows = await server.sql<{ bytes: string }[]>('SELECT pg_database_size(current_database())::text AS bytes').catch(() => [])
  return rows.length === 0 ? Number.NaN : Number(rows[0].bytes) / MB
}

async function entryCount(server: BenchServer): Promise<number> {
  const rows = await server.sql<{ n: number }[]>('SELECT count(*)::int AS n FROM entries')
  return rows[0].n
}

function printTable(backend: Backend, baseline: Awaited<ReturnType<typeof phase>>, soak: Awaited<ReturnType<typeof phase>>): void {
  const cpuPerCall = (p: typeof soak) => p.cpuUs / 1000 / Math.max(1, totalCalls(p.stats))
  console.log(`\n## ${backend}: ${CLIENTS} clients × ${SECONDS} s (1-client baseline ${BASELINE_SEC} s), embedding provider '${EMBEDDING || 'none'}'`)
  console.log('| tool | calls | failed | p50 ms | p95 ms | p99 ms | 1-client p50 ms | 1-client calls |')
  console.log('|---|---|---|---|---|---|---|---|')
  for (const tool of TOOLS) {
    const xs = [...soak.stats.latencies[tool]].sort((a, b) => a - b)
    const one = baseline.stats.latencies[tool]
    console.log(`| ${tool} | ${xs.length} | ${soak.stats.failed[tool]} | ${percentile(xs, 0.5).toFixed(1)} | ${percentile(xs, 0.95).toFixed(1)} | ${percentile(xs, 0.99).toFixed(1)} | ${one.length === 0 ? '—' : median(one).toFixed(1)} | ${one.length} |`)
  }
  const calls = totalCalls(soak.stats)
  const cpu = cpuPerCall(soak)
  console.log(`calls/s: ${(calls / soak.wallSec).toFixed(1)} with ${CLIENTS} clients, ${(totalCalls(baseline.stats) / baseline.wallSec).toFixed(1)} with 1`)
  console.log(`server CPU per call: ${cpu.toFixed(2)} ms with ${CLIENTS} clients, ${cpuPerCall(baseline).toFixed(2)} ms with 1; server CPU busy ${(soak.cpuUs / 1e6 / soak.wallSec).toFixed(2)} cores of ${availableParallelism()}`)
  // Little's law gives the mean wait whatever the bottleneck; the CPU estimate holds only if the server is CPU-bound.
  console.log(`queueing: all-tools p50 ${median(TOOLS.flatMap((t) => soak.stats.latencies[t])).toFixed(1)} ms; CPU-bound estimate ${CLIENTS} × ${cpu.toFixed(2)} ms / ${availableParallelism()} cores = ${((CLIENTS * cpu) / availableParallelism()).toFixed(0)} ms; clients / calls/s = ${((1000 * CLIENTS * soak.wallSec) / calls).toFixed(0)} ms`)
  if (backend === 'postgres') console.log('(server CPU is the Node process only; the PostgreSQL server’s own CPU is not counted)')
}

async function soakBackend(backend: Backend): Promise<{ line: string; failed: number }> {
  const server = await startBenchServer({ kind: 'awareness', backend, env: { AWARENESS_EMBEDDING_PROVIDER: EMBEDDING }, nodeArgs: ['--expose-gc'] })
  try {
    const warm = await phase(server, CLIENTS, WARMUP_SEC)
    const baseline = await phase(server, 1, BASELINE_SEC)
    const db0 = await databaseMb(server)
    const entries0 = await entryCount(server)
    const retained0 = await server.run<number>(GC_PROBE, 'retainedHeapBytes')
    const sampler = sampleMemory(server)
    const soak = await phase(server, CLIENTS, SECONDS)
    const samples = await sampler.stop()
    const db1 = await databaseMb(server)
    const entries1 = await entryCount(server)
    const retained1 = await server.run<number>(GC_PROBE, 'retainedHeapBytes')
    printTable(backend, baseline, soak)
    const [start, mid, end] = [samples[0], samples[Math.floor(samples.length / 2)], samples[samples.length - 1]]
    const s = slope(samples)
    // Heap and allocator warm-up dominate the first half; growth that goes on is what the second half shows.
    const late = slope(samples.slice(Math.floor(samples.length / 2)))
    console.log(`memory (${samples.length} samples): RSS ${start.rssMb.toFixed(0)}/${mid.rssMb.toFixed(0)}/${end.rssMb.toFixed(0)} MB, JS heap used ${start.heapMb.toFixed(0)}/${mid.heapMb.toFixed(0)}/${end.heapMb.toFixed(0)} MB (start/mid/end)`)
    console.log(`JS heap retained after a full GC: ${(retained0 / MB).toFixed(1)} MB before the soak, ${(retained1 / MB).toFixed(1)} MB after it (what a leak would grow; RSS also holds garbage not yet collected)`)
    console.log(`data: ${entries0} → ${entries1} entries, database ${db0.toFixed(1)} → ${db1.toFixed(1)} MB${backend === 'pglite' ? ' (in the server’s memory: part of its RSS)' : ''}`)
    const failures = [...warm.stats.failures, ...baseline.stats.failures, ...soak.stats.failures].slice(0, MAX_FAILURE_BODIES)
    const failed = totalFailed(warm.stats) + totalFailed(baseline.stats) + totalFailed(soak.stats)
    if (failed > 0) {
      console.log(`failures: ${totalFailed(warm.stats)} in warm-up, ${totalFailed(baseline.stats)} in the baseline, ${totalFailed(soak.stats)} in the soak; first ${failures.length}:`)
      for (const f of failures) console.log(`  - ${f}`)
    }
    const line = `soak ${backend}: ${totalCalls(soak.stats)} calls, ${totalFailed(soak.stats)} failed, RSS start/mid/end ${start.rssMb.toFixed(0)}/${mid.rssMb.toFixed(0)}/${end.rssMb.toFixed(0)} MB, slope ${s.toFixed(1)} MB/min (second half ${late.toFixed(1)}), retained heap ${(retained0 / MB).toFixed(0)} → ${(retained1 / MB).toFixed(0)} MB`
    return { line, failed }
  } finally {
    await server.close()
  }
}

export async function benchSoak(): Promise<void> {
  const lines: string[] = []
  let failed = 0
  for (const backend of await benchBackends()) {
    const r = await soakBackend(backend)
    lines.push(r.line)
    failed += r.failed
  }
  console.log('')
  for (const line of lines) console.log(line)
  if (failed > 0) process.exitCode = 1
}
