/**
 * `npm run bench [name…]`: runs the benchmarks (all by default) and prints their figures.
 * BENCH_DURATION (s per run, default 10) and BENCH_ROUNDS (alternating rounds, default 3) tune the cost.
 */
import { existsSync } from 'node:fs'

const BENCHES: Record<string, { file: string; fn: string }> = {
  foundation: { file: './foundation.ts', fn: 'benchFoundation' },
  knowledge: { file: './knowledge.ts', fn: 'benchKnowledge' },
  briefing: { file: './briefing.ts', fn: 'benchBriefing' },
  search: { file: './search.ts', fn: 'benchSearch' },
  auth: { file: './auth.ts', fn: 'benchAuth' },
  retrieval: { file: './retrieval.ts', fn: 'benchRetrieval' },
  abuse: { file: './abuse.ts', fn: 'benchAbuse' },
  soak: { file: './soak.ts', fn: 'benchSoak' },
  faults: { file: './faults.ts', fn: 'benchFaults' },
}

const wanted = process.argv.slice(2)
const names = wanted.length > 0 ? wanted : Object.keys(BENCHES)
console.log(`# Awareness benchmarks (${new Date().toISOString()}, node ${process.version}); shared machine: compare ratios and CPU per request, not bare req/s`)
for (const name of names) {
  const bench = BENCHES[name]
  if (bench === undefined) throw new Error(`unknown benchmark '${name}'; known: ${Object.keys(BENCHES).join(', ')}`)
  const url = new URL(bench.file, import.meta.url)
  if (!existsSync(url)) {
    console.log(`\n(skipping ${name}: ${bench.file} is not present)`)
    continue
  }
  console.log(`\n# ${name}`)
  const mod = (await import(url.href)) as Record<string, () => Promise<void>>
  await mod[bench.fn]()
}
