/**
 * Search benchmark (issue: search — languages, full-text, embeddings, hybrid retrieval).
 *
 * Data: synthetic notes whose words follow a Zipf distribution (s = 1.05) over a generated 8,000-word
 * vocabulary, embedded with the hash provider (not random vectors: texts sharing words come out close, as
 * with a real model), bulk-loaded through the store inside the server process.
 *
 * Figures, through the MCP endpoint at 10 connections:
 *  - pgvector (embedded PGlite) `search` p50/p99 at 10,000 entries (target ≤ 10 / ≤ 50 ms), and at 100,000
 *    (≤ 30 / ≤ 100 ms) when BENCH_SEARCH_100K=1 (it loads for several minutes on a 2-core machine);
 *  - recall@10 of the HNSW branch against the exact k-NN (target ≥ 0.95), in the server process;
 *  - array mode (PostgreSQL without pgvector) `search` p50 at 10,000 entries (target ≤ 50 ms);
 *  - `remember` p99 with the embedding provider on versus off (target: within 10 %);
 *  - load time and server process memory.
 */
import { HashProvider, composeEmbeddingText, textHash } from '../workers/embedder.js'
import { upsertEmbeddings, vectorLiteral, type NewEmbedding } from '../store/queries/embeddings.js'
import { DISTANCE_DECIMALS, pgvectorBranch, searchSettings } from '../store/queries/search.js'
import { BRANCH_LIMIT, EF_SEARCH } from '../search/hybrid.js'
import { EMBEDDED_IN_MEMORY_MAX_ROWS, IN_MEMORY_MAX_ROWS, defaultInMemoryMaxRows, type SearchIndex } from '../search/search-index.js'
import type { Store } from '../store/index.js'
import { alternate, benchBackends, legacyCall, load, once, report, startBenchServer, type BenchServer } from './lib.js'
import { mulberry32 } from '../tests/fixtures/random.js'

const DIMS = 768
const MODULE = new URL(import.meta.url).href

// ---------------------------------------------------------------------------------------------
// A deterministic Zipf corpus


const SYLLABLES = ['ka', 'lo', 'mi', 'ne', 'ru', 'sa', 'ti', 'vo', 'ze', 'ba', 'do', 'fi', 'gu', 'ha', 'je', 'pu', 'qua', 'ri', 'sto', 'tra', 'wen', 'xi', 'yo', 'dri', 'mor', 'lan', 'ces', 'pol', 'ver', 'nix']

export class Corpus {
  readonly words: string[]
  private readonly cdf: Float64Array
  private readonly rand: () => number

  constructor(seed: number, vocabulary = 8_000, exponent = 1.05) {
    const r = mulberry32(seed)
    const seen = new Set<string>()
    this.words = []
    while (this.words.length < vocabulary) {
      const n = 2 + Math.floor(r() * 3)
      let w = ''
      for (let i = 0; i < n; i++) w += SYLLABLES[Math.floor(r() * SYLLABLES.length)]
      if (!seen.has(w)) {
        seen.add(w)
        this.words.push(w)
      }
    }
    this.cdf = new Float64Array(vocabulary)
    let total = 0
    for (let i = 0; i < vocabulary; i++) this.cdf[i] = total += 1 / (i + 1) ** exponent
    for (let i = 0; i < vocabulary; i++) this.cdf[i] /= total
    this.rand = mulberry32(seed ^ 0x5bd1e995)
  }

  word(): string {
    const x = this.rand()
    let lo = 0
    let hi = this.cdf.length - 1
    while (lo < hi) {
      const mid = (lo + hi) >>> 1
      if (this.cdf[mid] < x) lo = mid + 1
      else hi = mid
    }
    return this.words[lo]
  }

  text(min: number, max: number): string {
    const n = min + Math.floor(this.rand() * (max - min + 1))
    return Array.from({ length: n }, () => this.word()).join(' ')
  }

  int(n: number): number {
    return Math.floor(this.rand() * n)
  }
}

