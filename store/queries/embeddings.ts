/**
 * Embedding storage (data-and-engine.md §4.5) in either vector mode: pgvector's `vector(N)`, or `real[]`
 * with its L2 norm stored beside it so an exact cosine needs one dot product per row.
 */
import { and, type Tx } from '../sql.js'
import type { VectorMode } from '../migrations.js'
import { SYSTEM_OWNER } from './records.js'

export function vectorLiteral(v: readonly number[]): string {
  return `[${v.join(',')}]`
}

/**
 * Insert, or replace vector, hash and dimensions of the (entry, model) row keeping `created`. A replaced row
 * also takes a fresh `id` from the sequence: the array-mode vector cache detects every change of an owner's
 * embeddings from (count, max(id), sum(id)) alone, without reading vectors.
 */
export async function upsertEmbedding(
  tx: Tx,
  mode: VectorMode,
  e: { owner: string; entryId: string; model: string; textHash: string; vector: readonly number[] },
): Promise<void> {
  if (mode === 'pgvector') {
    await tx`
      INSERT INTO embeddings (owner_id, entry_id, model, dimensions, text_hash, embedding)
      VALUES (${e.owner}, ${e.entryId}, ${e.model}, ${e.vector.length}, ${e.textHash}, ${vectorLiteral(e.vector)}::vector)
      ON CONFLICT (entry_id, model) DO UPDATE
        SET id = DEFAULT, embedding = excluded.embedding, text_hash = excluded.text_hash, dimensions = excluded.dimensions`
    return
  }
  const norm = Math.sqrt(e.vector.reduce((s, x) => s + x * x, 0))
  await tx`
    INSERT INTO embeddings (owner_id, entry_id, model, dimensions, text_hash, embedding, norm)
    VALUES (${e.owner}, ${e.entryId}, ${e.model}, ${e.vector.length}, ${e.textHash}, ${e.vector as number[]}::real[], ${norm})
    ON CONFLICT (entry_id, model) DO UPDATE
      SET id = DEFAULT, embedding = excluded.embedding, norm = excluded.norm, text_hash = excluded.text_hash, dimensions = excluded.dimensions`
}

export interface NewEmbedding {
  entryId: string
  textHash: string
  vector: readonly number[]
}

/** `upsertEmbedding` for many rows of one owner and model in one statement (backfill and the queue's batches). */
export async function upsertEmbeddings(tx: Tx, mode: VectorMode, owner: string, model: string, rows: readonly NewEmbedding[]): Promise<void> {
  if (rows.length === 0) return
  const ids = rows.map((r) => r.entryId)
  const hashes = rows.map((r) => r.textHash)
  const dims = rows.map((r) => r.vector.length)
  if (mode === 'pgvector') {
    const vectors = rows.map((r) => vectorLiteral(r.vector))
    await tx`
      INSERT INTO embeddings (owner_id, entry_id, model, dimensions, text_hash, embedding)
      SELECT ${owner}, t.entry_id, ${model}, t.dims, t.hash, t.v::vector
      FROM unnest(${ids}::text[], ${hashes}::text[], ${dims}::int[], ${vectors}::text[]) AS t(entry_id, hash, dims, v)
      ON CONFLICT (entry_id, model) DO UPDATE
        SET id = DEFAULT, embedding = excluded.embedding, text_hash = excluded.text_hash, dimensions = excluded.dimensions`
    return
  }
  const vectors = rows.map((r) => `{${r.vector.join(',')}}`)
  const norms = rows.map((r) => Math.sqrt(r.vector.reduce((s, x) => s + x * x, 0)))
  await tx`
    INSERT INTO embeddings (owner_id, entry_id, model, dimensions, text_hash, embedding, norm)
    SELECT ${owner}, t.entry_id, ${model}, t.dims, t.hash, t.v::real[], t.norm
    FROM unnest(${ids}::text[], ${hashes}::text[], ${dims}::int[], ${vectors}::text[], ${norms}::float8[]) AS t(entry_id, hash, dims, v, norm)
    ON CONFLICT (entry_id, model) DO UPDATE
      SET id = DEFAULT, embedding = excluded.embedding, norm = excluded.norm, text_hash = excluded.text_hash, dimensions = excluded.dimensions`
}

