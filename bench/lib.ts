/**
 * Shared benchmark harness. Servers run in child processes (bench/server-child.ts) so the figure that
 * matters on a shared, noisy machine — server CPU µs per request — is measured apart from the load
 * generator; scenarios are alternated round by round and reported as medians with ratios to a baseline
 * measured in the same run.
 */
import { fork, type ChildProcess } from 'node:child_process'
import { randomUUID } from 'node:crypto'
import { fileURLToPath } from 'node:url'
import autocannon from 'autocannon'
import postgres from 'postgres'

export type Backend = 'pglite' | 'postgres'
export type ServerKind = 'awareness' | 'bare-fastify' | 'bare-sdk'

export const ADMIN_URL = process.env.AWARENESS_BENCH_DATABASE_URL ?? process.env.AWARENESS_TEST_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres'
export const DURATION_SEC = Number(process.env.BENCH_DURATION ?? 10)
export const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3)

/** The embedded backend always; PostgreSQL when its server answers. */
export async function benchBackends(): Promise<Backend[]> {
  const sql = postgres(ADMIN_URL, { max: 1, connect_timeout: 3, onnotice: () => undefined })
  try {
    await sql`SELECT 1`
    return ['pglite', 'postgres']
  } catch {
    console.log(`(PostgreSQL at ${new URL(ADMIN_URL).host} unreachable: embedded backend only)`)
    return ['pglite']
  } finally {
    await sql.end()
  }
}

export interface BenchServer {
  readonly url: string
  readonly backend: Backend | undefined
  readonly vectorMode: string | undefined
  /** Server process CPU time (user + system, all threads) in µs. */
  cpu(): Promise<number>
  memory(): Promise<NodeJS.MemoryUsage>
  sql<T = Record<string, unknown>[]>(text: string, params?: unknown[]): Promise<T>
  /** Calls `fn(ctx: { store, owner }, args)` exported by `module` inside the server process. */
  run<T = unknown>(module: string, fn: string, args?: unknown): Promise<T>
  close(): Promise<void>
}