// ---------------------------------------------------------------------------------------------
// Run inside the server process (BenchServer.run)

interface Ctx {
  store: Store
  /** The benchmark server's search index (the one its requests use). */
  search: SearchIndex
  owner: string
}

/** Bulk-loads `count` notes of the owner with their hash-provider embeddings; returns the time taken. */
export async function seedNotes(ctx: Ctx, args: { count: number; seed: number; rebuildIndex?: boolean; hnsw?: { m: number; efConstruction: number } }): Promise<{ ms: number; loadMs: number; indexMs: number }> {
  const { store, owner } = ctx
  const corpus = new Corpus(args.seed)
  const hash = new HashProvider(DIMS)
  const started = performance.now()
  // For large loads, building the HNSW graph once is far cheaper than inserting into it row by row.
  const rebuild = args.rebuildIndex === true && store.vectorMode === 'pgvector'
  if (rebuild) await store.system((tx) => tx`DROP INDEX IF EXISTS idx_embeddings_vector_hnsw`)
  const batch = 500
  for (let start = 0; start < args.count; start += batch) {
    const n = Math.min(batch, args.count - start)
    const ids: string[] = []
    const sources: string[] = []
    const tags: string[] = []
    const data: string[] = []
    const minutes: number[] = []
    const rows: NewEmbedding[] = []
    for (let k = 0; k < n; k++) {
      const i = start + k
      const id = `bench-${args.seed}-${i}`
      const description = corpus.text(6, 16)
      const content = corpus.int(3) === 0 ? corpus.text(20, 60) : undefined
      const source = `src-${corpus.int(20)}`
      const tagList = [`t${corpus.int(30)}`, ...(corpus.int(4) === 0 ? [`t${corpus.int(30)}`] : [])]
      const d: Record<string, unknown> = { description, learned_from: 'bench' }
      if (content !== undefined) d.content = content
      ids.push(id)
      sources.push(source)
      tags.push(JSON.stringify(tagList))
      data.push(JSON.stringify(d))
      minutes.push(i)
      const composed = composeEmbeddingText({ type: 'note', source, tags: tagList, data: d })
      rows.push({ entryId: id, textHash: textHash(composed), vector: hash.vector(composed) })
    }
    await store.withOwner(owner, async (tx) => {
      await tx`
        INSERT INTO entries (id, owner_id, type, source, created, tags, data, language)
        SELECT t.id, ${owner}, 'note', t.source, now() - interval '200 days' + t.m * interval '1 minute', t.tags::jsonb, t.data::jsonb, 'simple'
        FROM unnest(${ids}::text[], ${sources}::text[], ${tags}::text[], ${data}::text[], ${minutes}::int[]) AS t(id, source, tags, data, m)`
      await upsertEmbeddings(tx, store.vectorMode, owner, hash.modelName, rows)
    })
  }
  const loaded = performance.now()
  if (rebuild) {
    await store.system(async (tx) => {
      await tx`SET LOCAL maintenance_work_mem = '512MB'`
      // The migration's parameters unless an experiment asks for others.
      const { m, efConstruction } = args.hnsw ?? { m: 16, efConstruction: 64 }
      await tx.unsafe(`CREATE INDEX idx_embeddings_vector_hnsw ON embeddings USING hnsw (embedding vector_cosine_ops) WITH (m = ${Number(m)}, ef_construction = ${Number(efConstruction)})`)
    })
  }
  const indexed = performance.now()
  await store.system((tx) => tx`ANALYZE entries`.then(() => tx`ANALYZE embeddings`))
  ctx.search.invalidate(owner)
  return { ms: Math.round(performance.now() - started), loadMs: Math.round(loaded - started), indexMs: Math.round(indexed - loaded) }
}

