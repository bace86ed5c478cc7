/**
 * Hybrid search, semantic_search, backfill_embeddings and get_knowledge's hint through real MCP clients of
 * both eras, on every backend: pgvector mode on PGlite, array mode on PostgreSQL without pgvector
 * (data-and-engine.md §5–§7, §11 items 40–55; mcp-surface.md §3.4, §3.14, §3.15, §3.32, §4.5, checklist §10).
 */
import t, { type Test } from 'tap'
import { randomUUID } from 'node:crypto'
import { EmbeddingQueue } from '../search/embedding-queue.js'
import { BRANCH_LIMIT, LEXICAL_WEIGHT, RRF_K, VECTOR_WEIGHT, vectorBranch } from '../search/hybrid.js'
import type { Embedder } from '../core/ports.js'
import type { Store } from '../store/index.js'
import { upsertEmbeddings } from '../store/queries/embeddings.js'
import { HashProvider, composeEmbeddingText, textHash } from '../workers/embedder.js'
import { createEmbeddingPool, type EmbeddingPool } from '../workers/embedding-pool.js'
import { backends, call, clientV1, clientV2, openStore, sharedStore, silentLogger, snapshot, startServer, uniqueOwner, type Backend, servicesFor } from './helpers.js'
import { mulberry32 } from './fixtures/random.js'

const DIMS = 768
const r4 = (x: number) => Math.round(x * 10_000) / 10_000
/** Fused scores of a rank-1 hit: full-text only, vector only, both (search/hybrid.ts). */
const TOP_LEXICAL = r4(LEXICAL_WEIGHT / (RRF_K + 1))
const TOP_VECTOR = r4(VECTOR_WEIGHT / (RRF_K + 1))
const TOP_BOTH = r4((LEXICAL_WEIGHT + VECTOR_WEIGHT) / (RRF_K + 1))

let pool: EmbeddingPool | undefined
/** One hash-provider pool (two worker threads) for the whole file. */
function hashPool(): EmbeddingPool {
  if (pool === undefined) {
    const p = createEmbeddingPool({ provider: 'hash', model: '', ollamaUrl: '', url: '', apiKey: '', dimensions: DIMS })
    t.teardown(() => p.close())
    pool = p
  }
  return pool
}

/** A server acting for a fresh owner, with the hash provider and a real background queue. */
async function hybridServer(tt: Test, backend: Backend, owner?: string) {
  const store = await sharedStore(backend)
  const embedder = hashPool()
  const queue = new EmbeddingQueue({ pool: embedder, index: servicesFor(store).search, log: silentLogger(), sweepIntervalMs: 0, busyFloorMs: 60_000 })
  tt.teardown(() => queue.close())
  const srv = await startServer(tt, { backend, embed: queue, embedder, owner })
  return { ...srv, queue, embedder }
}

const ids = (body: { entries: { id: string }[] }) => body.entries.map((e) => e.id)
const descriptions = (body: { entries: { data: { description: string } }[] }) => body.entries.map((e) => e.data.description)

