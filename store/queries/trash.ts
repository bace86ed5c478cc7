/**
 * Trash operations (data-and-engine.md §3.5, §4.3): soft delete by id, by tags, by source; restore by id
 * and by tags; the trash listing. A soft delete remembers the previous expiry in `data._original_expires`
 * (a UTC ISO string with microseconds, so a restore brings it back to the exact instant) and sets the purge
 * date; a restore puts the remembered expiry back and drops the key. Neither touches `updated`.
 */
import { and, entryColumns, type Tx, type Fragment } from '../sql.js'
import { toEntry, type Entry } from '../rows.js'

/** Days a trashed entry stays recoverable before an opted-in owner's cleanup purges it. */
export const TRASH_DAYS = 30

const DAY_MS = 86_400_000

/** Which live entries a bulk delete matches: every tag (AND), or one source and optionally one type. */
export type BulkSelector = { tags: string[] } | { source: string; type?: string }

function selection(tx: Tx, owner: string, sel: BulkSelector): Fragment {
  if ('tags' in sel) return tx`owner_id = ${owner} AND deleted IS NULL AND tags @> ${tx.json(sel.tags)}`
  return sel.type === undefined
    ? tx`owner_id = ${owner} AND deleted IS NULL AND source = ${sel.source}`
    : tx`owner_id = ${owner} AND deleted IS NULL AND source = ${sel.source} AND type = ${sel.type}`
}

/** The dry-run count of a bulk delete: the same predicate the confirmed delete uses. */
export async function countLive(tx: Tx, owner: string, sel: BulkSelector): Promise<number> {
  const [row] = await tx`SELECT count(*)::int AS n FROM entries WHERE ${selection(tx, owner, sel)}`
  return row.n as number
}

export interface MatchedEntry {
  id: string
  type: string
  logicalKey: string | null
}

/**
 * Locks the live entries a confirmed bulk delete will trash. Locking in id order keeps two overlapping bulk
 * deletes from deadlocking; a row changed meanwhile is re-checked against the predicate after the wait.
 */
export async function lockLive(tx: Tx, owner: string, sel: BulkSelector): Promise<MatchedEntry[]> {
  const rows = await tx`SELECT id, type, logical_key FROM entries WHERE ${selection(tx, owner, sel)} ORDER BY id FOR UPDATE`
  return rows.map((r) => ({ id: r.id as string, type: r.type as string, logicalKey: (r.logical_key as string | null) ?? null }))
}

function trashAssignments(tx: Tx, now: Date): Fragment {
  return tx`
    deleted = ${now},
    expires = ${new Date(now.getTime() + TRASH_DAYS * DAY_MS)},
    data = CASE WHEN expires IS NULL THEN data - '_original_expires'
                ELSE jsonb_set(data, '{_original_expires}', to_jsonb(to_char(expires AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"')))
           END`
}

/** Trashes one live entry of the owner; false when there was none (missing, trashed, another owner's). */
export async function softDeleteById(tx: Tx, owner: string, id: string, now = new Date()): Promise<boolean> {
  const rows = await tx`UPDATE entries SET ${trashAssignments(tx, now)} WHERE owner_id = ${owner} AND deleted IS NULL AND id = ${id} RETURNING id`
  return rows.length === 1
}

/** Trashes the given live entries (already locked by `lockLive`); returns how many changed. */
export async function softDeleteByIds(tx: Tx, owner: string, ids: string[], now = new Date()): Promise<number> {
  if (ids.length === 0) return 0
  const rows = await tx`UPDATE entries SET ${trashAssignments(tx, now)} WHERE owner_id = ${owner} AND deleted IS NULL AND id = ANY(${tx.array(ids)}::text[]) RETURNING id`
  return rows.length
}

const RESTORE = `deleted = NULL, expires = (data->>'_original_expires')::timestamptz, data = data - '_original_expires'`

export interface TrashedKey {
  id: string
  type: string
  source: string
  logicalKey: string
}

