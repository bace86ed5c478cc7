/**
 * The real HTTP providers (Ollama's API and an OpenAI-compatible one) end to end through the worker pool,
 * the queue, search, backfill and the hint, against a local server with deterministic vectors, on every
 * backend — including a failing, a slow, an unreachable and a wrong-dimension provider (decision 6 and
 * mcp-surface.md §3.14: search then answers from the full-text branch and says why; nothing is written).
 */
import t, { type Test } from 'tap'
import { EmbeddingQueue } from '../search/embedding-queue.js'
import { composeEmbeddingText } from '../workers/embedder.js'
import { createEmbeddingPool, type EmbeddingPool } from '../workers/embedding-pool.js'
import { FAKE_MODEL, startEmbeddingServer, type FakeEmbeddingServer } from './fixtures/embedding-server.js'
import { backends, call, clientV1, clientV2, sharedStore, silentLogger, snapshot, startServer, type Backend, servicesFor } from './helpers.js'

const DIMS = 768

function httpPool(tt: Test, kind: 'ollama' | 'openai', fake: FakeEmbeddingServer, timeoutMs = 5_000): EmbeddingPool {
  const pool = createEmbeddingPool(
    { provider: kind, model: FAKE_MODEL, ollamaUrl: fake.base, url: fake.base, apiKey: 'k', dimensions: DIMS, timeoutMs, availabilityTimeoutMs: 1_000 },
    undefined,
    { size: 1, availabilityTtlMs: 0 },
  )
  tt.teardown(() => pool.close())
  return pool
}

async function serve(tt: Test, backend: Backend, kind: 'ollama' | 'openai', timeoutMs?: number) {
  const fake = await startEmbeddingServer(tt, DIMS)
  const pool = httpPool(tt, kind, fake, timeoutMs)
  const store = await sharedStore(backend)
  const queue = new EmbeddingQueue({ pool, index: servicesFor(store).search, log: silentLogger(), sweepIntervalMs: 0, retryBaseMs: 50, retryMaxMs: 100, maxAttempts: 2, busyFloorMs: 60_000 })
  tt.teardown(() => queue.close())
  const srv = await startServer(tt, { backend, embed: queue, embedder: pool })
  return { fake, pool, queue, srv }
}

