/**
 * Retrieval benchmark (`npm run bench -- retrieval`): LoCoMo's conversations (bench/locomo.ts), one owner
 * each, on the embedded database, for each embedding provider in one run — none (the full-text branch
 * alone), `hash` (character n-grams) and `local` (the built-in sentence model). For each:
 *  - the product as shipped: every question through the `search` tool over HTTP (hybrid RRF when a provider
 *    is on), with server CPU per search and one-client latency;
 *  - each branch alone and the old full-text query (every word must match, `simple` or English), ranked
 *    inside the server process over the same data, so what each part contributes is visible;
 *  - load time (remember calls, then the wait until every entry is embedded) and `remember` latency.
 * BENCH_LOCOMO points at another LoCoMo file (e.g. the half kept apart); BENCH_RETRIEVAL_PROVIDERS picks
 * providers (default "none,hash,local").
 */
import { randomBytes } from 'node:crypto'
import { writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { signSelfSignedToken } from '../auth/jwt.js'
import { BRANCH_LIMIT, LEXICAL_WEIGHT, RRF_K, SEARCH_TRANSACTION, VECTOR_WEIGHT, vectorBranch } from '../search/hybrid.js'
import type { SearchIndex } from '../search/search-index.js'
import { lexicalBranch } from '../store/queries/lexical.js'
import type { BranchRow } from '../store/queries/search.js'
import type { Store } from '../store/index.js'
import { HashProvider, type EmbeddingProvider } from '../workers/embedder.js'
import { LocalProvider } from '../workers/local-provider.js'
import { legacyCall, median, startBenchServer, type BenchServer } from './lib.js'
import { askConversation, firstEvidenceRank, loadConversation, readLocomo, recallByCategory, type Conversation, type Scored, type ToolCall } from './locomo.js'

const MODULE = new URL(import.meta.url).href
const DATA = process.env.BENCH_LOCOMO ?? fileURLToPath(new URL('../../shared/data/locomo/locomo-dev.json', import.meta.url))
const SECRET = randomBytes(32).toString('hex')
const PROVIDERS: Record<string, Record<string, string>> = {
  none: {},
  hash: { AWARENESS_EMBEDDING_PROVIDER: 'hash', AWARENESS_EMBEDDING_DIMENSIONS: '768' },
  local: { AWARENESS_EMBEDDING_PROVIDER: 'local', AWARENESS_EMBEDDING_DIMENSIONS: '512' },
}

// ---------------------------------------------------------------------------------------------
// Inside the server process (called through BenchServer.run)

interface BranchArgs {
  owner: string
  questions: string[]
  provider: string
}

/** Per question, the dia_ids each branch ranks (top 50) and the old all-words query's (top 10). */
export async function branchRanks(ctx: { store: Store; search: SearchIndex }, a: BranchArgs): Promise<Record<string, string[]>[]> {
  const { store, search } = ctx
  const keys = new Map((await store.sql`SELECT id, logical_key FROM entries WHERE owner_id = ${a.owner}`).map((r) => [r.id as string, r.logical_key as string]))
  const provider: EmbeddingProvider | undefined = a.provider === 'hash' ? new HashProvider(768) : a.provider === 'local' ? new LocalProvider() : undefined
  const dia = (rows: readonly BranchRow[]) => rows.map((r) => keys.get(r.id) ?? '')
  const filter = { includeExpired: false }
  const out: Record<string, string[]>[] = []
  for (const text of a.questions) {
    const vector = provider === undefined ? undefined : (await provider.embed([text]))[0]
    const ranks = await store.withOwner(a.owner, async (tx) => {
      const lexical = await lexicalBranch(tx, a.owner, filter, { text, limit: BRANCH_LIMIT, perTermCap: 200 }, store.rlsRole)
      const vec = vector === undefined ? [] : await vectorBranch(search, tx, a.owner, provider!.modelName, vector, filter)
      return { lexical: dia(lexical), vector: dia(vec) }
    }, SEARCH_TRANSACTION)
    const before = async (config: string) =>
      (await store.sql`
        SELECT e.logical_key FROM entries e
        WHERE e.owner_id = ${a.owner} AND e.deleted IS NULL AND e.tsv @@ plainto_tsquery(${config}::regconfig, ${text})
        ORDER BY ts_rank_cd(e.tsv, plainto_tsquery(${config}::regconfig, ${text})) DESC, e.id LIMIT 10`).map((r) => r.logical_key as string)
    out.push({ ...ranks, allWordsSimple: await before('simple'), allWordsEnglish: await before('english') })
  }
  return out
}

// ---------------------------------------------------------------------------------------------
// In the benchmark process

async function toolCaller(server: BenchServer, owner: string): Promise<ToolCall> {
  const token = await signSelfSignedToken(SECRET, 'HS256', owner, 86_400)
  return async (name, args) => {
    const req = legacyCall(name, args)
    const res = await fetch(server.url, { method: 'POST', headers: { ...req.headers, authorization: `Bearer ${token}` }, body: req.body })
    const json = (await res.json()) as { result?: { content?: { text: string }[] } }
    const text = json.result?.content?.[0]?.text
    if (text === undefined) throw new Error(`${name}: no result: ${JSON.stringify(json).slice(0, 200)}`)
    return JSON.parse(text) as Record<string, unknown>
  }
}

/**
 * Every entry embedded: the background queue keeps at most 1,000 jobs and leaves the rest of a bulk load to
 * its periodic sweep, so the load ends as a client would, calling backfill_embeddings until nothing remains.
 */
async function waitForEmbeddings(server: BenchServer, callers: readonly ToolCall[]): Promise<void> {
  for (const call of callers) {
    for (;;) {
      const r = await call('backfill_embeddings', { limit: 500 })
      if (r.remaining === 0) break
      if (r.new_embeddings === 0) throw new Error(`backfill made no progress: ${JSON.stringify(r).slice(0, 200)}`)
    }
  }
  for (;;) {
    const [row] = await server.sql<{ entries: number; embedded: number }[]>(
      `SELECT (SELECT count(*)::int FROM entries WHERE deleted IS NULL) AS entries, (SELECT count(DISTINCT entry_id)::int FROM embeddings) AS embedded`,
    )
    if (row.embedded >= row.entries) return
    await new Promise((r) => setTimeout(r, 500))
  }
}

const pct = (x: number) => x.toFixed(3)
const percentile = (xs: number[], p: number) => [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor((p / 100) * xs.length))]