for (const backend of backends()) {
  t.test(`search on ${backend}`, async (t) => {
    t.test('without a provider: lexical mode, exact terms, description words, limits, list mode, read logging', async (t) => {
      const srv = await startServer(t, { backend })
      const c = await clientV1(t, srv.url)
      const rare = await call(c, 'remember', { source: 'nas', tags: ['infra'], description: 'The zyxquartz controller sits in rack four' })
      await call(c, 'remember', { source: 'nas', tags: ['infra'], description: 'Backups of the photo library run every Friday night' })
      await call(c, 'remember', { source: 'home', tags: [], description: 'Friday is pizza night' })
      const r = await call(c, 'search', { query: 'zyxquartz' })
      t.equal(r.isError, false)
      t.equal(r.body.mode, 'lexical', 'decision 6: no provider is not an error')
      t.notOk('degraded' in r.body, 'nothing is degraded: no provider is configured')
      t.same(ids(r.body), [rare.body.id])
      t.equal(r.body.entries[0].similarity, TOP_LEXICAL, 'a top lexical-only hit scores 1/11')
      t.same({ limit: r.body.limit, offset: r.body.offset, has_more: r.body.has_more }, { limit: 10, offset: 0, has_more: false })
      const words = await call(c, 'search', { query: 'friday night' })
      t.equal(words.body.entries.length, 2, 'every word must match, in any order')
      t.equal((await call(c, 'search', { query: 'friday night', source: 'home' })).body.entries.length, 1, 'source narrows')
      const one = await call(c, 'search', { query: 'friday', limit: 0 })
      t.equal(one.body.limit, 1, 'limit 0 → 1')
      t.equal(one.body.entries.length, 1)
      t.equal(one.body.has_more, true)
      t.equal((await call(c, 'search', { query: 'friday', limit: 999 })).body.limit, 100, 'limit 999 → 100')
      t.equal((await call(c, 'search', { query: 'friday', limit: -5 })).body.limit, 1)
      const list = await call(c, 'search', { query: 'zyxquartz', mode: 'list' })
      t.notOk('data' in list.body.entries[0])
      t.equal(list.body.entries[0].description, 'The zyxquartz controller sits in rack four')
      t.ok(list.body.entries[0].similarity > 0)
      await srv.reads.flush()
      const reads = await srv.store.withOwner(srv.owner, (tx) => tx`SELECT entry_id, tool_used, platform FROM reads WHERE tool_used = 'search'`)
      t.equal(reads.length, 1 + 2 + 1 + 1 + 2 + 1 + 1, 'one read per returned entry (the has_more probe row is not logged)')
      t.equal(reads[0].platform, null)
      const none = await call(c, 'search', { query: 'the of and' })
      t.same(none.body.entries, [], 'a stop-word-only query matches nothing lexically, without error')
    })

    t.test('semantic_search is the same tool under a deprecated name', async (t) => {
      const srv = await hybridServer(t, backend)
      const c = await clientV2(t, srv.url)
      for (const d of ['Tomatoes need watering twice a day in July', 'The garage door code changed', 'Watering schedule for the orchard']) await call(c, 'remember', { source: 'garden', tags: [], description: d })
      await srv.queue.idle()
      const a = await call(c, 'search', { query: 'watering', limit: 3 })
      const b = await call(c, 'semantic_search', { query: 'watering', limit: 3 })
      t.same(b.body, a.body)
      t.equal(a.body.mode, 'hybrid')
      t.same((await call(c, 'semantic_search', { query: 'x', since: 'nope' })).body, (await call(c, 'search', { query: 'x', since: 'nope' })).body)
      const tools = (await c.listTools()).tools
      t.match(tools.find((x) => x.name === 'semantic_search')?.description, /^Deprecated: use search/)
      await srv.reads.flush()
      const reads = await srv.store.withOwner(srv.owner, (tx) => tx`SELECT DISTINCT tool_used FROM reads`)
      t.same(reads.map((r) => r.tool_used), ['search'], "semantic_search logs reads as 'search'")
    })

    t.test('hybrid: stemming in another language, exact rare terms, both-branch scores', async (t) => {
      const srv = await hybridServer(t, backend)
      const c = await clientV1(t, srv.url)
      const retirement = await call(c, 'remember', { source: 'finance', tags: ['money'], description: 'retirement planning', language: 'en' })
      await call(c, 'remember', { source: 'finance', tags: [], description: 'Servers in the basement need new fans', language: 'en' })
      await call(c, 'remember', { source: 'work', tags: [], description: 'Quarterly review with the platform team', language: 'en' })
      const code = await call(c, 'remember', { source: 'work', tags: [], description: 'Ticket QX-4471 tracks the flaky login test' })
      await srv.queue.idle()
      const stem = await call(c, 'search', { query: 'retiring', language: 'en' })
      t.equal(stem.body.mode, 'hybrid')
      t.equal(stem.body.entries[0].id, retirement.body.id, '"retiring" finds "retirement planning" with language en')
      t.ok(stem.body.entries[0].similarity > TOP_LEXICAL, 'matched by both branches')
      t.equal(stem.body.entries.length, 4, 'the vector branch brings every embedded entry as a candidate')
      const unnamed = await call(c, 'search', { query: 'retiring' })
      t.same(unnamed.body.entries[0], stem.body.entries[0], 'without language, the query is stemmed as the English entry was')
      const servers = await call(c, 'search', { query: 'Which server needs fans?' })
      t.equal(servers.body.entries[0].data.description, 'Servers in the basement need new fans', 'a question finds the note that shares its words, in their stored forms')
      t.equal(servers.body.entries[0].similarity, TOP_BOTH, 'top in both branches')
      const exact = await call(c, 'search', { query: 'QX-4471' })
      t.equal(exact.body.entries[0].id, code.body.id)
      t.equal(exact.body.entries[0].similarity, TOP_BOTH, 'top in both branches scores 1.5/11')
      const empty = await call(c, 'search', { query: '' })
      t.equal(empty.isError, false, 'an empty query is vector-only, not an error')
      const stop = await call(c, 'search', { query: 'the of and', language: 'en' })
      t.ok(stop.body.entries.length > 0 && stop.body.entries.every((e: { similarity: number }) => e.similarity <= TOP_VECTOR), 'a stop-word-only query gives vector-only results')
      const nobody = await hybridServer(t, backend)
      t.same((await call(await clientV2(t, nobody.url), 'search', { query: 'retiring' })).body.entries, [], 'an empty store returns []')
    })

    t.test('every filter applies to both branches; expired entries hidden (decision 7)', async (t) => {
      const srv = await hybridServer(t, backend)
      const c = await clientV2(t, srv.url)
      const note = await call(c, 'remember', { source: 'alpha', tags: ['a', 'b'], description: 'kettle descaling reminder' })
      const other = await call(c, 'remember', { source: 'beta', tags: ['a'], description: 'kettle warranty details' })
      const ctx = await call(c, 'add_context', { source: 'alpha', tags: ['a'], description: 'kettle is broken this week' })
      const old = await call(c, 'remember', { source: 'alpha', tags: ['a', 'b'], description: 'kettle bought in 2019' })
      await srv.queue.idle()
      await srv.store.withOwner(srv.owner, (tx) => tx`UPDATE entries SET created = '2020-01-01T00:00:00Z' WHERE id = ${old.body.id}`)
      const all = await call(c, 'search', { query: 'kettle' })
      t.equal(all.body.entries.length, 4)
      const check = async (args: Record<string, unknown>, expected: string[], label: string) => {
        const r = await call(c, 'search', { query: 'kettle', ...args })
        t.same(ids(r.body).sort(), [...expected].sort(), label)
        // The word matches every entry and the vector branch ranks every embedded one: a filter missing from
        // either branch would let a foreign entry through.
        const vectorOnly = await call(c, 'search', { query: 'zzzz-nothing-matches', ...args })
        t.same(ids(vectorOnly.body).sort(), [...expected].sort(), `${label} (vector branch alone)`)
      }
      await check({ entry_type: 'context' }, [ctx.body.id], 'entry_type')
      await check({ source: 'beta' }, [other.body.id], 'source')
      await check({ tags: ['a', 'b'] }, [note.body.id, old.body.id], 'tags AND')
      await check({ since: '2021-01-01' }, [note.body.id, other.body.id, ctx.body.id], 'since')
      await check({ until: '2020-06-01T00:00:00Z' }, [old.body.id], 'until')
      await srv.store.withOwner(srv.owner, (tx) => tx`UPDATE entries SET expires = now() - interval '1 minute' WHERE id = ${ctx.body.id}`)
      await check({}, [note.body.id, other.body.id, old.body.id], 'expired hidden')
      await check({ include_expired: true }, [note.body.id, other.body.id, ctx.body.id, old.body.id], 'include_expired')
      await srv.store.withOwner(srv.owner, (tx) => tx`UPDATE entries SET deleted = now() WHERE id = ${other.body.id}`)
      await check({ include_expired: true }, [note.body.id, ctx.body.id, old.body.id], 'trashed never')
    })

    t.test('owners never see each other, in either branch', async (t) => {
      const alice = await hybridServer(t, backend)
      const bob = await hybridServer(t, backend)
      const a = await clientV1(t, alice.url)
      const b = await clientV2(t, bob.url)
      await call(a, 'remember', { source: 'secret', tags: [], description: 'alice lighthouse password hint' })
      const mine = await call(b, 'remember', { source: 'mine', tags: [], description: 'bob garden plan' })
      await Promise.all([alice.queue.idle(), bob.queue.idle()])
      t.same(ids((await call(b, 'search', { query: 'lighthouse' })).body), [mine.body.id], 'only bob\'s entry, through the vector branch')
      t.equal((await call(a, 'search', { query: 'lighthouse' })).body.entries.length, 1)
    })

    t.test('the vector branch: exact in memory; HNSW for large owners does not starve a small owner', async (t) => {
      const store = await sharedStore(backend)
      const big = uniqueOwner('big')
      const hash = new HashProvider(DIMS)
      await bulkEmbedded(store, big, 1_200, (i) => `bulk note ${i} about topic ${i % 37} and ${(i * 7) % 11}`, hash, (i) => (i % 100 === 0 ? ['rare'] : []))
      const q = hash.vector('bulk note about topic 5 and 3')
      const exact = await exactDistances(store, big, q)
      const branch = (tags?: string[]) => store.withOwner(big, (tx) => vectorBranch(servicesFor(store).search, tx, big, hash.modelName, q, { includeExpired: false, tags })).then((rows) => rows.map((r) => r.id))
      assertNearest(t, await branch(), exact, `${store.vectorMode}, in memory: the exact 50 nearest, in order`)
      const rare = await branch(['rare'])
      t.equal(rare.length, 12, 'a selective filter still yields every match')
      assertNearest(t, rare, await exactDistances(store, big, q, 'rare'), 'the filtered branch is an exact k-NN')
      if (store.vectorMode !== 'pgvector') return
      // pgvector's own path, as owners above the in-memory limit get it.
      const index = servicesFor(store).search
      const limit = index.inMemoryMaxRows
      index.inMemoryMaxRows = 0
      t.teardown(() => (index.inMemoryMaxRows = limit))
      const small = await hybridServer(t, backend)
      const c = await clientV1(t, small.url)
      for (const d of ['bulk note about topic 3', 'a small owner note', 'another small note']) await call(c, 'remember', { source: 's', tags: [], description: d })
      await small.queue.idle()
      const r = await call(c, 'search', { query: 'bulk note topic', limit: 100 })
      t.equal(r.body.entries.length, 3, 'HNSW: all three of the small owner\'s entries, none of the large owner\'s')
      const approx = await branch()
      const top = new Set(exact.slice(0, BRANCH_LIMIT).map((e) => e.id))
      const recall = approx.filter((id) => top.has(id)).length / BRANCH_LIMIT
      t.equal(approx.length, BRANCH_LIMIT)
      t.ok(recall >= 0.9, `HNSW recall@50 ${recall} against the exact k-NN`)
      const rareHnsw = await branch(['rare'])
      assertNearest(t, rareHnsw, await exactDistances(store, big, q, 'rare'), 'HNSW came back short under a selective filter: the exact k-NN answered')
    })

    t.test('backfill_embeddings: counts, stale refresh, true remaining, progress, no provider', async (t) => {
      const store = await sharedStore(backend)
      const embedder = hashPool()
      const srv = await startServer(t, { backend, embedder }) // no queue: writes leave entries unembedded
      const c = await clientV1(t, srv.url)
      const notes: string[] = []
      for (const d of ['first fresh note', 'second fresh note', 'third fresh note']) notes.push((await call(c, 'remember', { source: 's', tags: [], description: d, logical_key: d })).body.id)
      await store.withOwner(srv.owner, (tx) => tx`INSERT INTO entries (id, owner_id, type, source, created, tags, data) VALUES (${randomUUID()}, ${srv.owner}, 'suppression', 's', now(), '[]', '{"description":"quiet"}')`)
      const first = await call(c, 'backfill_embeddings', {})
      t.same(first.body, { status: 'ok', new_embeddings: 3, refreshed_embeddings: 0, remaining: 0 }, 'suppressions are never embedded')
      await call(c, 'remember', { source: 's', tags: [], description: 'third fresh note, revised', logical_key: 'third fresh note' })
      t.same((await call(c, 'backfill_embeddings', {})).body, { status: 'ok', new_embeddings: 0, refreshed_embeddings: 1, remaining: 0 })
      t.same((await call(c, 'backfill_embeddings', {})).body, { status: 'ok', new_embeddings: 0, refreshed_embeddings: 0, remaining: 0 }, 'idempotent')
      const [row] = await store.withOwner(srv.owner, (tx) => tx`SELECT count(*)::int AS n, min(created) AS created FROM embeddings WHERE entry_id = ${notes[2]}`)
      t.equal(row.n, 1, 'one row per (entry, model)')
      const [firstRow] = await store.withOwner(srv.owner, (tx) => tx`SELECT created FROM embeddings WHERE entry_id = ${notes[0]}`)
      // A change outside the composed text (learned_from) leaves the embedding current.
      await store.withOwner(srv.owner, (tx) => tx`UPDATE entries SET data = jsonb_set(data, '{learned_from}', '"elsewhere"') WHERE id = ${notes[1]}`)
      t.same((await call(c, 'backfill_embeddings', {})).body.refreshed_embeddings, 0, 'a metadata-only change is not stale')
      // Trashed entries are never missing; an embedding for another model does not count for this one.
      const trashed = (await call(c, 'remember', { source: 's', tags: [], description: 'soon trashed' })).body.id
      await store.withOwner(srv.owner, (tx) => tx`UPDATE entries SET deleted = now() WHERE id = ${trashed}`)
      const other = (await call(c, 'remember', { source: 's', tags: [], description: 'embedded by another model' })).body.id
      await store.withOwner(srv.owner, (tx) => upsertEmbeddings(tx, store.vectorMode, srv.owner, 'another-model', [{ entryId: other, textHash: 'x', vector: new HashProvider(DIMS).vector('x') }]))
      t.same((await call(c, 'backfill_embeddings', { limit: 0 })).body, { status: 'ok', new_embeddings: 0, refreshed_embeddings: 0, remaining: 1 }, 'limit 0 only counts')
      t.same((await call(c, 'backfill_embeddings', {})).body, { status: 'ok', new_embeddings: 1, refreshed_embeddings: 0, remaining: 0 })
      for (let i = 0; i < 5; i++) await call(c, 'remember', { source: 's', tags: [], description: `later note ${i}` })
      t.same((await call(c, 'backfill_embeddings', { limit: 2 })).body, { status: 'ok', new_embeddings: 2, refreshed_embeddings: 0, remaining: 3 }, 'remaining is a true count (D13)')
      // Staleness is found however many newer embedded entries exist (§11 item 42).
      await store.withOwner(srv.owner, (tx) => tx`UPDATE entries SET data = jsonb_set(data, '{description}', '"first fresh note, edited"') WHERE id = ${notes[0]}`)
      const v2 = await clientV2(t, srv.url)
      const seen: { progress: number; total?: number }[] = []
      const r = await v2.callTool({ name: 'backfill_embeddings', arguments: { limit: 1 } }, { onprogress: (p: { progress: number; total?: number }) => seen.push(p) })
      t.same(JSON.parse((r.content as { text: string }[])[0].text), { status: 'ok', new_embeddings: 1, refreshed_embeddings: 1, remaining: 2 })
      const [refreshed] = await store.withOwner(srv.owner, (tx) => tx`SELECT created, text_hash FROM embeddings WHERE entry_id = ${notes[0]}`)
      t.same(refreshed.created, firstRow.created, 'a refreshed embedding keeps its created time')
      t.ok(seen.length >= 2, `progress notifications reached the 2026 client (${seen.length})`)
      t.match(seen.at(-1), { progress: 2, total: 2, message: '2 of 2 entries processed' })
      const v1seen: unknown[] = []
      await c.callTool({ name: 'backfill_embeddings', arguments: {} }, undefined, { onprogress: (p) => void v1seen.push(p) })
      t.ok(v1seen.length >= 2, 'and the 2025-era client, over an SSE answer')
      const none = await startServer(t, { backend })
      const cn = await clientV2(t, none.url)
      const un = await call(cn, 'backfill_embeddings', {})
      t.equal(un.isError, true)
      t.match(un.body.error, { code: 'unavailable', retryable: true })
      t.match(un.body.error.message, /embedding provider/)
    })

    t.test('get_knowledge hint: re-ranks the page only, similarity on scored entries, ignored without a provider', async (t) => {
      const srv = await hybridServer(t, backend)
      const c = await clientV1(t, srv.url)
      const fox = await call(c, 'remember', { source: 's', tags: [], description: 'the quick brown fox jumps' })
      await call(c, 'remember', { source: 's', tags: [], description: 'lorem ipsum dolor' })
      await call(c, 'remember', { source: 's', tags: [], description: 'a note about cooking pasta' })
      await srv.queue.idle()
      const unembedded = await srv.store.withOwner(srv.owner, async (tx) => {
        const [e] = await tx`INSERT INTO entries (id, owner_id, type, source, created, tags, data) VALUES (${randomUUID()}, ${srv.owner}, 'note', 's', now() + interval '1 second', '[]', '{"description":"written without an embedding"}') RETURNING id`
        return e.id as string
      })
      const plain = await call(c, 'get_knowledge', {})
      t.equal(plain.body.entries[0].id, unembedded, 'recency order first')
      const hinted = await call(c, 'get_knowledge', { hint: 'quick brown fox' })
      t.equal(hinted.body.entries[0].id, fox.body.id, 'the best match comes first')
      t.equal(hinted.body.entries.length, 4, 'no entry added or removed')
      t.equal(hinted.body.entries.at(-1).id, unembedded, 'the lexically unmatched, unembedded entry goes last')
      t.notOk('similarity' in hinted.body.entries.at(-1))
      t.ok(hinted.body.entries.slice(0, 3).every((e: { similarity: number }) => e.similarity > 0 && r4(e.similarity) === e.similarity), 'similarity with 4 decimals')
      const paged = await call(c, 'get_knowledge', { hint: 'quick brown fox', limit: 2, mode: 'list' })
      t.equal(paged.body.entries.length, 2)
      t.ok(paged.body.entries[0].similarity > 0, 'list mode carries similarity')
      const bare = await startServer(t, { backend, owner: srv.owner })
      const cb = await clientV2(t, bare.url)
      const ignored = await call(cb, 'get_knowledge', { hint: 'quick brown fox' })
      t.same(ids(ignored.body), ids(plain.body), 'without a provider the hint is ignored')
      t.ok(ignored.body.entries.every((e: object) => !('similarity' in e)))
    })

    t.test('a provider that answers no vector degrades search to the lexical branch', async (t) => {
      const empty: Embedder = { modelName: 'empty', dimensions: DIMS, embed: async () => [[]], available: async () => true }
      const srv = await startServer(t, { backend, embedder: empty })
      const c = await clientV1(t, srv.url)
      const id = (await call(c, 'remember', { source: 's', tags: [], description: 'searchable words here' })).body.id
      const r = await call(c, 'search', { query: 'searchable' })
      t.equal(r.isError, false)
      t.same(ids(r.body), [id])
      t.match(r.body, { mode: 'lexical', degraded: 'lexical_only' })
      t.match(r.body.warning, /Failed to generate query embedding/)
      const down: Embedder = { modelName: 'down', dimensions: DIMS, embed: async () => [], available: async () => false }
      const srv2 = await startServer(t, { backend, embedder: down, owner: srv.owner })
      const d = await call(await clientV2(t, srv2.url), 'search', { query: 'searchable' })
      t.match(d.body, { mode: 'lexical', degraded: 'lexical_only', warning: /not reachable/ })
      t.same(ids(d.body), [id])
      const hint = await call(await clientV2(t, srv2.url), 'get_knowledge', { hint: 'searchable' })
      t.equal(hint.isError, false, 'a failing provider leaves the hint silently ignored')
    })

    t.test('a failing read log never fails the search (§2.12)', async (t) => {
      const { store, dispose } = await openStore(backend)
      t.teardown(dispose)
      const srv = await startServer(t, { backend, store })
      const c = await clientV2(t, srv.url)
      const id = (await call(c, 'remember', { source: 's', tags: [], description: 'logged or not' })).body.id
      if (!store.rlsRole) return void t.pass('the connection role is used as is: no grant to take away')
      await store.system((tx) => tx`REVOKE INSERT ON reads FROM awareness_rls`)
      const r = await call(c, 'search', { query: 'logged' })
      t.equal(r.isError, false)
      t.same(ids(r.body), [id], 'the answer is complete')
      await servicesFor(store).reads.flush()
      const [n] = await store.system((tx) => tx`SELECT count(*)::int AS n FROM reads`)
      t.equal(n.n, 0, 'and no read was logged')
      await store.system((tx) => tx`GRANT INSERT ON reads TO awareness_rls`)
      await call(c, 'search', { query: 'logged' })
      await servicesFor(store).reads.flush()
      const [m] = await store.system((tx) => tx`SELECT count(*)::int AS n FROM reads`)
      t.equal(m.n, 1)
    })

    t.test('bad input answers the envelope and changes nothing', async (t) => {
      const srv = await hybridServer(t, backend)
      const c = await clientV2(t, srv.url)
      await call(c, 'remember', { source: 's', tags: [], description: 'keep me' })
      await srv.queue.idle()
      const before = await snapshot(srv.store, srv.owner)
      const cases: [string, Record<string, unknown>, string, string?][] = [
        ['search', {}, 'query'],
        ['search', { query: 7 }, 'query'],
        ['search', { query: 'x', since: '' }, 'since'],
        ['search', { query: 'x', since: 'not-a-date' }, 'since'],
        ['search', { query: 'x', until: '2026-13-45' }, 'until'],
        ['search', { query: 'x', entry_type: 'notes' }, 'entry_type', 'note'],
        ['search', { query: 'x', tags: 'nope' }, 'tags'],
        ['search', { query: 'x', limit: 'ten' }, 'limit'],
        ['semantic_search', { query: 'x', entry_type: 'bogus' }, 'entry_type'],
        ['backfill_embeddings', { limit: -1 }, 'limit'],
        ['backfill_embeddings', { limit: 'many' }, 'limit'],
      ]
      for (const [tool, args, param, suggestion] of cases) {
        const r = await call(c, tool, args)
        t.equal(r.isError, true, `${tool} ${JSON.stringify(args)}`)
        t.match(r.body, { status: 'error', error: { code: 'invalid_parameter', param, retryable: false } })
        if (suggestion !== undefined) t.equal(r.body.error.suggestion, suggestion)
      }
      t.match((await call(c, 'search', { query: 'x', since: 'bad' })).body.error.help_url, /ISO_8601/)
      t.equal((await call(c, 'backfill_embeddings', { limit: -1 })).body.error.message, 'limit must be non-negative')
      t.equal(await snapshot(srv.store, srv.owner), before)
      const none = await startServer(t, { backend })
      const cn = await clientV1(t, none.url)
      for (const [args, param] of [[{ until: 'nope' }, 'until'], [{ since: '' }, 'since'], [{ entry_type: 'bogus' }, 'entry_type']] as const) {
        const r = await call(cn, 'search', { query: 'x', ...args })
        t.match(r.body.error, { code: 'invalid_parameter', param }, `${param} errors without a provider too`)
      }
    })
  })
}

