/**
 * Preference upsert (data-and-engine.md §4.1 upsert_preference, §9.3): one live preference per
 * (owner, key, scope), serialised with the same advisory-lock key derivation as the reference.
 */
import { and, entryColumns, type Tx } from '../sql.js'
import { toEntry, type Entry } from '../rows.js'
import { lockKey } from './alerts.js'
import { insertEntry } from './entries.js'

export interface Preference {
  key: string
  value: string
  scope: string
}

/**
 * Inserts the preference (source = scope, no tags), or overwrites key/value/scope of the newest live one
 * with the same (key, scope): same id, `updated` = now, tags reset, no changelog. Other data keys (a
 * changelog or description left by update_entry) survive, as in the reference's merge.
 */
export async function upsertPreference(tx: Tx, owner: string, p: Preference, now = new Date()): Promise<{ entry: Entry; created: boolean }> {
  await lockKey(tx, `pref:${owner}:${p.key}:${p.scope}`)
  const data = { key: p.key, value: p.value, scope: p.scope }
  const [row] = await tx`
    SELECT id FROM entries
    WHERE owner_id = ${owner} AND type = 'preference' AND deleted IS NULL AND data->>'key' = ${p.key} AND data->>'scope' = ${p.scope}
    ORDER BY created DESC, id LIMIT 1 FOR UPDATE`
  if (!row) return { entry: await insertEntry(tx, owner, { type: 'preference', source: p.scope, tags: [], data }, now), created: true }
  const [updated] = await tx`
    UPDATE entries SET updated = ${now}, tags = '[]'::jsonb, data = data || ${tx.json(data)}
    WHERE id = ${row.id as string} AND owner_id = ${owner}
    RETURNING ${entryColumns(tx)}`
  return { entry: toEntry(updated), created: false }
}

/**
 * Lists the owner as a cleanup candidate (a table without RLS, so the cleanup job can discover owners
 * before it has any owner context). It holds no value: the job re-reads the preference itself.
 */
export async function markCleanupCandidate(tx: Tx, owner: string): Promise<void> {
  await tx`
    INSERT INTO owner_settings (owner_id) VALUES (${owner})
    ON CONFLICT (owner_id) DO UPDATE SET auto_cleanup_seen = now()`
}