function row(name: string, scored: readonly Scored[]): Record<string, string | number> {
  const by = recallByCategory(scored)
  const all = by.get('1-4')!
  const cell = (c: string) => pct(by.get(c)!.r10)
  return { configuration: name, 'R@1': pct(all.r1), 'R@5': pct(all.r5), 'R@10': pct(all.r10), MRR: pct(all.mrr), 'R@10 c1': cell('1'), 'c2': cell('2'), 'c3': cell('3'), 'c4': cell('4'), 'c5 (apart)': cell('5') }
}

/** Scores a ranking function over every question of every conversation. */
function scoreWith(convs: readonly Conversation[], lists: readonly Record<string, string[]>[][], pick: (l: Record<string, string[]>) => string[]): Scored[] {
  return convs.flatMap((c, i) => c.questions.map((q, j) => ({ category: q.category, rank: firstEvidenceRank(pick(lists[i][j]).slice(0, 10), q.evidence) })))
}

/** Weighted RRF of the two branch lists; the product's constants unless others are given. */
function rrf(l: Record<string, string[]>, k = RRF_K, vectorWeight = VECTOR_WEIGHT): string[] {
  const score = new Map<string, number>()
  l.vector.forEach((id, i) => score.set(id, (score.get(id) ?? 0) + vectorWeight / (k + i + 1)))
  l.lexical.forEach((id, i) => score.set(id, (score.get(id) ?? 0) + LEXICAL_WEIGHT / (k + i + 1)))
  return [...score].sort((a, b) => b[1] - a[1]).map(([id]) => id)
}