t.test('pgvector and array mode return identical results for the same data', { skip: backends().length < 2 ? 'needs AWARENESS_TEST_DATABASE_URL' : false }, async (t) => {
  // Fresh databases; both modes search this owner exactly (in memory), and in pgvector mode the exact SQL
  // k-NN (the HNSW fallback, forced below with fewer entries than a branch holds) must agree as well.
  const opened = await Promise.all((['pglite', 'postgres'] as const).map((b) => openStore(b)))
  t.teardown(() => Promise.all(opened.map((o) => o.dispose())))
  const stores = opened.map((o) => o.store)
  t.same(stores.map((s) => s.vectorMode), ['pgvector', 'array'])
  const owner = uniqueOwner('parity')
  const hash = new HashProvider(DIMS)
  // Distinct random word lists: templated texts ("entry 55 … window 6") tie exactly in distance, and float
  // summation order then decides differently per engine; ties by id are only defined for true ties.
  const rand = mulberry32(20260728)
  const vocab = ['alpha', 'bravo', 'charlie', 'delta', 'echo', 'north', 'south', 'east', 'window', 'garden', 'kettle', 'server', 'backup', 'river', 'stone', 'paper', 'violet', 'copper', 'lantern', 'harbor', 'meadow', 'signal', 'thunder', 'orbit', 'canvas', 'pepper', 'marble', 'falcon', 'glacier', 'ember']
  const n = 40
  const words = Array.from({ length: n }, () => Array.from({ length: 4 + Math.floor(rand() * 6) }, () => vocab[Math.floor(rand() * vocab.length)]).join(' '))
  const text = (i: number) => words[i]
  const fixedIds = Array.from({ length: n }, (_, i) => `00000000-0000-4000-8000-${String(i).padStart(12, '0')}`)
  for (const s of stores) await bulkEmbedded(s, owner, n, text, hash, (i) => (i % 4 === 0 ? ['four'] : []), fixedIds)
  const queries = [{ query: 'alpha north window' }, { query: 'charlie', tags: ['four'] }, { query: 'echo east', limit: 50, mode: 'list' }, { query: 'harbors', language: 'en', limit: 100 }]
  // Distances are compared at 5 decimals in both modes; float32 summation noise (~1e-7) could only flip an
  // order if a distance sat within ~1e-7 of a rounding edge. The data are seeded, so the run is deterministic.
  const results = []
  for (const s of stores) {
    const embedder = hashPool()
    const srv = await startServer(t, { backend: s.backend === 'embedded' ? 'pglite' : 'postgres', owner, embedder, store: s })
    const c = await clientV1(t, srv.url)
    const out = []
    for (const args of queries) {
      const r = await call(c, 'search', args)
      out.push(r.body.entries.map((e: { id: string; similarity: number }) => [e.id, e.similarity]))
    }
    results.push(out)
    const q = hash.vector('delta south garden')
    assertNearest(t, (await s.withOwner(owner, (tx) => vectorBranch(servicesFor(s).search, tx, owner, hash.modelName, q, { includeExpired: false }))).map((r) => r.id), await exactDistances(s, owner, q), `${s.vectorMode}: exact k-NN`)
    if (s.vectorMode === 'pgvector') {
      const index = servicesFor(s).search
      const limit = index.inMemoryMaxRows
      index.inMemoryMaxRows = 0
      index.invalidate(owner) // the next search re-checks the table at once, finds too many rows and drops the index
      const sql = []
      for (const args of queries) sql.push((await call(c, 'search', args)).body.entries.map((e: { id: string; similarity: number }) => [e.id, e.similarity]))
      index.inMemoryMaxRows = limit
      t.same(sql, out, 'pgvector through SQL answers exactly as in memory')
      // The HNSW searches dropped the in-memory index (too many rows for a limit of 0); within the recheck
      // interval, the first searches with the limit restored must reload it, not answer from an empty one.
      const again = []
      for (const args of queries) again.push((await call(c, 'search', args)).body.entries.map((e: { id: string; similarity: number }) => [e.id, e.similarity]))
      t.same(again, out, 'back in memory at once: the same answers')
    }
  }
  t.same(results[0], results[1])
  t.ok(results[0].every((r) => r.length > 0))
})

