/**
 * The full-text branch of hybrid search (data-and-engine.md §6.3, as changed by the retrieval issue): a
 * question asked in a sentence finds the entries that share its rarest words.
 *
 * 1. The query is analysed once per text-search configuration the owner's entries are stored in (each entry
 *    keeps the language detected when it was written), so "works" meets the English-stemmed "work" of an
 *    English note and the unstemmed "works" of a `simple` one. Stop words go where the configuration drops
 *    them, and from the `simple` analysis when another of the owner's languages drops them ("the" is no
 *    clue in a short note stored unstemmed either). An explicit query language adds its own analysis,
 *    matched against every entry.
 * 2. Each query lexeme's matches among the filtered entries are listed, most recent first, up to DF_CAP
 *    (one scan per lexeme: a GIN bitmap for a rare word, the recency index for a common one). Their count
 *    df becomes a BM25-style inverse document frequency, ln(1 + (DF_CAP − df + ½) / (df + ½)): DF_CAP
 *    stands in for the collection size, which keeps the weights monotone in df without counting the owner.
 * 3. Candidates are the `perTermCap` most recent matches of each lexeme rarer than DF_CAP (of every lexeme
 *    when none is), so a word found in most entries never drags thousands of rows into the ranking.
 * 4. A candidate scores the sum of the weights of the lexemes whose match lists hold it (any-term matching
 *    ranked by coverage and rarity); ties go to the more recent entry, then the id in byte order.
 *
 * Runs inside a search transaction (SEARCH_TRANSACTION, custom plans). `rlsRole`: the statement runs as
 * the connection's own role, comparing the owner with the transaction's
 * owner setting itself — the predicate the row-level policy adds. Under the policy `@@` (not LEAKPROOF)
 * cannot use the GIN index, and every search would scan all of the owner's rows (measured on 10,000
 * entries: ~10 ms on PostgreSQL 15, ~15 ms on PGlite, against ~1–3 ms with the index).
 */
import type { Fragment, Tx } from '../sql.js'
import { searchConditions, toBranchRow, type BranchRow, type SearchFilter } from './search.js'

/** Document frequencies are counted up to this many entries (and it stands in for the collection size). */
export const DF_CAP = 1000

export interface LexicalQuery {
  readonly text: string
  /** A configuration named by the caller, applied to every entry besides the per-language analyses. */
  readonly language?: string
  readonly limit: number
  /** Most recent matches of one lexeme that may become candidates. */
  readonly perTermCap: number
}

export async function lexicalBranch(tx: Tx, owner: string, f: SearchFilter, q: LexicalQuery, rlsRole = false): Promise<BranchRow[]> {
  const pinned: Fragment = tx`e.owner_id = ${owner} AND e.owner_id = current_setting('app.current_user', true) AND e.deleted IS NULL`
  const explicit = q.language === undefined ? tx`` : tx`UNION SELECT ${q.language}::regconfig, NULL::regconfig`
  const query = tx`
    WITH RECURSIVE langs AS (
      (SELECT e.language FROM entries e WHERE ${pinned} ORDER BY e.language LIMIT 1)
      UNION ALL
      SELECT (SELECT e.language FROM entries e WHERE ${pinned} AND e.language > l.language ORDER BY e.language LIMIT 1)
      FROM langs l WHERE l.language IS NOT NULL
    ),
    configs AS (SELECT language AS cfg, language AS scope FROM langs WHERE language IS NOT NULL ${explicit}),
    terms AS MATERIALIZED (
      SELECT DISTINCT c.scope, ('''' || replace(replace(x.lexeme, '\\', '\\\\'), '''', '''''') || '''')::tsquery AS q
      FROM configs c CROSS JOIN LATERAL unnest(to_tsvector(c.cfg, ${q.text})) x
      -- 'simple' keeps every word: drop those another of the owner's languages treats as a stop word.
      WHERE c.cfg <> 'simple'::regconfig
        OR NOT EXISTS (SELECT 1 FROM configs o WHERE o.cfg <> 'simple'::regconfig AND length(to_tsvector(o.cfg, x.lexeme)) = 0)
    ),
    matches AS MATERIALIZED (
      SELECT m.ids, m.recencies FROM terms t CROSS JOIN LATERAL (
        SELECT array_agg(h.id ORDER BY h.recency DESC, h.id) AS ids, array_agg(h.recency ORDER BY h.recency DESC, h.id) AS recencies FROM (
          SELECT e.id, coalesce(e.updated, e.created) AS recency FROM entries e
          WHERE e.tsv @@ t.q AND (t.scope IS NULL OR e.language = t.scope) AND ${searchConditions(tx, owner, f)}
            AND e.owner_id = current_setting('app.current_user', true)
          ORDER BY coalesce(e.updated, e.created) DESC, e.id
          LIMIT ${DF_CAP}
        ) h
      ) m
      WHERE m.ids IS NOT NULL
    ),
    weighted AS MATERIALIZED (
      SELECT ids, recencies, cardinality(ids) AS df, ln(1 + (${DF_CAP} - cardinality(ids) + 0.5) / (cardinality(ids) + 0.5)) AS idf FROM matches
    ),
    candidates AS (
      SELECT DISTINCT u.id FROM weighted w CROSS JOIN LATERAL unnest(w.ids[1:${q.perTermCap}]) u(id)
      WHERE w.df < ${DF_CAP} OR NOT EXISTS (SELECT 1 FROM weighted WHERE df < ${DF_CAP})
    )
    SELECT u.id, u.recency, sum(w.idf) AS score
    FROM weighted w CROSS JOIN LATERAL unnest(w.ids, w.recencies) u(id, recency)
    WHERE u.id IN (SELECT id FROM candidates)
    GROUP BY u.id, u.recency
    ORDER BY score DESC, u.recency DESC, u.id COLLATE "C"
    LIMIT ${q.limit}`
  // Sent back to back (no other statement of this transaction can run between them). The query's terms are
  // computed inside it, so a custom plan sees nothing a generic one does not: it runs with the cached plan
  // (planning it costs ~3.7 ms of the ~9.5 ms CPU it took per question on LoCoMo, PGlite), and the search
  // transaction's custom plans are restored for the vector branch.
  const [, rows] = await Promise.all([
    rlsRole ? tx`SELECT set_config('role', 'none', true), set_config('plan_cache_mode', 'auto', true)` : tx`SELECT set_config('plan_cache_mode', 'auto', true)`,
    query,
    rlsRole
      ? tx`SELECT set_config('role', 'awareness_rls', true), set_config('plan_cache_mode', 'force_custom_plan', true)`
      : tx`SELECT set_config('plan_cache_mode', 'force_custom_plan', true)`,
  ])
  return rows.map(toBranchRow)
}
