/**
 * Entry writes and knowledge reads (data-and-engine.md §4.1, §4.2). Each function takes the owner
 * transaction first; every statement also filters by owner, RLS enforces it again underneath.
 */
import { randomUUID } from 'node:crypto'
import { and, entryColumns, type Tx, type Fragment } from '../sql.js'
import { toEntry, type Entry } from '../rows.js'

export interface NewEntry {
  type: string
  source: string
  tags: string[]
  data: Record<string, unknown>
  expires?: Date | null
  logicalKey?: string | null
  language?: string
}

/**
 * Longest `source` or `logical_key` (UTF-8 bytes) a write may store. Both sit in B-tree indexes, whose
 * entries must fit a third of a page (2,704 bytes) next to the owner id: two of these plus a long owner id
 * stay under it even when the text does not compress. Longer values would fail inside the database.
 */
export const MAX_KEY_BYTES = 1024
export const keyBytes = (text: string): number => Buffer.byteLength(text, 'utf8')

export async function insertEntry(tx: Tx, owner: string, e: NewEntry, now = new Date()): Promise<Entry> {
  const [row] = await tx`
    INSERT INTO entries (id, owner_id, type, source, created, expires, tags, data, logical_key, language)
    VALUES (${randomUUID()}, ${owner}, ${e.type}, ${e.source}, ${now}, ${e.expires ?? null}, ${tx.json(e.tags)},
            ${tx.json(e.data as never)}, ${e.logicalKey ?? null}, ${e.language ?? 'simple'}::regconfig)
    RETURNING ${entryColumns(tx)}`
  return toEntry(row)
}

/**
 * Inserts unless a live entry already holds (owner, source, logical_key). On conflict the existing row is
 * locked (self-assignment update) and returned, so the caller can diff it inside the same transaction.
 * `xmax = 0` tells a fresh insert from the conflict path (verified on PostgreSQL 15 and PGlite).
 */
export async function insertOrLockByKey(tx: Tx, owner: string, e: NewEntry & { logicalKey: string }, now = new Date()): Promise<{ entry: Entry; created: boolean }> {
  const [row] = await tx`
    INSERT INTO entries (id, owner_id, type, source, created, expires, tags, data, logical_key, language)
    VALUES (${randomUUID()}, ${owner}, ${e.type}, ${e.source}, ${now}, ${e.expires ?? null}, ${tx.json(e.tags)},
            ${tx.json(e.data as never)}, ${e.logicalKey}, ${e.language ?? 'simple'}::regconfig)
    ON CONFLICT (owner_id, source, logical_key) WHERE logical_key IS NOT NULL AND deleted IS NULL
    DO UPDATE SET id = entries.id
    RETURNING ${entryColumns(tx)}, (xmax = 0) AS inserted`
  return { entry: toEntry(row), created: row.inserted as boolean }
}

/** Writes the mutable columns of an entry back (changelog already appended by the caller). */
export async function writeEntry(tx: Tx, owner: string, e: Entry): Promise<Entry> {
  const [row] = await tx`
    UPDATE entries SET updated = ${e.updated}, source = ${e.source}, tags = ${tx.json(e.tags)},
                       data = ${tx.json(e.data as never)}, language = ${e.language}::regconfig
    WHERE id = ${e.id} AND owner_id = ${owner}
    RETURNING ${entryColumns(tx)}`
  return toEntry(row)
}

/** The live entry with this id, locked for the rest of the transaction (read-modify-write safety). */
export async function getLiveEntryForUpdate(tx: Tx, owner: string, id: string): Promise<Entry | undefined> {
  const [row] = await tx`SELECT ${entryColumns(tx)} FROM entries WHERE id = ${id} AND owner_id = ${owner} AND deleted IS NULL FOR UPDATE`
  return row ? toEntry(row) : undefined
}

/** The live entry holding (source, logical_key), other than `exceptId`: the holder a key conflict names. */
export async function findLiveByKey(tx: Tx, owner: string, source: string, logicalKey: string, exceptId?: string): Promise<{ id: string; type: string } | undefined> {
  const except = exceptId === undefined ? tx`` : tx`AND id <> ${exceptId}`
  const [row] = await tx`
    SELECT id, type FROM entries
    WHERE owner_id = ${owner} AND source = ${source} AND logical_key = ${logicalKey} AND deleted IS NULL ${except}
    LIMIT 1`
  return row ? { id: row.id as string, type: row.type as string } : undefined
}