// ---------------------------------------------------------------------------------------------
// Data helpers

/** Inserts `n` notes of `owner` with their hash-provider embeddings in two statements (fast, for big owners). */
async function bulkEmbedded(store: Store, owner: string, n: number, text: (i: number) => string, hash: HashProvider, tags: (i: number) => string[], fixedIds?: string[]): Promise<void> {
  const entryIds = fixedIds ?? Array.from({ length: n }, () => randomUUID())
  const texts = Array.from({ length: n }, (_, i) => text(i))
  for (let start = 0; start < n; start += 400) {
    const idx = Array.from({ length: Math.min(400, n - start) }, (_, k) => start + k)
    await store.withOwner(owner, async (tx) => {
      await tx`
        INSERT INTO entries (id, owner_id, type, source, created, tags, data, language)
        SELECT t.id, ${owner}, 'note', 'bulk', '2024-01-01T00:00:00Z'::timestamptz + t.i * interval '1 minute', t.tags::jsonb, jsonb_build_object('description', t.d), 'simple'::regconfig
        FROM unnest(${idx.map((i) => entryIds[i])}::text[], ${idx}::int[], ${idx.map((i) => JSON.stringify(tags(i)))}::text[], ${idx.map((i) => texts[i])}::text[]) AS t(id, i, tags, d)`
      const rows = idx.map((i) => {
        const composed = composeEmbeddingText({ type: 'note', source: 'bulk', tags: tags(i), data: { description: texts[i] } })
        return { entryId: entryIds[i], textHash: textHash(composed), vector: hash.vector(composed) }
      })
      await upsertEmbeddings(tx, store.vectorMode, owner, hash.modelName, rows)
    })
  }
  await store.system((tx) => tx`ANALYZE entries`.then(() => tx`ANALYZE embeddings`))
}

