/**
 * Read and action tracking, the activity feed and entry relations (data-and-engine.md §4.4, §4.8).
 * Reads and actions of a trashed entry stay visible here; they vanish only with the entry itself (cascade).
 */
import { and, entryColumns, type Tx, type Fragment } from '../sql.js'
import { toEntry, type Entry } from '../rows.js'

/** One read waiting in the read log (store/read-log.ts). */
export interface PendingRead {
  readonly entryId: string
  readonly tool: string
  /** When the entry was returned (the row's timestamp, not the time it was written). */
  readonly at: Date
}

/**
 * One read row per returned entry, and the entries' read counters bumped in the same statement.
 * INSERT … SELECT joined to entries, so an id that vanished meanwhile is skipped instead of aborting the
 * whole batch on the foreign key (reference defect §12.7). Counters are upserted in id order, so two calls
 * touching the same entries lock them in the same order and cannot deadlock.
 */
export async function logReadBatch(tx: Tx, owner: string, reads: readonly PendingRead[], platform: string | null = null): Promise<void> {
  if (reads.length === 0) return
  await tx`
    WITH logged AS (
      INSERT INTO reads (owner_id, entry_id, "timestamp", platform, tool_used)
      SELECT ${owner}, e.id, r.at, ${platform}, r.tool
      FROM unnest(${reads.map((r) => r.entryId)}::text[], ${reads.map((r) => r.at.toISOString())}::timestamptz[], ${reads.map((r) => r.tool)}::text[])
        WITH ORDINALITY AS r(id, at, tool, n)
      JOIN entries e ON e.id = r.id AND e.owner_id = ${owner}
      ORDER BY r.n
      RETURNING entry_id, "timestamp"
    )
    INSERT INTO read_counts (entry_id, owner_id, read_count, last_read)
    SELECT entry_id, ${owner}, count(*), max("timestamp") FROM logged GROUP BY entry_id ORDER BY entry_id
    ON CONFLICT (entry_id) DO UPDATE
      SET read_count = read_counts.read_count + excluded.read_count, last_read = greatest(read_counts.last_read, excluded.last_read)`
}

/**
 * Read counts and last read time for the ids that have at least one read: kept as counters, because
 * aggregating the read log costs as many rows as the entries were ever read (measured: 8–12 calls/s for a
 * 50-entry list page after a few thousand reads of each entry).
 */
export async function readCounts(tx: Tx, owner: string, entryIds: string[]): Promise<Map<string, { readCount: number; lastRead: Date }>> {
  const out = new Map<string, { readCount: number; lastRead: Date }>()
  if (entryIds.length === 0) return out
  const rows = await tx`
    SELECT entry_id, read_count AS n, last_read AS last
    FROM read_counts WHERE owner_id = ${owner} AND entry_id = ANY(${entryIds}::text[])`
  for (const r of rows) out.set(r.entry_id as string, { readCount: r.n as number, lastRead: r.last as Date })
  return out
}

export interface NewAction {
  entryId: string
  action: string
  platform?: string
  detail?: string
  /** Omitted: a copy of the entry's tags at this moment. */
  tags?: string[]
}

/**
 * Records an action against a live entry of the owner, stamped with the application clock. Undefined when
 * no such entry exists (missing, trashed or another owner's): nothing is written then. The entry row is
 * key-share locked by the same statement, so a concurrent purge yields "not found", never a foreign-key
 * failure; soft deletion does not conflict with that lock, which is fine (the action was taken).
 */
export async function insertAction(tx: Tx, owner: string, a: NewAction, now: Date): Promise<{ id: number; timestamp: Date } | undefined> {
  const tags = a.tags === undefined ? tx`e.tags` : tx`${tx.json(a.tags)}::jsonb`
  const [row] = await tx`
    INSERT INTO actions (owner_id, entry_id, "timestamp", platform, action, detail, tags)
    SELECT ${owner}, e.id, ${now}, ${a.platform ?? null}, ${a.action}, ${a.detail ?? null}, ${tags}
    FROM entries e
    WHERE e.id = ${a.entryId} AND e.owner_id = ${owner} AND e.deleted IS NULL
    FOR KEY SHARE
    RETURNING id, "timestamp"`
  return row === undefined ? undefined : { id: row.id as number, timestamp: row.timestamp as Date }
}

export interface EventFilter {
  entryId?: string
  since?: Date
  platform?: string
  tags?: string[]
}

/** Conditions shared by reads and actions; '' for entry_id and platform means "no filter" (§3.9–§3.12). */
function eventConditions(tx: Tx, owner: string, f: EventFilter): Fragment[] {
  const conds: Fragment[] = [tx`owner_id = ${owner}`]
  if (f.entryId !== undefined && f.entryId !== '') conds.push(tx`entry_id = ${f.entryId}`)
  if (f.since !== undefined) conds.push(tx`"timestamp" >= ${f.since}`)
  if (f.platform !== undefined && f.platform !== '') conds.push(tx`platform = ${f.platform}`)
  return conds
}

export interface ReadRow {
  id: number
  entry_id: string
  timestamp: string
  platform: string | null
  tool_used: string | null
}

/** Newest first; the serial id breaks ties (reads of one call share the transaction's now()). */
export async function queryReads(tx: Tx, owner: string, f: EventFilter, limit: number): Promise<ReadRow[]> {
  const rows = await tx`
    SELECT id, entry_id, "timestamp", platform, tool_used FROM reads
    WHERE ${and(tx, eventConditions(tx, owner, f))}
    ORDER BY "timestamp" DESC, id DESC
    LIMIT ${limit}`
  return rows.map((r) => ({
    id: r.id as number,
    entry_id: r.entry_id as string,
    timestamp: (r.timestamp as Date).toISOString(),
    platform: (r.platform as string | null) ?? null,
    tool_used: (r.tool_used as string | null) ?? null,
  }))
}

