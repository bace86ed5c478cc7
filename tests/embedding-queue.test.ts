/**
 * The background embedding queue (data-and-engine.md §5.6, §9.2, §11 items 41, 52, 66) against a real
 * HTTP provider (a local server speaking Ollama's API) through the worker pool, on every backend: writes
 * never wait, jobs coalesce, results are hash-guarded, a down or slow provider is retried with backoff, a
 * wrong-dimension answer writes nothing, and the sweep repairs what the queue gave up.
 */
import t, { type Test } from 'tap'
import pino from 'pino'
import { EmbeddingQueue, type EmbeddingQueueOptions } from '../search/embedding-queue.js'
import { compose, storeVectors } from '../search/backfill.js'
import type { Store } from '../store/index.js'
import { readEmbeddable } from '../store/queries/embeddings.js'
import { EmbeddingError, HashProvider } from '../workers/embedder.js'
import { createEmbeddingPool, type EmbeddingPool } from '../workers/embedding-pool.js'
import { FAKE_MODEL, startEmbeddingServer, type FakeEmbeddingServer } from './fixtures/embedding-server.js'
import { backends, call, clientV1, clientV2, openStore, sharedStore, startServer, uniqueOwner, type Backend, servicesFor } from './helpers.js'

const DIMS = 768

function collectingLog() {
  const lines: { level: string; msg: string; obj: Record<string, unknown> }[] = []
  const at = (level: string) => (obj: unknown, msg?: string) => void lines.push({ level, msg: msg ?? String(obj), obj: typeof obj === 'object' && obj !== null ? (obj as Record<string, unknown>) : {} })
  const log = Object.assign(pino({ level: 'silent' }), { debug: at('debug'), info: at('info'), warn: at('warn'), error: at('error') })
  return { log, lines }
}

/** A one-worker pool on the fake server; availability asked every time, so mode switches are seen at once. */
function ollamaPool(tt: Test, fake: FakeEmbeddingServer, timeoutMs = 5_000): EmbeddingPool {
  const pool = createEmbeddingPool({ provider: 'ollama', model: FAKE_MODEL, ollamaUrl: fake.base, url: '', apiKey: '', dimensions: DIMS, timeoutMs, availabilityTimeoutMs: 1_000 }, undefined, { size: 1, availabilityTtlMs: 0 })
  tt.teardown(() => pool.close())
  return pool
}

async function setup(tt: Test, backend: Backend, opts: Partial<EmbeddingQueueOptions> & { timeoutMs?: number } = {}) {
  const fake = await startEmbeddingServer(tt, DIMS)
  const pool = ollamaPool(tt, fake, opts.timeoutMs)
  const store = await sharedStore(backend)
  const { log, lines } = collectingLog()
  // Yielding to foreground load is tested on its own; elsewhere a slow shared machine must not defer jobs.
  const queue = new EmbeddingQueue({ sweepIntervalMs: 0, retryBaseMs: 100, retryMaxMs: 400, busyFloorMs: 60_000, quietMs: 0, ...opts, pool, index: servicesFor(store).search, log })
  tt.teardown(() => queue.close())
  const srv = await startServer(tt, { backend, embed: queue, embedder: pool })
  return { fake, pool, store, queue, srv, lines }
}

async function embeddedRows(store: Store, owner: string) {
  return store.withOwner(owner, (tx) => tx`SELECT entry_id, text_hash, model, dimensions FROM embeddings WHERE owner_id = ${owner} ORDER BY entry_id`)
}

async function until(cond: () => Promise<boolean> | boolean, ms = 10_000): Promise<boolean> {
  const end = Date.now() + ms
  while (Date.now() < end) {
    if (await cond()) return true
    await new Promise((r) => setTimeout(r, 25))
  }
  return false
}

