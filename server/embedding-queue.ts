/**
 * Background embedding of written entries (data-and-engine.md §5.6, Ours): writes never wait. Jobs are
 * kept in a bounded map keyed by (owner, entry), so a newer write replaces a queued older job; vectors are
 * computed in the embed workers and written by this (main) thread through the store, only if the entry's
 * text still hashes to what was embedded — otherwise a newer job owns it.
 */
import type { Store, Tx } from '../store/index.js'
import { upsertEmbedding } from '../store/queries/embeddings.js'
import { toEntry, ENTRY_COLUMNS, type Entry } from '../store/rows.js'
import { composeEmbeddingText, textHash } from '../workers/embedder.js'
import type { EmbeddingPool } from '../workers/embedding-pool.js'
import type { EmbedScheduler, Log } from './tools/define.js'

export interface EmbeddingQueueOptions {
  readonly pool: EmbeddingPool
  readonly store: Store
  readonly log: Log
  /** Jobs kept waiting at most; the oldest is dropped past it (backfill repairs it). */
  readonly capacity?: number
  readonly concurrency?: number
}

async function liveEntry(tx: Tx, owner: string, id: string): Promise<Entry | undefined> {
  const [row] = await tx`SELECT ${tx.unsafe(ENTRY_COLUMNS)} FROM entries WHERE id = ${id} AND owner_id = ${owner} AND deleted IS NULL`
  return row ? toEntry(row) : undefined
}

export class EmbeddingQueue implements EmbedScheduler {
  private readonly pending = new Map<string, { owner: string; entryId: string }>()
  private running = 0
  private closed = false
  private idleWaiters: (() => void)[] = []
  private readonly capacity: number
  private readonly concurrency: number

  constructor(private readonly opts: EmbeddingQueueOptions) {
    this.capacity = opts.capacity ?? 1000
    this.concurrency = opts.concurrency ?? 2
  }

  schedule(owner: string, entryId: string): void {
    if (this.closed) return
    const key = `${owner}\u0000${entryId}`
    this.pending.delete(key) // re-inserting moves the job to the back: the newest write wins
    this.pending.set(key, { owner, entryId })
    if (this.pending.size > this.capacity) {
      const oldest = this.pending.keys().next().value as string
      this.pending.delete(oldest)
      this.opts.log.debug({ capacity: this.capacity }, 'embedding queue full; dropped the oldest job')
    }
    this.pump()
  }

  /** Resolves once nothing is queued or running (tests and benchmarks wait on it). */
  idle(): Promise<void> {
    if (this.pending.size === 0 && this.running === 0) return Promise.resolve()
    return new Promise((ok) => this.idleWaiters.push(ok))
  }

  async close(): Promise<void> {
    this.closed = true
    this.pending.clear()
    await this.idle()
  }

  private pump(): void {
    while (this.running < this.concurrency && this.pending.size > 0) {
      const [key, job] = this.pending.entries().next().value as [string, { owner: string; entryId: string }]
      this.pending.delete(key)
      this.running++
      void this.run(job.owner, job.entryId)
        .catch((err: unknown) => this.opts.log.debug({ err, entryId: job.entryId }, 'embedding failed; backfill will retry'))
        .finally(() => {
          this.running--
          this.pump()
          if (this.pending.size === 0 && this.running === 0) for (const ok of this.idleWaiters.splice(0)) ok()
        })
    }
  }

  private async run(owner: string, entryId: string): Promise<void> {
    const { store, pool } = this.opts
    const entry = await store.withOwner(owner, (tx) => liveEntry(tx, owner, entryId))
    if (entry === undefined || entry.type === 'suppression') return
    const text = composeEmbeddingText(entry)
    const hash = textHash(text)
    const [vector] = await pool.embed([text])
    if (vector === undefined) return
    await store.withOwner(owner, async (tx) => {
      const current = await liveEntry(tx, owner, entryId)
      // Only the vector of the entry's current text may be stored; a newer job covers a changed entry.
      if (current === undefined || textHash(composeEmbeddingText(current)) !== hash) return
      await upsertEmbedding(tx, store.vectorMode, { owner, entryId, model: pool.modelName, textHash: hash, vector })
    })
  }
}
