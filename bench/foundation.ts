/**
 * Foundation benchmark: get_stats through the whole product (both protocol eras) against a bare-SDK server
 * answering one tool with one query on the same backend, and the bare Fastify floor — in one run,
 * alternating. Target: get_stats ≥ 50% of the bare-SDK throughput on the same backend.
 */
import { alternate, benchBackends, legacyCall, load, modernCall, once, report, startBenchServer, type BenchServer } from './lib.js'

async function seedNotes(server: BenchServer, n: number): Promise<void> {
  await server.sql(
    `INSERT INTO entries (id, owner_id, type, source, created, tags, data)
     SELECT gen_random_uuid()::text, 'bench', 'note', 'source-' || (i % 10), now() - (i || ' seconds')::interval, '["bench"]', jsonb_build_object('description', 'note ' || i)
     FROM generate_series(1, $1::int) AS i`,
    [n],
  )
}

export async function benchFoundation(): Promise<void> {
  const floor = await startBenchServer({ kind: 'bare-fastify' })
  try {
    for (const backend of await benchBackends()) {
      const product = await startBenchServer({ kind: 'awareness', backend })
      const bare = await startBenchServer({ kind: 'bare-sdk', backend })
      try {
        await seedNotes(product, 100)
        await seedNotes(bare, 100)
        const check = await once(product.url, modernCall('get_stats'))
        if (check.result?.isError !== undefined && check.result.isError) throw new Error('get_stats failed before the benchmark')
        for (const connections of [10, 50]) {
          const results = await alternate([
            { name: 'bare Fastify route (no MCP, no DB)', run: () => load(floor, { connections, request: { body: '{}', headers: { 'content-type': 'application/json' } } }) },
            { name: 'bare SDK, one tool, one query', run: () => load(bare, { connections, request: () => legacyCall('count') }) },
            { name: 'get_stats, 2025-era JSON', run: () => load(product, { connections, request: () => legacyCall('get_stats') }) },
            { name: 'get_stats, 2026-07-28', run: () => load(product, { connections, request: () => modernCall('get_stats') }) },
          ])
          report(`get_stats on ${backend}, ${connections} connections`, results, 'bare SDK, one tool, one query')
        }
      } finally {
        await product.close()
        await bare.close()
      }
    }
  } finally {
    await floor.close()
  }
}