for (const backend of backends()) {
  t.test(`embedding queue on ${backend}`, async (t) => {
    t.test('writes return before embedding; jobs for one entry coalesce; the stored hash is the current text\'s', async (t) => {
      const { fake, store, queue, srv } = await setup(t, backend)
      const c = await clientV1(t, srv.url)
      await call(c, 'remember', { source: 'warm', tags: [], description: 'warm the worker up' })
      await queue.idle()
      fake.mode = 'slow'
      fake.delayMs = 4_000
      const sent = fake.inputs.length
      const started = Date.now()
      const first = await call(c, 'remember', { source: 's', tags: [], description: 'version one', logical_key: 'doc' })
      const took = Date.now() - started
      t.ok(took < 3_500, `remember answered in ${took} ms, before the slow provider did`)
      t.equal((await embeddedRows(store, srv.owner)).length, 1, 'only the warm-up entry: not embedded yet')
      // While the first job waits on the provider, the entry changes twice: one more job, not two.
      await call(c, 'remember', { source: 's', tags: [], description: 'version two', logical_key: 'doc' })
      await call(c, 'remember', { source: 's', tags: [], description: 'version three', logical_key: 'doc' })
      await queue.idle()
      t.equal(fake.inputs.length - sent, 2, 'the first job, then the two later writes coalesced into one')
      const rows = await embeddedRows(store, srv.owner)
      const current = await store.withOwner(srv.owner, (tx) => readEmbeddable(tx, srv.owner, [first.body.id]))
      t.equal(rows.find((r) => r.entry_id === first.body.id)?.text_hash, compose(current[0]).hash, 'the vector of the final text, never of version one')
      t.match(rows[0], { model: FAKE_MODEL, dimensions: DIMS })
    })

    t.test('the hash guard: a vector of outdated text is not stored; a wrong dimension is a clean error', async (t) => {
      const store = await sharedStore(backend)
      const owner = uniqueOwner()
      const srv = await startServer(t, { backend, owner })
      const c = await clientV2(t, srv.url)
      const { body } = await call(c, 'remember', { source: 's', tags: [], description: 'before', logical_key: 'k' })
      const [before] = await store.withOwner(owner, (tx) => readEmbeddable(tx, owner, [body.id]))
      const item = compose(before)
      const hash = new HashProvider(DIMS)
      await call(c, 'remember', { source: 's', tags: [], description: 'after', logical_key: 'k' })
      t.equal(await storeVectors(servicesFor(store).search, owner, hash.modelName, [item], [hash.vector(item.text)]), 0, 'outdated: dropped')
      t.equal((await embeddedRows(store, owner)).length, 0)
      const [after] = await store.withOwner(owner, (tx) => readEmbeddable(tx, owner, [body.id]))
      const fresh = compose(after)
      const err = await storeVectors(servicesFor(store).search, owner, hash.modelName, [fresh], [new HashProvider(DIMS - 1).vector(fresh.text)]).catch((e: unknown) => e)
      t.ok(err instanceof EmbeddingError)
      t.match(err, { code: 'EMBEDDING_BAD_RESPONSE', message: /767 dimensions; the database stores 768/ })
      t.equal((await embeddedRows(store, owner)).length, 0, 'nothing written')
      t.equal(await storeVectors(servicesFor(store).search, owner, hash.modelName, [fresh], [hash.vector(fresh.text)]), 1)
      t.equal((await embeddedRows(store, owner))[0].text_hash, fresh.hash)
    })

    t.test('provider down: writes succeed, the queue pauses and retries, entries are embedded once it is back', async (t) => {
      const { fake, store, queue, srv, lines } = await setup(t, backend)
      fake.mode = 'drop'
      const c = await clientV1(t, srv.url)
      const answers = await Promise.all(['one', 'two', 'three'].map((d) => call(c, 'remember', { source: 's', tags: [], description: `note ${d}` })))
      t.ok(answers.every((a) => !a.isError), 'every write succeeded')
      t.ok(await until(() => queue.stats().paused), 'the queue paused after the failure')
      t.equal((await embeddedRows(store, srv.owner)).length, 0)
      t.ok(lines.some((l) => l.level === 'warn' && /pausing the queue/.test(l.msg)), 'the failure is logged')
      fake.mode = 'ok'
      await queue.idle()
      t.equal((await embeddedRows(store, srv.owner)).length, 3, 'all three embedded after the provider came back')
      t.same(queue.stats().pending, 0)
    })

    t.test('a slow provider times out, is retried, and never blocks a write', async (t) => {
      const { fake, store, queue, srv } = await setup(t, backend, { timeoutMs: 300 })
      fake.mode = 'slow'
      fake.delayMs = 20_000
      const c = await clientV2(t, srv.url)
      const started = Date.now()
      await call(c, 'remember', { source: 's', tags: [], description: 'patience' })
      t.ok(Date.now() - started < 10_000, 'the write did not wait')
      t.ok(await until(() => queue.stats().paused), 'a timeout pauses the queue like any transient failure')
      fake.mode = 'ok'
      await queue.idle()
      t.equal((await embeddedRows(store, srv.owner)).length, 1)
    })

    t.test('a wrong-dimension answer writes nothing and is left to the sweep; the sweep repairs dropped jobs', async (t) => {
      const { fake, store, queue, srv, lines } = await setup(t, backend, { maxAttempts: 1 })
      const c = await clientV1(t, srv.url)
      fake.mode = 'wrong-dim'
      await call(c, 'remember', { source: 's', tags: [], description: 'wrong size' })
      await queue.idle()
      t.equal((await embeddedRows(store, srv.owner)).length, 0, 'nothing written')
      const warn = lines.find((l) => /left to the sweep/.test(l.msg))
      t.match(warn?.obj.err, /767 dimensions, expected 768/, 'a clean, logged error')
      fake.mode = 'drop'
      await call(c, 'remember', { source: 's', tags: [], description: 'dropped after one attempt' })
      await queue.idle()
      t.equal((await embeddedRows(store, srv.owner)).length, 0)
      // An entry no tool schedules (a preference) is found by the sweep too.
      await call(c, 'set_preference', { key: 'theme', value: 'dark' })
      fake.mode = 'ok'
      await queue.sweep()
      t.equal((await embeddedRows(store, srv.owner)).length, 3, 'the sweep embedded all three')
      t.equal(queue.stats().dirtyOwners, 0)
    })

    t.test('a burst of writes waits for a pause, then goes to the provider in one batch', async (t) => {
      const { fake, store, queue, srv } = await setup(t, backend, { quietMs: 1_500 })
      const c = await clientV1(t, srv.url)
      const sent = fake.inputs.length
      for (const d of ['burst one', 'burst two', 'burst three']) await call(c, 'remember', { source: 's', tags: [], description: d })
      t.equal(fake.inputs.length, sent, 'nothing sent while the writes keep coming')
      await queue.idle()
      t.equal(fake.inputs.length - sent, 1, 'one provider call')
      t.equal(fake.inputs.at(-1)?.length, 3, 'with all three texts')
      t.equal((await embeddedRows(store, srv.owner)).length, 3)
    })

    t.test('foreground first: a batch meeting a busy database yields, and is embedded once the load eases', async (t) => {
      const { store, queue, srv } = await setup(t, backend, { busyFloorMs: 20, maxDeferMs: 20_000 })
      const c = await clientV2(t, srv.url)
      await call(c, 'remember', { source: 's', tags: [], description: 'quiet start' })
      await queue.idle()
      // Keep the database busy: back-to-back transactions that hold it (PGlite runs one at a time; on
      // PostgreSQL an exclusive table lock makes every other reader wait the same way). Two loops, so one
      // is always holding or already queued: with one, a batch whose read fell into the gap between two
      // holds found the database idle and was embedded at once (seen under CI load on PostgreSQL).
      let hogging = true
      const hogLoop = async () => {
        while (hogging) {
          await store.system(async (tx) => {
            if (backend === 'postgres') await tx`LOCK TABLE entries IN ACCESS EXCLUSIVE MODE`
            await tx`SELECT pg_sleep(0.08)`
          })
        }
      }
      const hog = Promise.all([hogLoop(), hogLoop()])
      await call(c, 'remember', { source: 's', tags: [], description: 'written under load' })
      t.ok(await until(() => queue.stats().deferred > 0), 'the batch yielded to the load')
      t.equal((await embeddedRows(store, srv.owner)).length, 1, 'not embedded while busy')
      hogging = false
      await hog
      await queue.idle()
      t.equal((await embeddedRows(store, srv.owner)).length, 2, 'embedded once the load eased')
    })

    t.test('a full queue drops its oldest job; suppressions are never embedded', async (t) => {
      const { fake, store, queue, srv } = await setup(t, backend, { capacity: 2, concurrency: 1, batchSize: 1 })
      const c = await clientV2(t, srv.url)
      fake.mode = 'slow'
      fake.delayMs = 1_000
      const ids: string[] = []
      for (const d of ['a', 'b', 'c', 'd']) ids.push((await call(c, 'remember', { source: 's', tags: [], description: `queued ${d}` })).body.id)
      await queue.idle()
      t.equal((await embeddedRows(store, srv.owner)).length, 3, 'one running, two kept, the oldest waiting one dropped')
      fake.mode = 'ok'
      await queue.sweep()
      t.equal((await embeddedRows(store, srv.owner)).length, 4, 'the sweep repaired it')
      const [s] = await store.withOwner(srv.owner, (tx) => tx`INSERT INTO entries (id, owner_id, type, source, created, tags, data) VALUES (gen_random_uuid()::text, ${srv.owner}, 'suppression', 's', now(), '[]', '{"description":"quiet"}') RETURNING id`)
      queue.schedule(srv.owner, s.id as string)
      await queue.idle()
      await queue.sweep()
      t.equal((await embeddedRows(store, srv.owner)).length, 4, 'no suppression embedded')
    })
  })
}

