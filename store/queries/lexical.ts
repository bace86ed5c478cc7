/**
 * The full-text branch of hybrid search (data-and-engine.md §6.3, as changed by the retrieval issue): a
 * question asked in a sentence finds the entries that share its rarest words.
 *
 * 1. Each word of the query is put in every text-search configuration the owner's entries are stored in
 *    (each entry keeps the language detected when it was written), so "works" meets the English-stemmed
 *    "work" of an English note and the unstemmed "works" of a `simple` one. A word that a non-`simple`
 *    configuration drops as a stop word is dropped ("the" is no clue in a short note stored unstemmed
 *    either). An explicit query language adds its own form, matched against every entry.
 * 2. Each word's matches among the filtered entries (any of its forms, each against entries of its own
 *    language) are listed, most recent first, up to DF_CAP. Their count df becomes a BM25-style inverse
 *    document frequency, ln(1 + (DF_CAP − df + ½) / (df + ½)): DF_CAP stands in for the collection size,
 *    which keeps the weights monotone in df without counting the owner.
 * 3. Candidates are the `perTermCap` most recent matches of each word rarer than DF_CAP (of every word
 *    when none is), so a word found in most entries never drags thousands of rows into the ranking.
 * 4. A candidate scores the sum of the weights of the words whose match lists hold it (any-word matching
 *    ranked by coverage and rarity); ties go to the more recent entry, then the id in byte order.
 *
 * Two statements: the words are computed first, so that the second carries each word's tsqueries as
 * parameters and its custom plan can tell a rare word (GIN index) from a common one (the recency index,
 * stopping at DF_CAP). With the words computed inside one statement the planner could not, and on
 * PostgreSQL walked every row of a 10,000-entry owner per word (96 ms a question, against 14 ms now).
 *
 * Runs inside a search transaction (SEARCH_TRANSACTION, custom plans). `rlsRole`: the second statement reads
 * the view entries_fts (migration 0007), pinned to the transaction's owner by its definition, instead of
 * entries under its row-level policy: under the policy `@@` (not LEAKPROOF) cannot use the GIN index, and
 * every search would scan all of the owner's rows (measured on 10,000 entries: ~10 ms on PostgreSQL 15,
 * ~15 ms on PGlite, against ~1–3 ms with the index). The statement stays under the awareness_rls role.
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
  /** Most recent matches of one word that may become candidates. */
  readonly perTermCap: number
}

/** One word of the query: its tsquery in each configuration it is matched in (entries of that language, or every entry when `scope` is null). */
interface Word {
  readonly forms: readonly { readonly scope: string | null; readonly query: string }[]
}

/**
 * Step 1: the query's words, each as its tsquery in every configuration the owner's entries use (a loose
 * scan of the owner's languages) and in the caller's explicit language. A word that some non-`simple`
 * configuration drops as a stop word is dropped altogether.
 */
async function wordsOf(tx: Tx, owner: string, text: string, language: string | undefined): Promise<Word[]> {
  const pinned: Fragment = tx`e.owner_id = ${owner} AND e.deleted IS NULL`
  const explicit = language === undefined ? tx`` : tx`UNION SELECT ${language}::regconfig, NULL::regconfig`
  const rows = await tx`
    WITH RECURSIVE langs AS (
      (SELECT e.language FROM entries e WHERE ${pinned} ORDER BY e.language LIMIT 1)
      UNION ALL
      SELECT (SELECT e.language FROM entries e WHERE ${pinned} AND e.language > l.language ORDER BY e.language LIMIT 1)
      FROM langs l WHERE l.language IS NOT NULL
    ),
    configs AS (SELECT language AS cfg, language AS scope FROM langs WHERE language IS NOT NULL ${explicit}),
    words AS (SELECT DISTINCT x.lexeme AS word FROM unnest(to_tsvector('simple', ${text})) x)
    SELECT w.word, c.cfg::text <> 'simple' AS stemmed, c.scope::text AS scope, plainto_tsquery(c.cfg, w.word)::text AS query
    FROM words w CROSS JOIN configs c`
  const byWord = new Map<string, { stop: boolean; forms: { scope: string | null; query: string }[] }>()
  for (const r of rows) {
    const w = byWord.get(r.word as string) ?? { stop: false, forms: [] }
    byWord.set(r.word as string, w)
    if (r.query === '') w.stop ||= r.stemmed as boolean
    else w.forms.push({ scope: r.scope as string | null, query: r.query as string })
  }
  return [...byWord.values()].filter((w) => !w.stop && w.forms.length > 0)
}

/**
 * Step 2, one statement: each word's filtered matches, most recent first, up to DF_CAP, in a subquery of its
 * own whose tsquery is a parameter — so the search transaction's custom plan sees how common each word is
 * and picks per word: the GIN index for a rare one, the recency index (stopping at DF_CAP) for a common
 * one. Then the weights, the candidates (each seed word's first `perTermCap` matches) and their scores.
 */
function rankedMatches(tx: Tx, owner: string, f: SearchFilter, words: readonly Word[], q: LexicalQuery, table: Fragment) {
  const perWord = words.map((word, t) => {
    const forms = word.forms.map((form) => (form.scope === null ? tx`e.tsv @@ ${form.query}::tsquery` : tx`(e.language = ${form.scope}::regconfig AND e.tsv @@ ${form.query}::tsquery)`))
    const matches = forms.reduce((all, one) => tx`${all} OR ${one}`)
    return tx`
      SELECT ${t}::int AS t, x.id, x.recency, row_number() OVER (ORDER BY x.recency DESC, x.id) AS n FROM (
        SELECT e.id, coalesce(e.updated, e.created) AS recency FROM ${table} e
        WHERE (${matches}) AND ${searchConditions(tx, owner, f)}
          AND e.owner_id = current_setting('app.current_user', true)
        ORDER BY coalesce(e.updated, e.created) DESC, e.id
        LIMIT ${DF_CAP}
      ) x`
  })
  const union = perWord.reduce((all, part) => tx`${all} UNION ALL ${part}`)
  return tx`
    WITH m AS MATERIALIZED (${union}),
    w AS MATERIALIZED (
      SELECT t, count(*) AS df, ln(1 + (${DF_CAP} - count(*) + 0.5) / (count(*) + 0.5)) AS idf FROM m GROUP BY t
    ),
    seeds AS (SELECT t FROM w WHERE df < ${DF_CAP} OR NOT EXISTS (SELECT 1 FROM w WHERE df < ${DF_CAP})),
    candidates AS (SELECT DISTINCT m.id FROM m JOIN seeds USING (t) WHERE m.n <= ${q.perTermCap})
    SELECT m.id, m.recency, sum(w.idf) AS score
    FROM m JOIN w USING (t)
    WHERE m.id IN (SELECT id FROM candidates)
    GROUP BY m.id, m.recency
    ORDER BY score DESC, m.recency DESC, m.id COLLATE "C"
    LIMIT ${q.limit}`
}

export async function lexicalBranch(tx: Tx, owner: string, f: SearchFilter, q: LexicalQuery, rlsRole = false): Promise<BranchRow[]> {
  // Step 1 uses no full-text operator, so row-level security costs it nothing: it reads entries as it is.
  const words = await wordsOf(tx, owner, q.text, q.language)
  if (words.length === 0) return []
  const table = rlsRole ? tx`entries_fts` : tx`entries`
  return (await rankedMatches(tx, owner, f, words, q, table)).map(toBranchRow)
}