for (const backend of backends()) {
  t.test(`HTTP embedding providers on ${backend}`, async (t) => {
    for (const kind of ['ollama', 'openai'] as const) {
      t.test(`${kind}: entries embedded with the provider's vectors; hybrid search and hint use them`, async (t) => {
        const { fake, queue, srv } = await serve(t, backend, kind)
        const c = await clientV1(t, srv.url)
        const a = await call(c, 'remember', { source: 'garden', tags: ['plants'], description: 'Water the tomatoes every morning' })
        await call(c, 'remember', { source: 'garden', tags: [], description: 'The shed key hangs by the door' })
        await queue.idle()
        const [row] = await srv.store.withOwner(srv.owner, (tx) => tx`SELECT embedding::text AS v, model, dimensions FROM embeddings WHERE entry_id = ${a.body.id}`)
        t.match(row, { model: FAKE_MODEL, dimensions: DIMS })
        const stored = (row.v as string).slice(1, -1).split(',').map(Number)
        const expected = fake.vector(composeEmbeddingText({ type: 'note', source: 'garden', tags: ['plants'], data: { description: 'Water the tomatoes every morning', learned_from: 'conversation' } }))
        t.ok(stored.every((x, i) => Math.abs(x - expected[i]) < 1e-6), 'the stored vector is the provider\'s answer for the composed text')
        const r = await call(c, 'search', { query: 'tomato watering' })
        t.equal(r.body.mode, 'hybrid')
        t.equal(r.body.entries[0].id, a.body.id, 'found by meaning (shared word pieces) although no word matches exactly')
        t.same((await call(c, 'backfill_embeddings', {})).body, { status: 'ok', new_embeddings: 0, refreshed_embeddings: 0, remaining: 0 })
        const h = await call(c, 'get_knowledge', { hint: 'tomatoes' })
        t.equal(h.body.entries[0].id, a.body.id)
        t.ok(h.body.entries[0].similarity > 0)
      })
    }

    t.test('a provider that fails to embed: search degrades with its error text, backfill writes nothing', async (t) => {
      const { fake, queue, srv } = await serve(t, backend, 'ollama')
      const c = await clientV2(t, srv.url)
      fake.mode = 'fail-embed'
      const id = (await call(c, 'remember', { source: 's', tags: [], description: 'exact words survive' })).body.id
      await queue.idle()
      const r = await call(c, 'search', { query: 'exact words' })
      t.equal(r.isError, false)
      t.match(r.body, { mode: 'lexical', degraded: 'lexical_only' })
      t.match(r.body.warning, /^Embedding error: .*HTTP 500: model exploded/)
      t.same(r.body.entries.map((e: { id: string }) => e.id), [id])
      const b = await call(c, 'backfill_embeddings', {})
      t.match(b.body, { status: 'ok', new_embeddings: 0, refreshed_embeddings: 0, remaining: 1, failed: 1, error: /HTTP 500/ })
      const [n] = await srv.store.withOwner(srv.owner, (tx) => tx`SELECT count(*)::int AS n FROM embeddings WHERE owner_id = ${srv.owner}`)
      t.equal(n.n, 0, 'nothing written')
      await srv.reads.flush()
      const reads = await srv.store.withOwner(srv.owner, (tx) => tx`SELECT entry_id FROM reads WHERE owner_id = ${srv.owner} AND tool_used = 'search'`)
      t.same(reads.map((x) => x.entry_id), [id], 'the degraded search logged its read as usual')
    })

    t.test('a wrong-dimension answer: a clean error, nothing written', async (t) => {
      const { fake, queue, srv } = await serve(t, backend, 'openai')
      const c = await clientV1(t, srv.url)
      fake.mode = 'wrong-dim'
      await call(c, 'remember', { source: 's', tags: [], description: 'dimension trouble' })
      await queue.idle()
      const r = await call(c, 'search', { query: 'dimension' })
      t.match(r.body, { mode: 'lexical', degraded: 'lexical_only', warning: /returned a vector of 767 dimensions, expected 768/ })
      t.match((await call(c, 'backfill_embeddings', {})).body, { new_embeddings: 0, remaining: 1, failed: 1, error: /767 dimensions/ })
      const [n] = await srv.store.withOwner(srv.owner, (tx) => tx`SELECT count(*)::int AS n FROM embeddings WHERE owner_id = ${srv.owner}`)
      t.equal(n.n, 0)
      fake.mode = 'empty'
      t.match((await call(c, 'search', { query: 'dimension' })).body.warning, /Embedding error: .*0 dimensions/)
    })

    t.test('a slow provider: search gives up at the provider timeout and answers lexically', async (t) => {
      const { fake, srv } = await serve(t, backend, 'ollama', 300)
      const c = await clientV2(t, srv.url)
      await call(c, 'remember', { source: 's', tags: [], description: 'slow but found' })
      fake.mode = 'slow'
      // Far longer than the 300 ms provider timeout, so "did not wait" holds on a loaded machine too.
      fake.delayMs = 30_000
      const started = Date.now()
      const r = await call(c, 'search', { query: 'found' })
      t.ok(Date.now() - started < 15_000, 'did not wait for the provider')
      t.match(r.body, { mode: 'lexical', degraded: 'lexical_only', warning: /no answer within 300 ms/ })
      t.equal(r.body.entries.length, 1)
    })

    t.test('an unreachable provider: search is lexical, backfill is unavailable (retryable)', async (t) => {
      const { fake, srv } = await serve(t, backend, 'ollama')
      const c = await clientV1(t, srv.url)
      await call(c, 'remember', { source: 's', tags: [], description: 'still searchable' })
      fake.mode = 'drop'
      const r = await call(c, 'search', { query: 'searchable' })
      t.match(r.body, { mode: 'lexical', degraded: 'lexical_only', warning: /not reachable/ })
      t.equal(r.body.entries.length, 1)
      const before = await snapshot(srv.store, srv.owner)
      const b = await call(c, 'backfill_embeddings', {})
      t.equal(b.isError, true)
      t.match(b.body.error, { code: 'unavailable', retryable: true, message: /embedding provider/ })
      t.notOk('param' in b.body.error)
      t.equal(await snapshot(srv.store, srv.owner), before, 'nothing changed')
      const h = await call(c, 'get_knowledge', { hint: 'searchable' })
      t.ok(h.body.entries.every((e: object) => !('similarity' in e)), 'the hint is silently ignored')
    })
  })
}
