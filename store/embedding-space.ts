/**
 * The database's vector space: which provider's vectors it holds and how many dimensions they have
 * (awareness_meta `embedding_provider` and `vector_dimensions`, fixed when the database is created).
 * Switching empties it: vectors of two models are never comparable, and a new size changes the column.
 */
import type { Sql } from 'postgres'
import type { VectorMode } from './migrations.js'

export interface VectorSpace {
  readonly provider: string
  readonly dimensions: number
}

/**
 * Drops every stored vector, gives the embeddings column its new size (pgvector's `vector(n)`; array mode
 * checks each row against its own `dimensions`) and records the provider — one transaction, so an
 * interrupted switch leaves the old space whole. Entries are untouched; re-embedding them is the caller's.
 */
export async function switchVectorSpace(sql: Sql, vectorMode: VectorMode, next: VectorSpace): Promise<{ dropped: number }> {
  const n = Math.trunc(next.dimensions)
  if (!Number.isInteger(next.dimensions) || n < 1 || n > 16_000) throw new Error(`vector dimensions must be an integer from 1 to 16000, got ${next.dimensions}`)
  return sql.begin(async (tx) => {
    const [row] = await tx`WITH gone AS (DELETE FROM embeddings RETURNING 1) SELECT count(*)::int AS n FROM gone`
    // n is a validated integer: DDL takes no parameters.
    if (vectorMode === 'pgvector') await tx.unsafe(`ALTER TABLE embeddings ALTER COLUMN embedding TYPE vector(${n})`)
    await tx`
      INSERT INTO awareness_meta (key, value) VALUES ('vector_dimensions', ${String(n)}), ('embedding_provider', ${next.provider})
      ON CONFLICT (key) DO UPDATE SET value = excluded.value`
    return { dropped: row.n as number }
  })
}

/** Owners with live entries, for a re-embedding pass over all of them. */
export async function ownersWithEntries(sql: Sql): Promise<string[]> {
  return (await sql`SELECT DISTINCT owner_id FROM entries WHERE deleted IS NULL ORDER BY owner_id`).map((r) => r.owner_id as string)
}