/** What composing an entry's embedding text needs (the changelog never takes part, and can be large). */
export interface EmbeddableRow {
  id: string
  type: string
  source: string
  tags: string[]
  data: Record<string, unknown>
  recency: Date
}

function toEmbeddable(r: Record<string, unknown>): EmbeddableRow {
  return {
    id: r.id as string,
    type: r.type as string,
    source: r.source as string,
    tags: (r.tags as string[] | null) ?? [],
    data: (r.data as Record<string, unknown> | null) ?? {},
    recency: r.recency as Date,
  }
}

/** Live entries (suppressions excepted, expired included) with no embedding for `model`, most recent first. */
export async function entriesWithoutEmbedding(tx: Tx, owner: string, model: string, limit: number): Promise<EmbeddableRow[]> {
  const rows = await tx`
    SELECT e.id, e.type, e.source, e.tags, e.data - 'changelog' AS data, coalesce(e.updated, e.created) AS recency
    FROM entries e
    WHERE e.owner_id = ${owner} AND e.deleted IS NULL AND e.type <> 'suppression'
      AND NOT EXISTS (SELECT 1 FROM embeddings m WHERE m.entry_id = e.id AND m.model = ${model})
    ORDER BY coalesce(e.updated, e.created) DESC, e.id
    LIMIT ${limit}`
  return rows.map(toEmbeddable)
}

/**
 * Owners with a live entry lacking an embedding for `model`: the embedding repair's list, at start and on
 * each sweep, of work a crash (or a start without a provider) left behind. A system read of owner ids only,
 * outside any owner context, like the cleanup's candidates; each owner's repair then runs under its own
 * context. It sees every owner only on a role that bypasses RLS (superuser or BYPASSRLS, as the embedded
 * database and a default PostgreSQL are); under a role subject to FORCE RLS it sees none.
 * Operator-seeded `_system` schemas are not embedded (no owner searches them).
 */
export async function ownersWithoutEmbedding(tx: Tx, model: string, limit: number): Promise<string[]> {
  const rows = await tx`
    SELECT DISTINCT e.owner_id FROM entries e
    WHERE e.deleted IS NULL AND e.type <> 'suppression' AND e.owner_id <> ${SYSTEM_OWNER}
      AND NOT EXISTS (SELECT 1 FROM embeddings m WHERE m.entry_id = e.id AND m.model = ${model})
    LIMIT ${limit}`
  return rows.map((r) => r.owner_id as string)
}

/** The true number of entries still lacking an embedding for `model` (D13). */
export async function countWithoutEmbedding(tx: Tx, owner: string, model: string): Promise<number> {
  const [row] = await tx`
    SELECT count(*)::int AS n FROM entries e
    WHERE e.owner_id = ${owner} AND e.deleted IS NULL AND e.type <> 'suppression'
      AND NOT EXISTS (SELECT 1 FROM embeddings m WHERE m.entry_id = e.id AND m.model = ${model})`
  return row.n as number
}

export interface KeysetPosition {
  recency: Date
  id: string
}

/**
 * One keyset page of embedded live entries with their stored hash, most recent first. Staleness is decided
 * in the application (the composition rules live there), so callers walk every page rather than only the
 * newest `limit` rows, which would miss older stale entries (§4.5, reference defect).
 */
export async function embeddedPage(tx: Tx, owner: string, model: string, after: KeysetPosition | undefined, size: number): Promise<(EmbeddableRow & { textHash: string })[]> {
  const from = after === undefined ? tx`` : tx`AND (coalesce(e.updated, e.created), e.id COLLATE "C") < (${after.recency}, ${after.id} COLLATE "C")`
  // Keyset on (recency DESC, id): the row comparison needs one direction, so ids compare descending too.
  const rows = await tx`
    SELECT e.id, e.type, e.source, e.tags, e.data - 'changelog' AS data, coalesce(e.updated, e.created) AS recency, m.text_hash
    FROM entries e JOIN embeddings m ON m.entry_id = e.id AND m.model = ${model} AND m.owner_id = ${owner}
    WHERE e.owner_id = ${owner} AND e.deleted IS NULL AND e.type <> 'suppression' ${from}
    ORDER BY coalesce(e.updated, e.created) DESC, e.id COLLATE "C" DESC
    LIMIT ${size}`
  return rows.map((r) => ({ ...toEmbeddable(r), textHash: r.text_hash as string }))
}

