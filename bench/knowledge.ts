/**
 * Knowledge benchmark (issue: knowledge, data management, activity, typed records): `remember` and
 * `get_knowledge` returning 50 entries, at 10 connections on each backend, beside the foundation's
 * baselines (bare SDK one-query server, get_stats) measured in the same run, alternating.
 */
import { alternate, benchBackends, legacyCall, load, once, report, startBenchServer } from './lib.js'

let n = 0
const rememberCall = () => legacyCall('remember', { source: `bench-${n % 20}`, tags: ['bench', `t${n % 7}`], description: `Benchmark note number ${n++} about servers, backups and family plans`, language: 'en' })

export async function benchKnowledge(): Promise<void> {
  for (const backend of await benchBackends()) {
    const product = await startBenchServer({ kind: 'awareness', backend })
    const bare = await startBenchServer({ kind: 'bare-sdk', backend })
    try {
      // 500 notes so a 50-entry page is a real page of a larger store.
      await product.sql(
        `INSERT INTO entries (id, owner_id, type, source, created, tags, data, language)
         SELECT gen_random_uuid()::text, 'bench', 'note', 'seed-' || (i % 10), now() - (i || ' seconds')::interval, '["seed","bench"]',
                jsonb_build_object('description', 'seeded note ' || i, 'learned_from', 'bench'), 'english'
         FROM generate_series(1, 500) AS i`,
      )
      const check = await once(product.url, legacyCall('get_knowledge', { limit: 50 }))
      const page = JSON.parse(check.result?.content?.[0]?.text ?? '{}') as { entries?: unknown[] }
      if (page.entries?.length !== 50) throw new Error('get_knowledge did not return 50 entries before the benchmark')
      const connections = 10
      const results = await alternate([
        { name: 'bare SDK, one tool, one query', run: () => load(bare, { connections, request: () => legacyCall('count') }) },
        { name: 'get_stats', run: () => load(product, { connections, request: () => legacyCall('get_stats') }) },
        { name: 'remember (new note, language en)', run: () => load(product, { connections, request: rememberCall }) },
        { name: 'get_knowledge, 50 entries', run: () => load(product, { connections, request: () => legacyCall('get_knowledge', { limit: 50, tags: ['seed'] }) }) },
        { name: 'get_knowledge, 50 entries, list mode', run: () => load(product, { connections, request: () => legacyCall('get_knowledge', { limit: 50, tags: ['seed'], mode: 'list' }) }) },
      ])
      report(`knowledge tools on ${backend}, ${connections} connections`, results, 'bare SDK, one tool, one query')
    } finally {
      await product.close()
      await bare.close()
    }
  }
}