/** Every embedded entry of `owner` with its exact cosine distance to `q` (JavaScript, float64), nearest first. */
async function exactDistances(store: Store, owner: string, q: readonly number[], tag?: string): Promise<{ id: string; d: number }[]> {
  const rows = await store.withOwner(owner, (tx) =>
    tx`SELECT m.entry_id, m.embedding::text AS v FROM embeddings m JOIN entries e ON e.id = m.entry_id
       WHERE m.owner_id = ${owner} AND e.deleted IS NULL ${tag === undefined ? tx`` : tx`AND e.tags @> ${tx.json([tag])}`}`,
  )
  const qn = Math.sqrt(q.reduce((s, x) => s + x * x, 0))
  const scored = rows.map((r) => {
    const v = (r.v as string).slice(1, -1).split(',').map(Number)
    let dot = 0
    let n = 0
    for (let i = 0; i < v.length; i++) {
      dot += v[i] * q[i]
      n += v[i] * v[i]
    }
    return { id: r.entry_id as string, d: 1 - dot / (Math.sqrt(n) * qn) }
  })
  return scored.sort((a, b) => a.d - b.d || (a.id < b.id ? -1 : 1))
}

/**
 * `got` is an exact k-NN of `exact` up to float rounding: the same length as the exact top k, every member
 * within the k-th distance, in non-decreasing distance (engines sum in float32, in their own order, so
 * distances equal to ~1e-6 may come in either order).
 */
function assertNearest(t: Test, got: string[], exact: { id: string; d: number }[], label: string): void {
  const eps = 1e-5
  const k = Math.min(BRANCH_LIMIT, exact.length)
  const d = new Map(exact.map((e) => [e.id, e.d]))
  const boundary = exact[k - 1]?.d ?? 0
  t.equal(got.length, k, `${label}: size`)
  t.ok(got.every((id) => (d.get(id) ?? Infinity) <= boundary + eps), `${label}: every member among the nearest`)
  t.ok(got.every((id, i) => i === 0 || d.get(id)! >= d.get(got[i - 1])! - eps), `${label}: nearest first`)
}