/** Live entries by id, locked against concurrent updates until the transaction ends (the hash guard). */
export async function lockEmbeddable(tx: Tx, owner: string, ids: string[]): Promise<EmbeddableRow[]> {
  if (ids.length === 0) return []
  const rows = await tx`
    SELECT e.id, e.type, e.source, e.tags, e.data - 'changelog' AS data, coalesce(e.updated, e.created) AS recency
    FROM entries e
    WHERE e.owner_id = ${owner} AND e.id = ANY(${ids}::text[]) AND e.deleted IS NULL
    FOR SHARE`
  return rows.map(toEmbeddable)
}

/**
 * Lets the transaction commit without waiting for the WAL flush. Embeddings are derived data (backfill
 * recomputes any lost in a crash): on PostgreSQL that wait doubled the flushes of a write-heavy load
 * (bench/search.ts).
 */
export async function relaxCommit(tx: Tx): Promise<void> {
  await tx`SET LOCAL synchronous_commit = off`
}

/** Live entries by id, unlocked. */
export async function readEmbeddable(tx: Tx, owner: string, ids: string[]): Promise<EmbeddableRow[]> {
  if (ids.length === 0) return []
  const rows = await tx`
    SELECT e.id, e.type, e.source, e.tags, e.data - 'changelog' AS data, coalesce(e.updated, e.created) AS recency
    FROM entries e
    WHERE e.owner_id = ${owner} AND e.id = ANY(${ids}::text[]) AND e.deleted IS NULL`
  return rows.map(toEmbeddable)
}

// --- Array mode: the in-memory vector cache's view of the table ------------------------------------------

export interface EmbeddingVersion {
  count: number
  maxId: number
  sumId: string
}

/** A cheap fingerprint of an owner's embeddings for one model; it changes on every insert, replace and delete. */
export async function embeddingVersion(tx: Tx, owner: string, model: string): Promise<EmbeddingVersion> {
  const [row] = await tx`
    SELECT count(*)::int AS n, coalesce(max(id), 0)::int AS max_id, coalesce(sum(id), 0)::text AS sum_id
    FROM embeddings WHERE owner_id = ${owner} AND model = ${model}`
  return { count: row.n as number, maxId: row.max_id as number, sumId: row.sum_id as string }
}

/** Every (row id, entry id) pair of the owner's embeddings for the model. */
export async function embeddingIds(tx: Tx, owner: string, model: string): Promise<{ id: number; entryId: string }[]> {
  const rows = await tx`SELECT id, entry_id FROM embeddings WHERE owner_id = ${owner} AND model = ${model}`
  return rows.map((r) => ({ id: r.id as number, entryId: r.entry_id as string }))
}

/**
 * Vectors of the given rows in their binary send format (`array_send` of real[], or `vector_send` of
 * pgvector's type): parsing 768 floats from text costs far more than reading them from bytes.
 */
export async function storedVectors(tx: Tx, mode: VectorMode, owner: string, rowIds: number[]): Promise<{ id: number; entryId: string; bytes: Uint8Array }[]> {
  if (rowIds.length === 0) return []
  const bytes = mode === 'pgvector' ? tx`vector_send(embedding)` : tx`array_send(embedding)`
  const rows = await tx`
    SELECT id, entry_id, ${bytes} AS bytes
    FROM embeddings WHERE owner_id = ${owner} AND id = ANY(${rowIds}::int[])`
  return rows.map((r) => ({ id: r.id as number, entryId: r.entry_id as string, bytes: r.bytes as Uint8Array }))
}
