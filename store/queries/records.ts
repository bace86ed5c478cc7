/**
 * Schema and record queries (data-and-engine.md §3.7, §4.2; mcp-surface.md §4.4): schema resolution with
 * the `_system` fallback, and the records that pin a schema version.
 */
import { and, entryColumns, type Tx } from '../sql.js'
import { toEntry, type Entry } from '../rows.js'
import { lockKey } from './alerts.js'

/** The reserved owner of operator-seeded schemas, readable by every owner for resolution only. */
export const SYSTEM_OWNER = '_system'

/**
 * Serialises everything that can make a schema version live for the owner (registration, restore): the
 * unique index covers one source only, while D8 allows one live schema per family:version across sources.
 */
export async function lockSchemaKey(tx: Tx, owner: string, logicalKey: string): Promise<void> {
  await lockKey(tx, `schema:${owner}:${logicalKey}`)
}

/**
 * The caller's live schema with this `family:version` key (any source), locked FOR SHARE: a delete of that
 * schema (which locks it FOR UPDATE) then waits for the writer that resolved it, and a writer that comes
 * second sees it trashed and resolves again. The oldest wins should legacy data hold several.
 */
export async function findOwnSchema(tx: Tx, owner: string, logicalKey: string): Promise<Entry | undefined> {
  const [row] = await tx`
    SELECT ${entryColumns(tx)} FROM entries
    WHERE owner_id = ${owner} AND type = 'schema' AND logical_key = ${logicalKey} AND deleted IS NULL
    ORDER BY created, id LIMIT 1 FOR SHARE`
  return row ? toEntry(row) : undefined
}

/** A live `_system` schema with this key. Not locked: RLS lets owners read these rows, never lock them. */
async function findSystemSchema(tx: Tx, logicalKey: string): Promise<Entry | undefined> {
  const [row] = await tx`
    SELECT ${entryColumns(tx)} FROM entries
    WHERE owner_id = ${SYSTEM_OWNER} AND type = 'schema' AND logical_key = ${logicalKey} AND deleted IS NULL
    ORDER BY created, id LIMIT 1`
  return row ? toEntry(row) : undefined
}

/** Resolution (§4.4.2): the caller's schema first, then `_system`'s; never another owner's. */
export async function findSchema(tx: Tx, owner: string, logicalKey: string): Promise<Entry | undefined> {
  return (await findOwnSchema(tx, owner, logicalKey)) ?? (owner === SYSTEM_OWNER ? undefined : findSystemSchema(tx, logicalKey))
}

/**
 * Live records of the owner pinned to exactly this family and version, excluding `exclude` (the set a bulk
 * delete trashes together with the schema): the count and the first 10 ids, oldest first.
 */
export async function countRecordsReferencing(
  tx: Tx,
  owner: string,
  ref: { family: string; version: string },
  exclude: string[] = [],
): Promise<{ count: number; ids: string[] }> {
  const excluded = exclude.length === 0 ? tx`` : tx`AND id <> ALL(${tx.array(exclude)}::text[])`
  const rows = await tx`
    SELECT id, count(*) OVER ()::int AS total FROM entries
    WHERE owner_id = ${owner} AND type = 'record' AND deleted IS NULL
      AND data->>'schema_ref' = ${ref.family} AND data->>'schema_version' = ${ref.version} ${excluded}
    ORDER BY created, id LIMIT 10`
  return { count: rows.length === 0 ? 0 : (rows[0].total as number), ids: rows.map((r) => r.id as string) }
}