t.test('the start repair asks the provider nothing while nothing lacks an embedding', async (t) => {
  // Asking loads the built-in model (~120 MB per worker): before, the repair asked at every start, on an
  // empty database too (1 question here before the change, 0 now).
  const { store, dispose } = await openStore(backends()[0], { dimensions: 64 })
  t.teardown(dispose)
  const hash = new HashProvider(64)
  const asked = { available: 0, embed: 0 }
  const pool = { modelName: hash.modelName, dimensions: 64, available: async () => (asked.available++, true), embed: async (texts: string[]) => (asked.embed++, hash.embed(texts)) }
  const { log } = collectingLog()
  const queue = new EmbeddingQueue({ pool, index: servicesFor(store).search, log, repairAtStartMs: 10, quietMs: 0 })
  t.teardown(() => queue.close())
  await queue.sweep()
  t.same(asked, { available: 0, embed: 0 }, 'an empty database: no question, no model')

  const owner = uniqueOwner()
  const srv = await startServer(t, { backend: backends()[0], store, owner })
  const client = await clientV1(t, srv.url)
  t.equal((await call(client, 'remember', { source: 's', tags: [], description: 'written while nothing embeds it' })).isError, false)
  await queue.sweep()
  t.ok(asked.available > 0 && asked.embed > 0, `an entry without an embedding: asked and embedded (${JSON.stringify(asked)})`)
})