/**
 * recall@k of the HNSW branch (as search runs it) against the exact k-NN, over `queries`, counted two ways:
 * `recall` by id (an approximate result counts only if it is one of the exact top k), and `tieRecall` by
 * distance as ann-benchmarks counts it (it counts if it is no farther than the exact k-th neighbour, at
 * DISTANCE_DECIMALS places): short notes of common words often lie at exactly the same distance from a
 * query, and which of several equally near notes fills the last places is not an error of the index.
 */
export async function hnswRecall(ctx: Ctx, args: { queries: string[]; k: number; efSearch?: number }): Promise<{ recall: number; tieRecall: number; worst: number; approxMs: number; exactMs: number }> {
  const { store, owner } = ctx
  const hash = new HashProvider(DIMS)
  let hits = 0
  let tieHits = 0
  let worst = 1
  let approxMs = 0
  let exactMs = 0
  for (const q of args.queries) {
    const v = hash.vector(q)
    const t0 = performance.now()
    const approx = await store.withOwner(owner, async (tx) => {
      await searchSettings(tx, { efSearch: args.efSearch ?? EF_SEARCH, iterative: true })
      return pgvectorBranch(tx, owner, { includeExpired: false }, hash.modelName, v, BRANCH_LIMIT, false)
    })
    const t1 = performance.now()
    const exact = await store.withOwner(owner, (tx) => pgvectorBranch(tx, owner, { includeExpired: false }, hash.modelName, v, BRANCH_LIMIT, true))
    const t2 = performance.now()
    approxMs += t1 - t0
    exactMs += t2 - t1
    const top = new Set(exact.slice(0, args.k).map((r) => r.id))
    const found = approx.slice(0, args.k).filter((r) => top.has(r.id)).length
    hits += found
    const ids = [...new Set([...approx.slice(0, args.k), ...exact.slice(0, args.k)].map((r) => r.id))]
    const rows = await store.withOwner(owner, (tx) => tx`
      SELECT entry_id, round((embedding <=> ${vectorLiteral(v)}::vector)::numeric, ${DISTANCE_DECIMALS})::float8 AS d
      FROM embeddings WHERE owner_id = ${owner} AND model = ${hash.modelName} AND entry_id = ANY(${ids}::text[])`)
    const distance = new Map(rows.map((r) => [r.entry_id as string, r.d as number]))
    const kth = distance.get(exact[Math.min(args.k, exact.length) - 1]?.id ?? '') ?? Infinity
    tieHits += approx.slice(0, args.k).filter((r) => (distance.get(r.id) ?? Infinity) <= kth).length
    worst = Math.min(worst, found / args.k)
  }
  const n = args.queries.length
  return { recall: hits / (n * args.k), tieRecall: tieHits / (n * args.k), worst, approxMs: approxMs / n, exactMs: exactMs / n }
}

/** Sends this store's pgvector searches through HNSW, through the in-memory index, or back to the default rule. */
export async function vectorPath(ctx: Ctx, args: { path: 'hnsw' | 'memory' | 'default' }): Promise<void> {
  ctx.search.inMemoryMaxRows = args.path === 'hnsw' ? 0 : args.path === 'memory' ? Infinity : defaultInMemoryMaxRows(ctx.store)
}

/** The in-memory vector cache's size (after a search has loaded it). */
export async function cacheStats(ctx: Ctx): Promise<{ owners: number; rows: number; bytes: number }> {
  return ctx.search.stats()
}

// ---------------------------------------------------------------------------------------------
// The benchmark

const mb = (b: number) => `${Math.round(b / 1024 / 1024)} MB`

function queryMaker(seed: number): () => string {
  const corpus = new Corpus(1) // the corpus' own vocabulary and frequencies
  const r = mulberry32(seed)
  const queries = Array.from({ length: 500 }, () => Array.from({ length: 1 + Math.floor(r() * 3) }, () => corpus.word()).join(' '))
  let i = 0
  return () => queries[i++ % queries.length]
}