export async function startBenchServer(opts: { kind: ServerKind; backend?: Backend; env?: Record<string, string>; nodeArgs?: string[] }): Promise<BenchServer> {
  let dropDb: (() => Promise<void>) | undefined
  let dbUrl = ''
  if (opts.backend === 'postgres') {
    const name = `awareness_bench_${randomUUID().slice(0, 8)}`
    const admin = postgres(ADMIN_URL, { max: 1, onnotice: () => undefined })
    await admin.unsafe(`CREATE DATABASE ${name}`)
    await admin.end()
    const u = new URL(ADMIN_URL)
    u.pathname = `/${name}`
    dbUrl = u.toString()
    dropDb = async () => {
      const a = postgres(ADMIN_URL, { max: 1, onnotice: () => undefined })
      await a.unsafe(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`)
      await a.end()
    }
  }
  const child: ChildProcess = fork(fileURLToPath(new URL('./server-child.ts', import.meta.url)), [], {
    // BENCH_SERVER_NODE_ARGS, e.g. '--cpu-prof --cpu-prof-dir=prof', profiles the server (not allowed in NODE_OPTIONS).
    execArgv: ['--import', 'tsx', ...(opts.nodeArgs ?? []), ...(process.env.BENCH_SERVER_NODE_ARGS?.split(' ').filter(Boolean) ?? [])],
    env: { ...process.env, AWARENESS_LOG_LEVEL: 'warn', ...opts.env, BENCH_KIND: opts.kind, BENCH_DATABASE_URL: dbUrl },
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  })
  const ready = await new Promise<{ url: string; backend?: Backend; vectorMode?: string }>((ok, fail) => {
    child.once('error', fail)
    child.once('exit', (code) => fail(new Error(`bench server exited with ${code}`)))
    child.once('message', (m) => ok(m as { url: string }))
  })
  let next = 0
  const pending = new Map<number, { ok: (v: unknown) => void; fail: (e: Error) => void }>()
  child.on('message', (m: { id?: number; ok?: boolean; result?: unknown; error?: string }) => {
    if (m.id === undefined) return
    const p = pending.get(m.id)
    pending.delete(m.id)
    if (m.ok) p?.ok(m.result)
    else p?.fail(new Error(m.error))
  })
  const command = <T>(msg: Record<string, unknown>): Promise<T> =>
    new Promise((ok, fail) => {
      const id = next++
      pending.set(id, { ok: ok as (v: unknown) => void, fail })
      child.send({ id, ...msg })
    })
  return {
    url: ready.url,
    backend: (ready.backend as string | undefined) === 'embedded' ? 'pglite' : (ready.backend as Backend | undefined),
    vectorMode: ready.vectorMode,
    cpu: () => command<number>({ cmd: 'cpu' }),
    memory: () => command<NodeJS.MemoryUsage>({ cmd: 'memory' }),
    sql: (text, params) => command({ cmd: 'sql', sql: text, params }),
    run: (module, fn, args) => command({ cmd: 'run', module, fn, args }),
    close: async () => {
      await command({ cmd: 'close' }).catch(() => undefined)
      await dropDb?.()
    },
  }
}

let rpcId = 1
/** A 2025-era tools/call: no initialize needed (stateless), JSON answer. */
export function legacyCall(name: string, args: Record<string, unknown> = {}): { body: string; headers: Record<string, string> } {
  return {
    body: JSON.stringify({ jsonrpc: '2.0', id: rpcId++, method: 'tools/call', params: { name, arguments: args } }),
    headers: { 'content-type': 'application/json', accept: 'application/json, text/event-stream', 'mcp-protocol-version': '2025-06-18' },
  }
}

/** A 2026-07-28 tools/call with its per-request envelope, as the SDK v2 client sends it. */
export function modernCall(name: string, args: Record<string, unknown> = {}): { body: string; headers: Record<string, string> } {
  const meta = { 'io.modelcontextprotocol/protocolVersion': '2026-07-28', 'io.modelcontextprotocol/clientInfo': { name: 'bench', version: '1' }, 'io.modelcontextprotocol/clientCapabilities': {} }
  return {
    body: JSON.stringify({ jsonrpc: '2.0', id: rpcId++, method: 'tools/call', params: { name, arguments: args, _meta: meta } }),
    headers: { 'content-type': 'application/json', accept: 'application/json, text/event-stream', 'mcp-protocol-version': '2026-07-28', 'mcp-method': 'tools/call', 'mcp-name': name },
  }
}

/** Sends one request and returns the parsed JSON-RPC answer; benchmarks check it before loading. */
export async function once(url: string, req: { body: string; headers: Record<string, string> }): Promise<{ result?: { isError?: boolean; content?: { text: string }[] }; error?: unknown }> {
  const res = await fetch(url, { method: 'POST', headers: req.headers, body: req.body })
  return (await res.json()) as { result?: { isError?: boolean } }
}

export interface LoadResult {
  rps: number
  p50: number
  p99: number
  requests: number
  errors: number
  /** Server CPU per request in µs (user + system of the server process, all threads). */
  cpuUs: number
}

/** Runs autocannon against the server; `requests` may rotate several request bodies. */
export async function load(server: BenchServer, opts: { connections: number; durationSec?: number; request: { body: string; headers: Record<string, string> } | (() => { body: string; headers: Record<string, string> }) }): Promise<LoadResult> {
  const make = typeof opts.request === 'function' ? opts.request : () => opts.request as { body: string; headers: Record<string, string> }
  const first = make()
  const cpu0 = await server.cpu()
  const result = await autocannon({
    url: server.url,
    method: 'POST',
    connections: opts.connections,
    duration: opts.durationSec ?? DURATION_SEC,
    headers: first.headers,
    body: first.body,
    requests: typeof opts.request === 'function' ? [{ setupRequest: (req: Record<string, unknown>) => ({ ...req, ...make() }) }] : undefined,
  })
  const cpu1 = await server.cpu()
  const requests = result.requests.total
  return {
    rps: result.requests.average,
    p50: result.latency.p50,
    p99: result.latency.p99,
    requests,
    errors: result.errors + result.timeouts + result.non2xx,
    cpuUs: requests > 0 ? (cpu1 - cpu0) / requests : 0,
  }
}

export function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b)
  const m = Math.floor(s.length / 2)
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2
}

export interface Scenario {
  readonly name: string
  readonly run: () => Promise<LoadResult>
}

/** Runs every scenario once per round, in alternation, and returns per-scenario medians. */
export async function alternate(scenarios: Scenario[], rounds = ROUNDS): Promise<Map<string, LoadResult>> {
  const samples = new Map<string, LoadResult[]>(scenarios.map((s) => [s.name, []]))
  for (let r = 0; r < rounds; r++) {
    for (const s of scenarios) samples.get(s.name)!.push(await s.run())
  }
  const out = new Map<string, LoadResult>()
  for (const [name, xs] of samples) {
    out.set(name, {
      rps: median(xs.map((x) => x.rps)),
      p50: median(xs.map((x) => x.p50)),
      p99: median(xs.map((x) => x.p99)),
      requests: xs.reduce((s, x) => s + x.requests, 0),
      errors: xs.reduce((s, x) => s + x.errors, 0),
      cpuUs: median(xs.map((x) => x.cpuUs)),
    })
  }
  return out
}

/** Prints one table: medians, and the ratio of throughput and CPU to the named baseline row. */
export function report(title: string, results: Map<string, LoadResult>, baseline?: string): void {
  console.log(`\n## ${title} (median of ${ROUNDS} alternating rounds × ${DURATION_SEC}s)`)
  const base = baseline === undefined ? undefined : results.get(baseline)
  const rows = [...results].map(([name, r]) => ({
    scenario: name,
    'req/s': Math.round(r.rps),
    'p50 ms': r.p50,
    'p99 ms': r.p99,
    'server CPU µs/req': Math.round(r.cpuUs),
    ...(base === undefined ? {} : { 'req/s vs baseline': `${Math.round((100 * r.rps) / base.rps)}%`, 'CPU vs baseline': `${(r.cpuUs / base.cpuUs).toFixed(2)}×` }),
    errors: r.errors,
  }))
  console.table(rows)
}
