/**
 * Hybrid retrieval (data-and-engine.md §6, mcp-surface.md §4.5): a vector branch and a full-text branch over
 * the same filter, fused with weighted Reciprocal Rank Fusion (RRF_K, the branch weights).
 *
 * Vector branch: the owner's vectors scored exactly in memory (vector-cache.ts) — always in array mode, and
 * with pgvector for owners of up to the index's inMemoryMaxRows vectors; the best rows are checked against the filter
 * in SQL, and only when too few pass is the whole filtered id set fetched. Larger pgvector owners use HNSW
 * with ef_search ≥ the candidate count and iterative scans; when that comes back short (a selective filter)
 * an exact k-NN over the filtered rows follows.
 */
import type { Tx } from '../store/index.js'
import { lexicalBranch } from '../store/queries/lexical.js'
import { filteredIds, liveEntriesByIds, passingCandidates, pgvectorBranch, searchSettings, type BranchRow, type SearchFilter } from '../store/queries/search.js'
import type { Entry } from '../store/rows.js'
import type { SearchIndex } from './search-index.js'
import { topRows } from './vector-cache.js'

/** Owner-transaction options of a search: the best plan of both branches depends on the term and filter. */
export const SEARCH_TRANSACTION = { customPlans: true } as const

/**
 * Reciprocal Rank Fusion: an entry scores Σ weight / (RRF_K + rank) over the branches that rank it. Chosen on
 * LoCoMo (bench/retrieval.ts; README, Search): the full-text branch, ranking questions by their rarer words,
 * is the stronger one there (R@10 0.687 alone against 0.442 for the local sentence model and 0.486 for
 * hash), and with the customary k = 60 and equal weights fusion fell below it (0.659 / 0.657). A smaller k,
 * which trusts the top ranks more, and half weight for the vector branch lifted both providers alike
 * (R@10 0.717 local, 0.699 hash; R@5 0.641, 0.637) — the same setting was best for both, which is what
 * makes it a property of the branches rather than of one model.
 */
export const RRF_K = 10
export const LEXICAL_WEIGHT = 1
export const VECTOR_WEIGHT = 0.5
/** Candidates per branch (§6.2, §6.3). */
export const BRANCH_LIMIT = 50
/**
 * HNSW candidate list (≥ the branch size). Measured recall@10 against the exact k-NN on 10,000 Zipf notes
 * embedded with the hash provider (PGlite): ef 100 → 0.93, 150 → 0.95, 200 → 0.96, 300 → 0.98, at about the
 * same cost up to 200 (~10 ms per scan there). At 100,000 notes ef 200 gives 0.85 (~28 ms per scan): the
 * index's build parameters (m = 16, ef_construction = 64) limit it there.
 */
export const EF_SEARCH = 200
/**
 * Most recent matches of one query word that may enter the full-text ranking, so a word found in every
 * entry stays cheap (a rarer word's matches all get in: they are fewer).
 */
export const LEXICAL_CAP = 200
/**
 * In-memory branch, first round: nearest rows checked against the filter in SQL. Without a narrowing filter
 * almost every row passes (only expired or trashed ones fail), so a small margin suffices; with one, more.
 */
const FIRST_ROUND_PLAIN = BRANCH_LIMIT + 10
const FIRST_ROUND_FILTERED = 4 * BRANCH_LIMIT

function narrows(f: SearchFilter): boolean {
  return f.types !== undefined || f.source !== undefined || (f.tags !== undefined && f.tags.length > 0) || f.since !== undefined || f.until !== undefined
}

/** Scores are weighted RRF sums (at most 1.5/11 ≈ 0.1364), reported to 4 decimals. */
export const round4 = (x: number): number => Math.round(x * 10_000) / 10_000

export interface HybridQuery {
  readonly text: string
  /** A text-search configuration known to the database, named by the caller; the query is also analysed in every language the owner's entries are stored in. */
  readonly language?: string
  /** The query's embedding; absent → the lexical branch alone. */
  readonly vector?: readonly number[]
  readonly model?: string
  readonly filter: SearchFilter
  /** Results wanted (callers ask for one more than they show, to know has_more). */
  readonly limit: number
}

export interface ScoredEntry {
  readonly entry: Entry
  readonly score: number
}

