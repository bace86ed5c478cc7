/**
 * Writing embeddings (data-and-engine.md §5.3, §5.6, §5.7): the hash-guarded store shared by the background
 * queue and the backfill, and the backfill itself (missing embeddings, then stale ones).
 */
import type { Store } from '../store/index.js'
import { countWithoutEmbedding, embeddedPage, entriesWithoutEmbedding, lockEmbeddable, relaxCommit, upsertEmbeddings, type EmbeddableRow, type KeysetPosition, type NewEmbedding } from '../store/queries/embeddings.js'
import { EmbeddingError, composeEmbeddingText, textHash } from '../workers/embedder.js'
import type { Embedder, Log } from '../core/ports.js'
import type { SearchIndex } from './search-index.js'

/** Texts per provider call: one call for the default backfill limit (50), progress between calls. */
export const BACKFILL_BATCH = 64
/** Embedded entries read per keyset page while looking for stale ones. */
const STALE_PAGE = 500

export interface Composed {
  entryId: string
  text: string
  hash: string
}

export function compose(row: EmbeddableRow): Composed {
  const text = composeEmbeddingText(row)
  return { entryId: row.id, text, hash: textHash(text) }
}

/**
 * Stores vectors computed for `items` (same order) through the main thread's store. Nothing is written when
 * any vector has the wrong dimension (a clean EMBEDDING_BAD_RESPONSE). Each entry is re-read and locked
 * (FOR SHARE) in the write transaction and stored only if its current text still hashes to what was embedded:
 * otherwise the entry changed meanwhile and a newer job owns it. Returns how many were stored.
 */
export async function storeVectors(index: SearchIndex, owner: string, model: string, items: readonly Composed[], vectors: readonly number[][]): Promise<number> {
  const { store } = index
  if (vectors.length !== items.length) {
    throw new EmbeddingError('EMBEDDING_BAD_RESPONSE', `the provider returned ${vectors.length} embeddings for ${items.length} input texts`)
  }
  for (const v of vectors) {
    if (v.length !== store.vectorDimensions) {
      throw new EmbeddingError('EMBEDDING_BAD_RESPONSE', `the provider returned a vector of ${v.length} dimensions; the database stores ${store.vectorDimensions}`)
    }
  }
  if (items.length === 0) return 0
  const stored = await store.withOwner(owner, async (tx) => {
    const [, locked] = await Promise.all([relaxCommit(tx), lockEmbeddable(tx, owner, items.map((i) => i.entryId))])
    const current = new Map(locked.map((r) => [r.id, r]))
    const rows: NewEmbedding[] = []
    items.forEach((item, i) => {
      const row = current.get(item.entryId)
      if (row === undefined || row.type === 'suppression' || compose(row).hash !== item.hash) return
      rows.push({ entryId: item.entryId, textHash: item.hash, vector: vectors[i] })
    })
    await upsertEmbeddings(tx, store.vectorMode, owner, model, rows)
    return rows.length
  })
  // After the commit: a search that re-validated before it would otherwise trust its cache for RECHECK_MS.
  if (stored > 0) index.invalidate(owner)
  return stored
}

/**
 * Up to `limit` embedded entries whose text changed since they were embedded, most recent first. Every
 * embedded entry is examined (keyset pages), so an old stale entry is found however many newer ones exist.
 */
export async function findStale(store: Store, owner: string, model: string, limit: number): Promise<Composed[]> {
  const stale: Composed[] = []
  let after: KeysetPosition | undefined
  while (stale.length < limit) {
    const page = await store.withOwner(owner, (tx) => embeddedPage(tx, owner, model, after, STALE_PAGE))
    for (const row of page) {
      const c = compose(row)
      if (c.hash !== row.textHash) stale.push(c)
      if (stale.length === limit) break
    }
    if (page.length < STALE_PAGE) break
    const last = page[page.length - 1]
    after = { recency: last.recency, id: last.id }
  }
  return stale
}

export interface BackfillResult {
  status: 'ok'
  new_embeddings: number
  refreshed_embeddings: number
  remaining: number
  /** Present only when some batches failed: how many entries, and the last provider error. */
  failed?: number
  error?: string
}

export interface BackfillDeps {
  readonly index: SearchIndex
  readonly embedder: Embedder
  readonly owner: string
  readonly log: Log
  readonly progress?: (done: number, total?: number, message?: string) => Promise<void>
}

/**
 * §5.7 with our changes: batches of BACKFILL_BATCH texts, progress after each, a true `remaining` (D13).
 * A failing batch counts 0 and the run goes on; the caller checks the provider's availability first.
 */
export async function backfill(deps: BackfillDeps, limit: number): Promise<BackfillResult> {
  const { index, embedder, owner } = deps
  const { store } = index
  const model = embedder.modelName
  const missing = limit === 0 ? [] : (await store.withOwner(owner, (tx) => entriesWithoutEmbedding(tx, owner, model, limit))).map(compose)
  const stale = limit === 0 ? [] : await findStale(store, owner, model, limit)
  const total = missing.length + stale.length
  const result: BackfillResult = { status: 'ok', new_embeddings: 0, refreshed_embeddings: 0, remaining: 0 }
  let done = 0
  let failed = 0
  let lastError: string | undefined
  await deps.progress?.(0, total, `embedding ${missing.length} new and ${stale.length} stale entries`)
  for (const [items, key] of [
    [missing, 'new_embeddings'],
    [stale, 'refreshed_embeddings'],
  ] as const) {
    for (let i = 0; i < items.length; i += BACKFILL_BATCH) {
      const batch = items.slice(i, i + BACKFILL_BATCH)
      try {
        const vectors = await embedder.embed(batch.map((b) => b.text))
        result[key] += await storeVectors(index, owner, model, batch, vectors)
      } catch (err) {
        failed += batch.length
        lastError = (err as Error).message
        deps.log.warn({ err: lastError, owner, entries: batch.length }, 'backfill batch failed')
      }
      done += batch.length
      await deps.progress?.(done, total, `${done} of ${total} entries processed`)
    }
  }
  result.remaining = await store.withOwner(owner, (tx) => countWithoutEmbedding(tx, owner, model))
  if (failed > 0) {
    result.failed = failed
    result.error = `Embedding error: ${lastError ?? 'unknown'}`
  }
  return result
}