function keyedRows(rows: readonly Record<string, unknown>[]): TrashedKey[] {
  return rows
    .filter((r) => r.logical_key !== null)
    .map((r) => ({ id: r.id as string, type: r.type as string, source: r.source as string, logicalKey: r.logical_key as string }))
}

/** Locks the owner's trashed entry with this id; undefined when it is not in the owner's trash. */
export async function lockTrashedById(tx: Tx, owner: string, id: string): Promise<{ ids: string[]; keyed: TrashedKey[] } | undefined> {
  const rows = await tx`SELECT id, type, source, logical_key FROM entries WHERE owner_id = ${owner} AND deleted IS NOT NULL AND id = ${id} FOR UPDATE`
  return rows.length === 0 ? undefined : { ids: [id], keyed: keyedRows(rows) }
}

/** Locks the trashed entries carrying every tag, returning the keyed ones (the only ones that can conflict). */
export async function lockTrashedByTags(tx: Tx, owner: string, tags: string[]): Promise<{ ids: string[]; keyed: TrashedKey[] }> {
  const rows = await tx`
    SELECT id, type, source, logical_key FROM entries
    WHERE owner_id = ${owner} AND deleted IS NOT NULL AND tags @> ${tx.json(tags)}
    ORDER BY id FOR UPDATE`
  return { ids: rows.map((r) => r.id as string), keyed: keyedRows(rows) }
}

/** Restores the given trashed entries in one statement (all or nothing); returns how many changed. */
export async function restoreByIds(tx: Tx, owner: string, ids: string[]): Promise<number> {
  if (ids.length === 0) return 0
  const rows = await tx`UPDATE entries SET ${tx.unsafe(RESTORE)} WHERE owner_id = ${owner} AND deleted IS NOT NULL AND id = ANY(${tx.array(ids)}::text[]) RETURNING id`
  return rows.length
}

/** The trash, most recently deleted first (id breaks ties so pages never overlap). */
export async function getDeleted(tx: Tx, owner: string, since: Date | undefined, limit: number, offset: number): Promise<Entry[]> {
  const sinceCond = since === undefined ? tx`` : tx`AND deleted >= ${since}`
  const rows = await tx`
    SELECT ${entryColumns(tx)} FROM entries
    WHERE owner_id = ${owner} AND deleted IS NOT NULL ${sinceCond}
    ORDER BY deleted DESC, id
    LIMIT ${limit} OFFSET ${offset}`
  return rows.map(toEntry)
}

/**
 * Why restoring these keyed entries would break a uniqueness rule: one live entry per (source,
 * logical_key), and one live schema per family:version whatever its source (D8). Names a live holder of one
 * of their keys, or two of them sharing a key; undefined when restoring them is safe.
 */
export async function findRestoreConflict(tx: Tx, owner: string, keyed: TrashedKey[]): Promise<{ entry: TrashedKey; existingId: string } | undefined> {
  if (keyed.length === 0) return undefined
  const [holder] = await tx`
    SELECT e.id, k.ord FROM entries e
    JOIN unnest(${tx.array(keyed.map((k) => k.source))}::text[], ${tx.array(keyed.map((k) => k.logicalKey))}::text[],
                ${tx.array(keyed.map((k) => k.type))}::text[]) WITH ORDINALITY AS k(source, key, type, ord)
      ON e.logical_key = k.key AND (e.source = k.source OR (k.type = 'schema' AND e.type = 'schema'))
    WHERE e.owner_id = ${owner} AND e.deleted IS NULL
    ORDER BY k.ord LIMIT 1`
  if (holder) return { entry: keyed[Number(holder.ord) - 1], existingId: holder.id as string }
  const seen = new Map<string, string>()
  for (const k of keyed) {
    const slots = [JSON.stringify(['key', k.source, k.logicalKey])]
    if (k.type === 'schema') slots.push(JSON.stringify(['schema', k.logicalKey]))
    for (const slot of slots) {
      const other = seen.get(slot)
      if (other !== undefined) return { entry: k, existingId: other }
    }
    for (const slot of slots) seen.set(slot, k.id)
  }
  return undefined
}