/** Waits until the server's queue has embedded its backlog: nothing left, or no progress for 3 s (dropped jobs wait for the sweep). */
async function untilEmbedded(server: BenchServer, timeoutMs = 120_000): Promise<number> {
  const started = Date.now()
  let last = -1
  let since = Date.now()
  for (;;) {
    const [row] = await server.sql<{ n: number }[]>(`SELECT count(*)::int AS n FROM entries e WHERE NOT EXISTS (SELECT 1 FROM embeddings m WHERE m.entry_id = e.id)`)
    if (row.n !== last) {
      last = row.n
      since = Date.now()
    }
    if (row.n === 0 || Date.now() - since > 3_000 || Date.now() - started > timeoutMs) return Date.now() - started
    await new Promise((r) => setTimeout(r, 200))
  }
}

async function searchAt(backend: 'pglite' | 'postgres', count: number): Promise<void> {
  const server = await startBenchServer({ kind: 'awareness', backend, env: { AWARENESS_EMBEDDING_PROVIDER: 'hash' } })
  try {
    const seeded = await server.run<{ ms: number; loadMs: number; indexMs: number }>(MODULE, 'seedNotes', { count, seed: 1, rebuildIndex: true })
    const queries = queryMaker(7)
    const first = Date.now()
    const check = await once(server.url, legacyCall('search', { query: queries(), limit: 10 }))
    const firstMs = Date.now() - first
    const body = JSON.parse(check.result?.content?.[0]?.text ?? '{}') as { mode?: string; entries?: unknown[] }
    if (body.mode !== 'hybrid' || (body.entries?.length ?? 0) === 0) throw new Error(`search is not hybrid before the benchmark: ${JSON.stringify(body).slice(0, 200)}`)
    console.log(`\n${backend} (${server.vectorMode}), ${count} entries: loaded in ${(seeded.ms / 1000).toFixed(1)} s (rows ${(seeded.loadMs / 1000).toFixed(1)} s, index ${(seeded.indexMs / 1000).toFixed(1)} s); first search ${firstMs} ms`)
    if (server.vectorMode === 'pgvector') {
      const r = mulberry32(99)
      const corpus = new Corpus(1)
      // Each exact k-NN scans every vector (~0.1 s at 10,000 on PGlite): fewer probes for larger owners.
      const probe = Array.from({ length: count > 20_000 ? 30 : 100 }, () => Array.from({ length: 1 + Math.floor(r() * 3) }, () => corpus.word()).join(' '))
      const recall = await server.run<{ recall: number; tieRecall: number; worst: number; approxMs: number; exactMs: number }>(MODULE, 'hnswRecall', { queries: probe, k: 10 })
      console.log(`HNSW branch recall@10 against exact k-NN over ${probe.length} queries: ${recall.recall.toFixed(3)} by id (worst query ${recall.worst.toFixed(1)}), ${recall.tieRecall.toFixed(3)} by distance (ties counted); branch alone ${recall.approxMs.toFixed(1)} ms (exact ${recall.exactMs.toFixed(1)} ms), ef_search ${EF_SEARCH}`)
    }
    const connections = 10
    const search = () => legacyCall('search', { query: queries(), limit: 10 })
    const inMemory = count <= (backend === 'pglite' ? EMBEDDED_IN_MEMORY_MAX_ROWS : IN_MEMORY_MAX_ROWS) || server.vectorMode === 'array'
    const scenarios = [
      { name: 'get_knowledge, 10 entries (baseline)', run: () => load(server, { connections, request: () => legacyCall('get_knowledge', { limit: 10 }) }) },
      { name: `search, ${inMemory ? 'vectors in memory (exact)' : 'HNSW'}`, run: () => load(server, { connections, request: search }) },
      // One client alone: a search's own latency, without nine others queued in front of it.
      { name: 'search, 1 connection', run: () => load(server, { connections: 1, request: search }) },
    ]
    if (server.vectorMode === 'pgvector') {
      const other = inMemory ? 'hnsw' : 'memory'
      scenarios.push({
        name: `search, ${other === 'hnsw' ? 'HNSW' : 'vectors in memory'} (forced)`,
        run: async () => {
          await server.run(MODULE, 'vectorPath', { path: other })
          // The first search on a path loads its structures (100,000 vectors into memory take seconds): not measured.
          await once(server.url, search())
          try {
            return await load(server, { connections, request: search })
          } finally {
            await server.run(MODULE, 'vectorPath', { path: 'default' })
          }
        },
      })
    }
    const results = await alternate(scenarios)
    report(`search on ${backend} (${server.vectorMode}), ${count} Zipf notes, ${connections} connections`, results, 'get_knowledge, 10 entries (baseline)')
    const mem = await server.memory()
    const cache = server.vectorMode === 'array' ? await server.run<{ rows: number; bytes: number }>(MODULE, 'cacheStats') : undefined
    console.log(`server memory: rss ${mb(mem.rss)}, heap ${mb(mem.heapUsed)}, external+arrayBuffers ${mb(mem.external + mem.arrayBuffers)}${cache ? `; vector cache ${cache.rows} rows, ${mb(cache.bytes)}` : ''}`)
  } finally {
    await server.close()
  }
}

