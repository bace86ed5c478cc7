/**
 * The reads of write-time language resolution (data-and-engine.md §7.2–§7.5): the text-search
 * configurations the database knows, and the owner's preferred language.
 */
import type { Tx } from '../sql.js'

/** Every text-search configuration in the catalog. In a savepoint: a failed read must not abort the caller's write. */
export async function catalogNames(tx: Tx): Promise<string[]> {
  const rows = await tx.savepoint((sp) => sp`SELECT cfgname::text AS name FROM pg_catalog.pg_ts_config`)
  return rows.map((r) => r.name as string)
}

/** The owner's preferred language (users.preferences.language, an ISO 639-1 code), when a users row has one. */
export async function preferredLanguage(tx: Tx, owner: string): Promise<string | undefined> {
  const [row] = await tx`SELECT preferences->>'language' AS language FROM users WHERE id = ${owner} AND deleted IS NULL`
  const value = row?.language as string | null | undefined
  return typeof value === 'string' && value.trim() !== '' ? value : undefined
}

/** `name` when this database has that text-search configuration, else 'simple' (an unknown one would fail an insert). */
export async function knownRegconfig(tx: Tx, name: string): Promise<string> {
  if (name === 'simple') return name
  const [row] = await tx`SELECT 1 AS one FROM pg_ts_config WHERE cfgname = ${name}`
  return row === undefined ? 'simple' : name
}
