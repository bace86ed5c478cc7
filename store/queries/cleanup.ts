/**
 * Queries of the cleanup job (data-and-engine.md §9.3, Ours): a lease row so one instance of many runs it,
 * candidate owners from owner_settings (no RLS, ids only), and the purge under each owner's own context.
 */
import type { Sql } from 'postgres'
import { and, type Tx } from '../sql.js'

/** Takes the named lease for `seconds` unless another holder's lease is still running. */
export async function takeLease(sql: Sql, name: string, holder: string, seconds: number): Promise<boolean> {
  const rows = await sql`
    INSERT INTO job_leases (name, holder, lease_until) VALUES (${name}, ${holder}, now() + make_interval(secs => ${seconds}))
    ON CONFLICT (name) DO UPDATE SET holder = excluded.holder, lease_until = excluded.lease_until
      WHERE job_leases.lease_until IS NULL OR job_leases.lease_until < now() OR job_leases.holder = excluded.holder
    RETURNING name`
  return rows.length === 1
}

export async function releaseLease(sql: Sql, name: string, holder: string): Promise<void> {
  await sql`UPDATE job_leases SET lease_until = now() WHERE name = ${name} AND holder = ${holder}`
}

export async function cleanupCandidates(sql: Sql): Promise<string[]> {
  const rows = await sql`SELECT owner_id FROM owner_settings ORDER BY owner_id`
  return rows.map((r) => r.owner_id as string)
}

/** The owner's live `auto_cleanup` preference, read under its own context so trashing it takes effect at once. */
export async function cleanupEnabled(tx: Tx, owner: string): Promise<boolean> {
  const [row] = await tx`
    SELECT 1 FROM entries
    WHERE owner_id = ${owner} AND type = 'preference' AND deleted IS NULL
      AND data->>'key' = 'auto_cleanup' AND lower(data->>'value') = 'true'
    LIMIT 1`
  return row !== undefined
}

/** Permanently removes the owner's expired entries, trashed or not; reads, actions, embeddings cascade. */
export async function purgeExpired(tx: Tx, owner: string): Promise<number> {
  const result = await tx`DELETE FROM entries WHERE owner_id = ${owner} AND expires IS NOT NULL AND expires <= now()`
  return result.count
}