async function rememberOnOff(backend: 'pglite' | 'postgres'): Promise<void> {
  const on = await startBenchServer({ kind: 'awareness', backend, env: { AWARENESS_EMBEDDING_PROVIDER: 'hash' } })
  const off = await startBenchServer({ kind: 'awareness', backend, env: { AWARENESS_EMBEDDING_PROVIDER: '' } })
  try {
    // Both start from the same 10,000 embedded notes, so the HNSW graph the new vectors join is realistic.
    await on.run(MODULE, 'seedNotes', { count: 10_000, seed: 2, rebuildIndex: true })
    await off.run(MODULE, 'seedNotes', { count: 10_000, seed: 2, rebuildIndex: true })
    const corpus = new Corpus(3)
    const remember = () => legacyCall('remember', { source: `src-${corpus.int(20)}`, tags: [`t${corpus.int(30)}`], description: corpus.text(6, 16) })
    const connections = 10
    let drained = 0
    const results = await alternate([
      { name: 'remember, provider off', run: () => load(off, { connections, request: remember }) },
      {
        name: 'remember, provider on (hash)',
        run: async () => {
          const r = await load(on, { connections, request: remember })
          // The queue keeps embedding after the load ends; let it finish so it does not steal the next round's CPU.
          drained = Math.max(drained, await untilEmbedded(on))
          return r
        },
      },
    ])
    report(`remember on ${backend} with the embedding provider on and off, ${connections} connections`, results, 'remember, provider off')
    const offP99 = results.get('remember, provider off')!.p99
    const onP99 = results.get('remember, provider on (hash)')!.p99
    console.log(`remember p99: on ${onP99} ms vs off ${offP99} ms (${Math.round((100 * onP99) / offP99)}%); the queue needed up to ${(drained / 1000).toFixed(1)} s after a round to embed the backlog`)
  } finally {
    await on.close()
    await off.close()
  }
}

export async function benchSearch(): Promise<void> {
  const backends = await benchBackends()
  // BENCH_SEARCH_ONLY=search|remember|100k runs one part; BENCH_SEARCH_100K=1 adds the 100,000-entry run.
  const only = process.env.BENCH_SEARCH_ONLY
  const big = process.env.BENCH_SEARCH_100K === '1' || only === '100k'
  if (only === undefined || only === 'search') {
    await searchAt('pglite', 10_000)
    if (backends.includes('postgres')) await searchAt('postgres', 10_000)
  }
  if (big) await searchAt('pglite', 100_000)
  else console.log('\n(100,000-entry run skipped: set BENCH_SEARCH_100K=1; it loads for several minutes)')
  if (only === undefined || only === 'remember') {
    await rememberOnOff('pglite')
    if (backends.includes('postgres')) await rememberOnOff('postgres')
  }
}
