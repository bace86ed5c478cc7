/**
 * `npm run bench -- abuse` (security audit H1, M2, M3, M6): while one owner runs an attack in a loop, how
 * long `/health` takes (p50, p99) and how much server CPU the attack burns, beside an idle window measured
 * in the same run. Windows alternate round by round; medians are reported. The attacks are the ones the
 * abuse tests check: a backtracking pattern, `uniqueItems` over 25,000 items, a 1.1 MB search text, a batch
 * of 100 briefings, and a briefing over 1,500 alerts × 1,500 suppressions.
 */
import { benchBackends, legacyCall, median, once, startBenchServer, type BenchServer } from './lib.js'

const WINDOW_MS = Number(process.env.BENCH_DURATION ?? 10) * 300
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3)
const sleep = (ms: number) => new Promise((ok) => setTimeout(ok, ms))

type Attack = (server: BenchServer) => Promise<unknown>

const post = (server: BenchServer, body: unknown) =>
  fetch(server.url, { method: 'POST', headers: { 'content-type': 'application/json', accept: 'application/json, text/event-stream' }, body: JSON.stringify(body) }).then((r) => r.text())
const tool = (server: BenchServer, name: string, args: Record<string, unknown>) => once(server.url, legacyCall(name, args))
const record = (family: string, content: unknown) => ({ source: 'abuse', tags: [], description: 'r', logical_key: family, schema_ref: family, schema_version: '1', content })

const longQuery = Array.from({ length: 200_000 }, (_, i) => `w${i.toString(36)}`).join(' ')
const uniqueItems = Array.from({ length: 25_000 }, (_, i) => [i])
const batch = Array.from({ length: 100 }, (_, i) => ({ jsonrpc: '2.0', id: i + 1, method: 'tools/call', params: { name: 'get_stats', arguments: {} } }))

const ATTACKS: Record<string, Attack> = {
  'redos pattern': (s) => tool(s, 'create_record', record('schema:redos', `${'a'.repeat(34)}!`)),
  'uniqueItems 25k': (s) => tool(s, 'create_record', record('schema:unique', uniqueItems)),
  'search 1.1 MB': (s) => tool(s, 'search', { query: longQuery }),
  'batch of 100': (s) => post(s, batch),
  'briefing 1500x1500': (s) => tool(s, 'get_briefing', {}),
}

async function seed(server: BenchServer): Promise<void> {
  await tool(server, 'register_schema', { source: 'abuse', tags: [], description: 'd', family: 'schema:redos', version: '1', schema: { type: 'string', pattern: '^(a+)+$' } })
  await tool(server, 'register_schema', { source: 'abuse', tags: [], description: 'd', family: 'schema:unique', version: '1', schema: { type: 'array', uniqueItems: true } })
  await server.sql(`INSERT INTO entries (id, owner_id, type, source, created, tags, data)
    SELECT gen_random_uuid()::text, 'bench', 'alert', 'src-' || (i % 20), now() - (i || ' seconds')::interval, '["net"]',
           jsonb_build_object('alert_id', 'alert-' || i, 'level', 'warning', 'alert_type', 'threshold', 'message', 'Metric ' || i || ' crossed its threshold', 'resolved', false)
    FROM generate_series(0, 1499) AS i`)
  await server.sql(`INSERT INTO entries (id, owner_id, type, source, created, expires, tags, data)
    SELECT gen_random_uuid()::text, 'bench', 'suppression', '', now(), now() + interval '1 day', jsonb_build_array('quiet-' || i),
           jsonb_build_object('metric', NULL, 'suppress_level', 'warning', 'escalation_override', true)
    FROM generate_series(0, 1499) AS i`)
}

interface Window {
  healthP50: number
  healthP99: number
  /** Server CPU per second of wall time, in ms (1000 = one core busy). */
  cpuPerSec: number
  /** Server CPU per attacking call, in ms. */
  cpuPerCall: number
  calls: number
}

async function measure(server: BenchServer, attack: Attack | undefined): Promise<Window> {
  const health = server.url.replace(/\/mcp$/, '/health')
  const cpu0 = await server.cpu()
  const started = performance.now()
  let stop = false
  let calls = 0
  const attacker = (async () => {
    while (attack !== undefined && !stop) {
      await attack(server)
      calls++
    }
  })()
  const latencies: number[] = []
  while (performance.now() - started < WINDOW_MS) {
    const t = performance.now()
    await fetch(health).then((r) => r.text())
    latencies.push(performance.now() - t)
    await sleep(10)
  }
  stop = true
  await attacker
  const cpuMs = ((await server.cpu()) - cpu0) / 1000
  const wallMs = performance.now() - started
  latencies.sort((a, b) => a - b)
  return {
    healthP50: latencies[Math.floor(latencies.length / 2)],
    healthP99: latencies[Math.min(latencies.length - 1, Math.floor(latencies.length * 0.99))],
    cpuPerSec: (cpuMs / wallMs) * 1000,
    cpuPerCall: calls === 0 ? 0 : cpuMs / calls,
    calls,
  }
}

export async function benchAbuse(): Promise<void> {
  for (const backend of await benchBackends()) {
    const server = await startBenchServer({ kind: 'awareness', backend })
    try {
      await seed(server)
      const scenarios: [string, Attack | undefined][] = [['idle', undefined], ...Object.entries(ATTACKS)]
      const results = new Map<string, Window[]>(scenarios.map(([name]) => [name, []]))
      for (let round = 0; round < ROUNDS; round++) for (const [name, attack] of scenarios) results.get(name)!.push(await measure(server, attack))
      console.log(`\n## ${backend}: /health while one owner attacks (${ROUNDS} rounds of ${WINDOW_MS / 1000} s, medians)`)
      console.log('| scenario | /health p50 ms | /health p99 ms | server CPU ms/s | CPU ms per attack call | attack calls |')
      console.log('|---|---|---|---|---|---|')
      for (const [name, windows] of results) {
        const m = (key: keyof Window) => median(windows.map((w) => w[key]))
        console.log(`| ${name} | ${m('healthP50').toFixed(1)} | ${m('healthP99').toFixed(1)} | ${m('cpuPerSec').toFixed(0)} | ${name === 'idle' ? '—' : m('cpuPerCall').toFixed(1)} | ${m('calls').toFixed(0)} |`)
      }
    } finally {
      await server.close()
    }
  }
}
