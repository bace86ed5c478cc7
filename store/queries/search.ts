/**
 * The SQL of hybrid search (data-and-engine.md §6): the shared candidate filter, the pgvector branch and the
 * look-ups the array-mode vector branch and the fusion need (the full-text branch is lexical.ts). Ranking
 * ties are broken by id in byte order (COLLATE "C"), the same order the application uses.
 */
import { and, entryColumns, type Tx, type Fragment } from '../sql.js'
import { toEntry, type Entry } from '../rows.js'
import { vectorLiteral } from './embeddings.js'

/** The filter F of §6.1, applied inside both branches. */
export interface SearchFilter {
  /** Only these types; all types when absent. */
  types?: readonly string[]
  source?: string
  /** Every one of these tags (AND). */
  tags?: readonly string[]
  since?: Date
  until?: Date
  /** Decision 7: entries past their expiry are excluded unless this is true. */
  includeExpired: boolean
  /** Only these entries (get_knowledge's hint re-ranks one fetched page). */
  ids?: readonly string[]
}

/** One branch's hit: the entry id and its activity time (a fusion tie-breaker). */
export interface BranchRow {
  id: string
  recency: Date
}

export function searchConditions(tx: Tx, owner: string, f: SearchFilter): Fragment {
  const conds: Fragment[] = [tx`e.owner_id = ${owner}`, tx`e.deleted IS NULL`]
  if (f.types !== undefined) conds.push(tx`e.type IN ${tx(f.types as string[])}`)
  if (f.source !== undefined) conds.push(tx`e.source = ${f.source}`)
  if (f.tags !== undefined && f.tags.length > 0) conds.push(tx`e.tags @> ${tx.json(f.tags as string[])}`)
  if (f.since !== undefined) conds.push(tx`coalesce(e.updated, e.created) >= ${f.since}`)
  if (f.until !== undefined) conds.push(tx`coalesce(e.updated, e.created) <= ${f.until}`)
  if (!f.includeExpired) conds.push(tx`(e.expires IS NULL OR e.expires > now())`)
  if (f.ids !== undefined) conds.push(tx`e.id = ANY(${f.ids as string[]}::text[])`)
  return and(tx, conds)
}

/** Decimal places at which cosine distances are compared (float32 sums differ by ~1e-7 between engines). */
export const DISTANCE_DECIMALS = 5

export const toBranchRow = (r: Record<string, unknown>): BranchRow => ({ id: r.id as string, recency: r.recency as Date })

/**
 * Transaction-local settings of an HNSW scan, in one statement: `ef_search` — which bounds how many
 * candidates one index scan yields (default 40, which would silently cap a 50-row branch) — and, on
 * pgvector ≥ 0.8, iterative scans, which keep scanning when the owner and filter predicates reject
 * candidates, so a small owner next to a large one is not starved. (Searches also run with custom plans:
 * the owner transaction's `customPlans` option.)
 */
export async function searchSettings(tx: Tx, hnsw: { efSearch: number; iterative: boolean }): Promise<void> {
  if (!hnsw.iterative) await tx`SELECT set_config('hnsw.ef_search', ${String(hnsw.efSearch)}, true)`
  else await tx`SELECT set_config('hnsw.ef_search', ${String(hnsw.efSearch)}, true), set_config('hnsw.iterative_scan', 'relaxed_order', true)`
}

/** pgvector's extension version in this database, e.g. '0.8.0'; undefined without pgvector. */
export async function pgvectorVersion(tx: Tx): Promise<string | undefined> {
  const [row] = await tx`SELECT extversion FROM pg_extension WHERE extname = 'vector'`
  return row?.extversion as string | undefined
}

/**
 * Vector branch in pgvector mode: the `limit` nearest entries by cosine distance among those embedded for
 * `model`. With `exact`, index scans are disabled for the statement's planning so the HNSW index cannot be
 * used (bitmap scans of the filter's indexes still are): an exact k-NN over the filtered candidates, for
 * when the approximate scan came back short. Distances are compared at DISTANCE_DECIMALS places, so
 * float32 noise from summation order (~1e-7) never decides between mathematically equal distances: those
 * are ties, broken by id, identically in both vector modes.
 */
export async function pgvectorBranch(tx: Tx, owner: string, f: SearchFilter, model: string, vector: readonly number[], limit: number, exact: boolean): Promise<BranchRow[]> {
  const q = vectorLiteral(vector)
  // The HNSW index serves only `ORDER BY embedding <=> q`; the exact scan can order by the rounded distance.
  const order = exact ? tx`round((m.embedding <=> ${q}::vector)::numeric, ${DISTANCE_DECIMALS}), e.id COLLATE "C"` : tx`m.embedding <=> ${q}::vector`
  if (exact) await tx`SELECT set_config('enable_indexscan', 'off', true)`
  try {
    const rows = await tx`
      WITH c AS MATERIALIZED (
        SELECT e.id, coalesce(e.updated, e.created) AS recency, m.embedding <=> ${q}::vector AS d
        FROM embeddings m JOIN entries e ON e.id = m.entry_id
        WHERE m.owner_id = ${owner} AND m.model = ${model} AND ${searchConditions(tx, owner, f)}
        ORDER BY ${order}
        LIMIT ${limit}
      )
      SELECT id, recency FROM c ORDER BY round(d::numeric, ${DISTANCE_DECIMALS}), id COLLATE "C"`
    return rows.map(toBranchRow)
  } finally {
    if (exact) await tx`SELECT set_config('enable_indexscan', 'on', true)`
  }
}

/** The activity time of those `ids` that pass the filter (array mode verifies vector candidates with it). */
export async function passingCandidates(tx: Tx, owner: string, f: SearchFilter, ids: readonly string[]): Promise<Map<string, Date>> {
  const out = new Map<string, Date>()
  if (ids.length === 0) return out
  const rows = await tx`
    SELECT e.id, coalesce(e.updated, e.created) AS recency FROM entries e
    WHERE e.id = ANY(${ids as string[]}::text[]) AND ${searchConditions(tx, owner, f)}`
  for (const r of rows) out.set(r.id as string, r.recency as Date)
  return out
}

/** Every entry id passing the filter, as one aggregated value (one row is far cheaper to ship than 10,000). */
export async function filteredIds(tx: Tx, owner: string, f: SearchFilter): Promise<Set<string>> {
  // U+001F (unit separator) cannot occur in the ids the product generates, unlike a comma in imported ones.
  const [row] = await tx`SELECT string_agg(e.id, chr(31)) AS ids FROM entries e WHERE ${searchConditions(tx, owner, f)}`
  const ids = row?.ids as string | null | undefined
  return new Set(ids ? ids.split('\u001f') : [])
}

/** Live entries by id (order not kept; the caller orders them). */
export async function liveEntriesByIds(tx: Tx, owner: string, ids: readonly string[]): Promise<Map<string, Entry>> {
  const out = new Map<string, Entry>()
  if (ids.length === 0) return out
  const rows = await tx`
    SELECT ${entryColumns(tx)} FROM entries
    WHERE owner_id = ${owner} AND id = ANY(${ids as string[]}::text[]) AND deleted IS NULL`
  for (const r of rows) {
    const e = toEntry(r)
    out.set(e.id, e)
  }
  return out
}