export interface ActionRow {
  id: number
  entry_id: string
  timestamp: string
  platform: string | null
  action: string
  detail: string | null
  tags: string[]
}

/** Newest first; tags are ANDed over the action's own tags (one containment test). */
export async function queryActions(tx: Tx, owner: string, f: EventFilter, limit: number): Promise<ActionRow[]> {
  const conds = eventConditions(tx, owner, f)
  if (f.tags !== undefined && f.tags.length > 0) conds.push(tx`tags @> ${tx.json(f.tags)}`)
  const rows = await tx`
    SELECT id, entry_id, "timestamp", platform, action, detail, tags FROM actions
    WHERE ${and(tx, conds)}
    ORDER BY "timestamp" DESC, id DESC
    LIMIT ${limit}`
  return rows.map((r) => ({
    id: r.id as number,
    entry_id: r.entry_id as string,
    timestamp: (r.timestamp as Date).toISOString(),
    platform: (r.platform as string | null) ?? null,
    action: r.action as string,
    detail: (r.detail as string | null) ?? null,
    tags: (r.tags as string[] | null) ?? [],
  }))
}

export interface ActivityEvent {
  event_type: 'read' | 'action'
  entry_id: string
  timestamp: string
  platform: string | null
  action: string | null
  detail: string | null
  tags: string[]
}

/**
 * Reads and actions merged newest first, the limit applied to the merged feed. The merge happens in SQL:
 * each branch is cut to the limit on its own index first (neither can contribute more rows than that).
 * Ties: timestamp, then event type, then the (per-table) serial id.
 */
export async function queryActivity(tx: Tx, owner: string, f: EventFilter, limit: number): Promise<ActivityEvent[]> {
  const where = and(tx, eventConditions(tx, owner, { since: f.since, platform: f.platform }))
  const rows = await tx`
    SELECT event_type, entry_id, "timestamp", platform, action, detail, tags FROM (
      (SELECT 'read'::text AS event_type, entry_id, "timestamp", platform, NULL::text AS action,
              tool_used AS detail, '[]'::jsonb AS tags, id
       FROM reads WHERE ${where} ORDER BY "timestamp" DESC, id DESC LIMIT ${limit})
      UNION ALL
      (SELECT 'action'::text, entry_id, "timestamp", platform, action, detail, tags, id
       FROM actions WHERE ${where} ORDER BY "timestamp" DESC, id DESC LIMIT ${limit})
    ) AS feed
    ORDER BY "timestamp" DESC, event_type, id DESC
    LIMIT ${limit}`
  return rows.map((r) => ({
    event_type: r.event_type as 'read' | 'action',
    entry_id: r.entry_id as string,
    timestamp: (r.timestamp as Date).toISOString(),
    platform: (r.platform as string | null) ?? null,
    action: (r.action as string | null) ?? null,
    detail: (r.detail as string | null) ?? null,
    tags: (r.tags as string[] | null) ?? [],
  }))
}

/**
 * Live entries of every type (expired included, §2.13) without a qualifying read, newest created first.
 * With `since`, only reads at or after it count, so an entry read only earlier is unread again.
 */
export async function queryUnread(tx: Tx, owner: string, since: Date | undefined, limit: number): Promise<Entry[]> {
  const readFilter = since === undefined ? tx`` : tx`AND r."timestamp" >= ${since}`
  const rows = await tx`
    SELECT ${entryColumns(tx)} FROM entries e
    WHERE e.owner_id = ${owner} AND e.deleted IS NULL
      AND NOT EXISTS (SELECT 1 FROM reads r WHERE r.owner_id = ${owner} AND r.entry_id = e.id ${readFilter})
    ORDER BY e.created DESC, e.id
    LIMIT ${limit}`
  return rows.map(toEntry)
}

/** The ids an entry links to: `data.related_ids` when it is an array; only its string items count (D14). */
export function forwardIds(entry: Entry): string[] {
  const ids = entry.data.related_ids
  return Array.isArray(ids) ? ids.filter((id): id is string => typeof id === 'string' && id !== entry.id) : []
}

/**
 * The entries related to a live entry of the owner, or undefined when there is no such entry.
 * Forward links (the entry's related_ids) come first, then reverse links (entries whose related_ids contain
 * this id; JSONB containment never matches a non-array value), each by activity time descending; the entry
 * itself is excluded on both sides and duplicates keep their first occurrence (D14).
 */
export async function relatedEntries(tx: Tx, owner: string, id: string): Promise<Entry[] | undefined> {
  const [row] = await tx`SELECT ${entryColumns(tx)} FROM entries WHERE id = ${id} AND owner_id = ${owner} AND deleted IS NULL`
  if (row === undefined) return undefined
  const forward = forwardIds(toEntry(row))
  const rows = await tx`
    SELECT ${entryColumns(tx)}, 0 AS side, coalesce(updated, created) AS recency FROM entries
    WHERE owner_id = ${owner} AND deleted IS NULL AND id = ANY(${forward}::text[]) AND id <> ${id}
    UNION ALL
    SELECT ${entryColumns(tx)}, 1 AS side, coalesce(updated, created) AS recency FROM entries
    WHERE owner_id = ${owner} AND deleted IS NULL AND data->'related_ids' @> ${tx.json([id])} AND id <> ${id}
    ORDER BY side, recency DESC, id`
  const seen = new Set<string>()
  const out: Entry[] = []
  for (const r of rows) {
    if (seen.has(r.id as string)) continue
    seen.add(r.id as string)
    out.push(toEntry(r))
  }
  return out
}
