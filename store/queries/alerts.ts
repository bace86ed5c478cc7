/**
 * Alert upsert (data-and-engine.md §4.1): serialised per (owner, source, alert_id) with a transaction
 * advisory lock whose key is derived exactly like the reference's, so mixed deployments share locks.
 */
import { createHash } from 'node:crypto'
import { and, entryColumns, type Tx } from '../sql.js'
import { toEntry, type Entry } from '../rows.js'
import { insertEntry } from './entries.js'

/** SHA-256 of the text read as a big-endian integer, modulo 2^63: the last 8 bytes with the top bit cleared. */
export function advisoryKey(text: string): string {
  const digest = createHash('sha256').update(text, 'utf8').digest()
  return (digest.readBigUInt64BE(24) & 0x7fffffffffffffffn).toString()
}

export async function lockKey(tx: Tx, text: string): Promise<void> {
  await tx`SELECT pg_advisory_xact_lock(${advisoryKey(text)}::int8)`
}

/**
 * Inserts the alert, or merges `data` into the newest live alert with the same (source, alert_id) —
 * resolved ones included, so re-reporting re-opens in place. Keys only in the old data survive.
 */
export async function upsertAlert(tx: Tx, owner: string, a: { source: string; alertId: string; tags: string[]; data: Record<string, unknown> }, now = new Date()): Promise<{ entry: Entry; created: boolean }> {
  await lockKey(tx, `alert:${owner}:${a.source}:${a.alertId}`)
  const [row] = await tx`
    SELECT ${entryColumns(tx)} FROM entries
    WHERE owner_id = ${owner} AND type = 'alert' AND source = ${a.source} AND deleted IS NULL AND data->>'alert_id' = ${a.alertId}
    ORDER BY created DESC LIMIT 1 FOR UPDATE`
  if (!row) return { entry: await insertEntry(tx, owner, { type: 'alert', source: a.source, tags: a.tags, data: a.data }, now), created: true }
  const [updated] = await tx`
    UPDATE entries SET updated = ${now}, tags = ${tx.json(a.tags)}, data = data || ${tx.json(a.data as never)}
    WHERE id = ${row.id as string} AND owner_id = ${owner}
    RETURNING ${entryColumns(tx)}`
  return { entry: toEntry(updated), created: false }
}