export interface KnowledgeFilter {
  types: readonly string[]
  source?: string
  tags?: string[]
  since?: Date
  until?: Date
  learnedFrom?: string
  createdAfter?: Date
  createdBefore?: Date
  language?: string
  includeExpired?: boolean
  onlyWithChangelog?: boolean
}

export function knowledgeConditions(tx: Tx, owner: string, f: KnowledgeFilter): Fragment[] {
  const conds: Fragment[] = [tx`owner_id = ${owner}`, tx`deleted IS NULL`, tx`type IN ${tx(f.types as string[])}`]
  if (f.source !== undefined) conds.push(tx`source = ${f.source}`)
  if (f.tags !== undefined && f.tags.length > 0) conds.push(tx`tags @> ${tx.json(f.tags)}`)
  if (f.since !== undefined) conds.push(tx`coalesce(updated, created) >= ${f.since}`)
  if (f.until !== undefined) conds.push(tx`coalesce(updated, created) <= ${f.until}`)
  if (f.learnedFrom !== undefined) conds.push(tx`data->>'learned_from' = ${f.learnedFrom}`)
  if (f.createdAfter !== undefined) conds.push(tx`created >= ${f.createdAfter}`)
  if (f.createdBefore !== undefined) conds.push(tx`created <= ${f.createdBefore}`)
  if (f.language !== undefined) conds.push(tx`language = ${f.language}::regconfig`)
  // Decision 7: an entry past its expiry is hidden from reads unless asked for.
  if (!f.includeExpired) conds.push(tx`(expires IS NULL OR expires > now())`)
  if (f.onlyWithChangelog) conds.push(tx`jsonb_typeof(data->'changelog') = 'array' AND jsonb_array_length(data->'changelog') > 0`)
  return conds
}

/**
 * The most data one page of entries may carry (entry data as JSON text): 8 MiB. A page stops at the entry
 * that crosses it (that entry is still included), so one call can never materialise an owner's whole store
 * (security audit M1: 20 notes of 3 MB in one answer took the process from 631 MB to 1,008 MB).
 */
export const PAGE_BYTE_BUDGET = 8 * 1024 * 1024

/** A page of entries; `cut` when the byte budget ended it before `limit`. */
export interface EntryPage {
  readonly entries: Entry[]
  readonly cut: boolean
}

export async function queryKnowledge(tx: Tx, owner: string, f: KnowledgeFilter, limit: number, offset: number): Promise<EntryPage> {
  // The budget is applied in the database, so the rows past it are never sent to this process.
  const rows = await tx`
    SELECT * FROM (
      SELECT p.*, sum(p.page_bytes) OVER (ORDER BY p.page_order DESC, p.id ROWS UNBOUNDED PRECEDING) AS page_running, count(*) OVER () AS page_fetched
      FROM (
        SELECT ${entryColumns(tx)}, octet_length(data::text) AS page_bytes, coalesce(updated, created) AS page_order FROM entries
        WHERE ${and(tx, knowledgeConditions(tx, owner, f))}
        ORDER BY coalesce(updated, created) DESC, id
        LIMIT ${limit} OFFSET ${offset}
      ) p
    ) q
    WHERE q.page_running - q.page_bytes < ${PAGE_BYTE_BUDGET}
    ORDER BY q.page_order DESC, q.id`
  return { entries: rows.map(toEntry), cut: rows.length < Number(rows[0]?.page_fetched ?? 0) }
}

export async function countByType(tx: Tx, owner: string): Promise<{ counts: Record<string, number>; sources: string[] }> {
  const rows = await tx`
    SELECT type, source, count(*)::int AS n FROM entries
    WHERE owner_id = ${owner} AND deleted IS NULL
    GROUP BY type, source`
  const counts: Record<string, number> = {}
  const sources = new Set<string>()
  for (const r of rows) {
    counts[r.type as string] = (counts[r.type as string] ?? 0) + (r.n as number)
    sources.add(r.source as string)
  }
  return { counts, sources: [...sources].sort() }
}

export async function tagCounts(tx: Tx, owner: string): Promise<{ tag: string; count: number }[]> {
  const rows = await tx`
    SELECT t.tag, count(*)::int AS count
    FROM entries e CROSS JOIN LATERAL jsonb_array_elements_text(e.tags) AS t(tag)
    WHERE e.owner_id = ${owner} AND e.deleted IS NULL
    GROUP BY t.tag
    ORDER BY count DESC, t.tag COLLATE "C"`
  return rows.map((r) => ({ tag: r.tag as string, count: r.count as number }))
}