export async function benchRetrieval(): Promise<void> {
  const convs = readLocomo(DATA)
  const questions = convs.reduce((s, c) => s + c.questions.length, 0)
  console.log(`data: ${DATA.split('/').slice(-2).join('/')}: ${convs.length} conversations, ${convs.reduce((s, c) => s + c.turns.length, 0)} turns, ${questions} questions with evidence`)
  const rows: Record<string, string | number>[] = []
  const costs: Record<string, string | number>[] = []
  for (const provider of (process.env.BENCH_RETRIEVAL_PROVIDERS ?? 'none,hash,local').split(',')) {
    const server = await startBenchServer({ kind: 'awareness', env: { ...PROVIDERS[provider], AWARENESS_JWT_SECRET: SECRET, AWARENESS_AUTH_REQUIRED: 'true' } })
    try {
      const callers = await Promise.all(convs.map((_, i) => toolCaller(server, `locomo-${i + 1}`)))
      const loadStarted = performance.now()
      const latencies: number[] = []
      for (const [i, conv] of convs.entries()) latencies.push(...(await loadConversation(callers[i], conv)))
      const written = performance.now()
      if (provider !== 'none') await waitForEmbeddings(server, callers)
      const loaded = performance.now()
      const cpu0 = await server.cpu()
      const asked = performance.now()
      const shipped: Scored[] = []
      for (const [i, conv] of convs.entries()) shipped.push(...(await askConversation(callers[i], conv)))
      const askMs = performance.now() - asked
      const searchCpuMs = (await server.cpu()) - cpu0
      const name = provider === 'none' ? 'search as shipped, no provider (full-text)' : `search as shipped, ${provider} (hybrid)`
      rows.push(row(name, shipped))
      const lists = await Promise.all(convs.map((c, i) => server.run<Record<string, string[]>[]>(MODULE, 'branchRanks', { owner: `locomo-${i + 1}`, questions: c.questions.map((q) => q.question), provider })))
      // BENCH_RETRIEVAL_DUMP=dir keeps each provider's branch rankings, to study fusion without reloading.
      if (process.env.BENCH_RETRIEVAL_DUMP) writeFileSync(join(process.env.BENCH_RETRIEVAL_DUMP, `${provider}.json`), JSON.stringify({ convs, lists }))
      if (provider === 'none') {
        rows.push(row('before: every word must match, simple (old default)', scoreWith(convs, lists, (l) => l.allWordsSimple)))
        rows.push(row('before: every word must match, English', scoreWith(convs, lists, (l) => l.allWordsEnglish)))
        rows.push(row('full-text branch alone (per-language, any word, idf)', scoreWith(convs, lists, (l) => l.lexical)))
      } else {
        rows.push(row(`${provider} vector branch alone`, scoreWith(convs, lists, (l) => l.vector)))
        rows.push(row(`${provider} hybrid recomputed from the branches`, scoreWith(convs, lists, (l) => rrf(l))))
        rows.push(row(`${provider} hybrid, classic RRF (k 60, equal weights)`, scoreWith(convs, lists, (l) => rrf(l, 60, 1))))
      }
      costs.push({
        provider,
        'load s (remember)': ((written - loadStarted) / 1000).toFixed(1),
        'embedding wait s': ((loaded - written) / 1000).toFixed(1),
        'remember p50 ms': median(latencies).toFixed(2),
        'remember p99 ms': percentile(latencies, 99).toFixed(2),
        'search server CPU ms': (searchCpuMs / 1000 / questions).toFixed(2),
        'search one-client ms': (askMs / questions).toFixed(2),
        'server RSS MB': Math.round((await server.memory()).rss / 1e6),
      })
    } finally {
      await server.close()
    }
  }
  console.log('\n## Recall of an evidence turn (categories 1–4 together; R@10 per category; category 5 reported apart)')
  console.table(rows)
  console.log('\n## Cost (embedded database, one client, sequential calls)')
  console.table(costs)
}