/** The in-memory branch; undefined when the owner has more than `maxRows` vectors. */
async function memoryRows(index: SearchIndex, tx: Tx, owner: string, model: string, vector: readonly number[], filter: SearchFilter, maxRows: number): Promise<BranchRow[] | undefined> {
  const cache = index.ownerVectors(owner, model)
  if (!(await cache.sync(tx, owner, model, maxRows))) return undefined
  if (cache.size === 0) return []
  const scored = cache.score(vector)
  const pick = async (slots: number[]): Promise<BranchRow[]> => {
    const ids = slots.map((s) => scored.entryIds[s])
    const passing = await passingCandidates(tx, owner, filter, ids)
    const out: BranchRow[] = []
    for (const id of ids) {
      const recency = passing.get(id)
      if (recency !== undefined && out.length < BRANCH_LIMIT) out.push({ id, recency })
    }
    return out
  }
  const allowed = filter.ids === undefined ? undefined : new Set(filter.ids)
  const k = allowed === undefined ? Math.min(scored.sims.length, narrows(filter) ? FIRST_ROUND_FILTERED : FIRST_ROUND_PLAIN) : scored.sims.length
  const first = await pick(topRows(scored, k, allowed === undefined ? undefined : (id) => allowed.has(id)))
  if (first.length >= BRANCH_LIMIT || k >= scored.sims.length) return first
  // Too few of the nearest rows pass the filter: rank only rows that do.
  const candidates = await filteredIds(tx, owner, filter)
  return pick(topRows(scored, BRANCH_LIMIT, (id) => candidates.has(id)))
}

/** The vector branch: the 50 nearest filtered entries embedded for `model`, nearest first. */
export async function vectorBranch(index: SearchIndex, tx: Tx, owner: string, model: string, vector: readonly number[], filter: SearchFilter): Promise<BranchRow[]> {
  if (index.store.vectorMode === 'array') return (await memoryRows(index, tx, owner, model, vector, filter, Infinity)) ?? []
  const inMemory = await memoryRows(index, tx, owner, model, vector, filter, index.inMemoryMaxRows)
  if (inMemory !== undefined) return inMemory
  if (filter.ids === undefined) {
    // The HNSW settings, sent only when this path is taken.
    await searchSettings(tx, { efSearch: Math.max(EF_SEARCH, BRANCH_LIMIT), iterative: await index.hasIterativeScan(tx) })
    const approximate = await pgvectorBranch(tx, owner, filter, model, vector, BRANCH_LIMIT, false)
    if (approximate.length >= BRANCH_LIMIT) return approximate
  }
  return pgvectorBranch(tx, owner, filter, model, vector, BRANCH_LIMIT, true)
}

interface Fused {
  id: string
  score: number
  bestRank: number
  recency: number
}

export interface Branch {
  readonly rows: readonly BranchRow[]
  readonly weight: number
}

/** Weighted RRF over the branches; ties → best single-branch rank, then most recent, then id (§6.4, Ours). */
export function fuse(branches: readonly Branch[]): Fused[] {
  const byId = new Map<string, Fused>()
  for (const { rows, weight } of branches) {
    rows.forEach((row, i) => {
      const rank = i + 1
      const f = byId.get(row.id)
      if (f === undefined) byId.set(row.id, { id: row.id, score: weight / (RRF_K + rank), bestRank: rank, recency: row.recency.getTime() })
      else {
        f.score += weight / (RRF_K + rank)
        f.bestRank = Math.min(f.bestRank, rank)
      }
    })
  }
  return [...byId.values()].sort((a, b) => b.score - a.score || a.bestRank - b.bestRank || b.recency - a.recency || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0))
}

/**
 * Runs both branches in the caller's owner transaction — opened with `customPlans` (SEARCH_TRANSACTION) —
 * and returns up to `limit` entries, best first.
 */
export async function hybridSearch(index: SearchIndex, tx: Tx, owner: string, q: HybridQuery): Promise<ScoredEntry[]> {
  // Issued on the one connection without waiting for each other's answers.
  const lexical = lexicalBranch(tx, owner, q.filter, { text: q.text, language: q.language, limit: BRANCH_LIMIT, perTermCap: LEXICAL_CAP }, index.store.rlsRole)
  const vector = q.vector !== undefined && q.model !== undefined ? vectorBranch(index, tx, owner, q.model, q.vector, q.filter) : Promise.resolve([])
  const [lexicalRows, vectorRows] = await Promise.all([lexical, vector])
  const ranked = fuse([
    { rows: vectorRows, weight: VECTOR_WEIGHT },
    { rows: lexicalRows, weight: LEXICAL_WEIGHT },
  ]).slice(0, q.limit)
  const ids = ranked.map((f) => f.id)
  const entries = await liveEntriesByIds(tx, owner, ids)
  const out: ScoredEntry[] = []
  for (const f of ranked) {
    const entry = entries.get(f.id)
    if (entry !== undefined) out.push({ entry, score: f.score })
  }
  return out
}
