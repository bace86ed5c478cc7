/**
 * Embedding storage (data-and-engine.md §4.5) in either vector mode: pgvector's `vector(N)`, or `real[]`
 * with its L2 norm stored beside it so an exact cosine needs one dot product per row.
 */
import type { Tx } from '../store.js'
import type { VectorMode } from '../migrations.js'

export function vectorLiteral(v: readonly number[]): string {
  return `[${v.join(',')}]`
}

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
        SET embedding = excluded.embedding, text_hash = excluded.text_hash, dimensions = excluded.dimensions`
    return
  }
  const norm = Math.sqrt(e.vector.reduce((s, x) => s + x * x, 0))
  await tx`
    INSERT INTO embeddings (owner_id, entry_id, model, dimensions, text_hash, embedding, norm)
    VALUES (${e.owner}, ${e.entryId}, ${e.model}, ${e.vector.length}, ${e.textHash}, ${e.vector as number[]}::real[], ${norm})
    ON CONFLICT (entry_id, model) DO UPDATE
      SET embedding = excluded.embedding, norm = excluded.norm, text_hash = excluded.text_hash, dimensions = excluded.dimensions`
}

export async function embeddingHash(tx: Tx, owner: string, entryId: string, model: string): Promise<string | undefined> {
  const [row] = await tx`SELECT text_hash FROM embeddings WHERE owner_id = ${owner} AND entry_id = ${entryId} AND model = ${model}`
  return row?.text_hash as string | undefined
}
