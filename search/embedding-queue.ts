/**
 * Background embedding of written entries (data-and-engine.md §5.6, §9.2, Ours). Writes never wait: a job is
 * a map insertion. Jobs live in a bounded map keyed by (owner, entry), so a newer write replaces a queued
 * older job, and one entry never has two jobs running at once. Jobs of one owner are batched into one
 * provider call; vectors are computed in the embed workers and written by this (main) thread through the
 * store, hash-guarded (search/backfill.ts: only the vector of the entry's current text is stored).
 *
 * Foreground first: embedding is background work. A batch starts only once writes have paused for
 * `quietMs` (a burst of writes coalesces and is embedded right after it), and a batch whose read transaction
 * answers much slower than the database's idle latency (requests queued ahead of it — on the embedded
 * database every query waits its turn on one thread) is put back while the queue yields for a while. A job
 * is deferred at most `maxDeferMs`. Writes under sustained load therefore keep their latency, and the
 * backlog is embedded when the load eases (bench/search.ts measures `remember` with the provider on and off).
 *
 * Provider down or slow: a transient failure (unreachable, timeout, HTTP 429/5xx, worker crash) puts the
 * batch back and pauses the whole queue with exponential backoff, so a dead provider costs one probe per
 * pause rather than one failure per job; a job failing `maxAttempts` times, a permanent failure (wrong
 * dimension, HTTP 4xx) and a job pushed out of a full queue are dropped and their owner is marked for the
 * periodic sweep, which runs the backfill (missing and stale embeddings) for every owner with recent
 * writes — also covering entries whose tools never schedule (set_preference, update_intention).
 *
 * The marks live in memory, so each sweep also asks the database which owners have entries without an
 * embedding for the current model (audit L13): writes acknowledged just before a crash, and everything
 * written while no provider was configured, are repaired at start (`repairAtStartMs` after it) and on every
 * sweep, without waiting for the owner's next write. Stale vectors of entries edited just before a crash are
 * still repaired only by the owner's next write or `backfill_embeddings` (finding them means reading every
 * owner's embeddings).
 */
import { isDatabaseUnavailable } from '../core/errors.js'
import { ownersWithoutEmbedding, readEmbeddable } from '../store/queries/embeddings.js'
import { EmbeddingError } from '../workers/embedder.js'
import { backfill, compose, storeVectors } from './backfill.js'
import type { SearchIndex } from './search-index.js'
import type { EmbedScheduler, Embedder, Log } from '../core/ports.js'

export interface EmbeddingQueueOptions {
  readonly pool: Embedder
  /** The store's search index: vectors are written through its store and invalidate its caches. */
  readonly index: SearchIndex
  readonly log: Log
  /** Jobs kept waiting at most; the oldest is dropped past it (the sweep repairs it). Default 1000. */
  readonly capacity?: number
  /** Batches in flight at once. Default 2 (the embed pool's size). */
  readonly concurrency?: number
  /** Jobs of one owner per provider call. Default 16. */
  readonly batchSize?: number
  /** First pause after a transient failure; doubles per consecutive failure up to retryMaxMs. Defaults 1 s / 5 min. */
  readonly retryBaseMs?: number
  readonly retryMaxMs?: number
  /** Attempts per job before it is left to the sweep. Default 5. */
  readonly maxAttempts?: number
  /** Period of the backfill sweep over owners with recent writes; 0 disables it (and the start repair). Default 10 minutes. */
  readonly sweepIntervalMs?: number
  /** Delay after start of the first sweep, which repairs what a crash left unembedded. Default 2 s. */
  readonly repairAtStartMs?: number
  /** Per-phase limit of one owner's sweep. Default 200. */
  readonly sweepLimit?: number
  /** A batch's read slower than this and than 3× the idle latency means "busy": yield. Default 5 ms. */
  readonly busyFloorMs?: number
  /** Longest a job is deferred for foreground load. Default 30 s. */
  readonly maxDeferMs?: number
  /** Pause in writes (schedule calls) before a batch starts. Default 250 ms; 0 starts at once. */
  readonly quietMs?: number
}

interface Job {
  readonly owner: string
  readonly entryId: string
  attempts: number
  /** When the entry first waited (Date.now()); a coalesced newer write keeps it, so deferral stays bounded. */
  readonly since: number
}

const keyOf = (owner: string, entryId: string): string => `${owner}\u0000${entryId}`
const YIELD_BASE_MS = 100
const YIELD_MAX_MS = 2_000
/** Owners listed for repair per sweep at most; the rest come on the next sweep. */
const REPAIR_OWNERS_PER_SWEEP = 500

/** Failures worth retrying: the provider may come back. */
export function isTransient(err: unknown): boolean {
  const code = (err as { code?: unknown } | null)?.code
  if (err instanceof EmbeddingError) {
    if (code === 'EMBEDDING_HTTP') return err.status === undefined || err.status === 408 || err.status === 429 || err.status >= 500
    return code === 'EMBEDDING_UNREACHABLE' || code === 'EMBEDDING_TIMEOUT'
  }
  if (code === 'EMBEDDING_HTTP') return true // crossed a thread boundary without its status
  // Worker failures, and a database that is unavailable right now.
  return code === 'EMBEDDING_UNREACHABLE' || code === 'EMBEDDING_TIMEOUT' || code === 'WORKER_TIMEOUT' || code === 'WORKER_CRASHED' || isDatabaseUnavailable(err)
}

export class EmbeddingQueue implements EmbedScheduler {
  private readonly pending = new Map<string, Job>()
  private readonly running = new Set<string>()
  private batches = 0
  private closed = false
  private idleWaiters: (() => void)[] = []
  private readonly dirty = new Set<string>()
  private failures = 0
  private pausedUntil = 0
  /** The read latency of a quiet database, learned as a slowly rising minimum. */
  private idleMs: number
  private yieldMs = YIELD_BASE_MS
  private deferred = 0
  private lastSchedule = 0
  private quietTimer: NodeJS.Timeout | undefined
  private pauseTimer: NodeJS.Timeout | undefined
  private readonly sweepTimer: NodeJS.Timeout | undefined
  private readonly startTimer: NodeJS.Timeout | undefined
  private sweeping: Promise<void> | undefined
  private readonly o: Required<Omit<EmbeddingQueueOptions, 'pool' | 'index' | 'log'>>

  constructor(private readonly opts: EmbeddingQueueOptions) {
    this.o = {
      capacity: opts.capacity ?? 1000,
      concurrency: opts.concurrency ?? 2,
      batchSize: opts.batchSize ?? 16,
      retryBaseMs: opts.retryBaseMs ?? 1_000,
      retryMaxMs: opts.retryMaxMs ?? 300_000,
      maxAttempts: opts.maxAttempts ?? 5,
      sweepIntervalMs: opts.sweepIntervalMs ?? 600_000,
      repairAtStartMs: opts.repairAtStartMs ?? 2_000,
      sweepLimit: opts.sweepLimit ?? 200,
      busyFloorMs: opts.busyFloorMs ?? 5,
      maxDeferMs: opts.maxDeferMs ?? 30_000,
      quietMs: opts.quietMs ?? 250,
    }
    this.idleMs = this.o.busyFloorMs / 3
    if (this.o.sweepIntervalMs > 0) {
      this.sweepTimer = setInterval(() => void this.sweep(), this.o.sweepIntervalMs)
      this.sweepTimer.unref() // background upkeep never keeps the process alive
      this.startTimer = setTimeout(() => void this.sweep(), this.o.repairAtStartMs)
      this.startTimer.unref()
    }
  }

  schedule(owner: string, entryId: string): void {
    if (this.closed) return
    const key = keyOf(owner, entryId)
    const since = this.pending.get(key)?.since ?? Date.now()
    this.pending.delete(key) // re-inserting moves the job to the back: the newest write wins
    this.pending.set(key, { owner, entryId, attempts: 0, since })
    this.lastSchedule = Date.now()
    this.dirty.add(owner)
    if (this.pending.size > this.o.capacity) {
      const oldest = this.pending.keys().next().value as string
      this.pending.delete(oldest)
      this.opts.log.debug({ capacity: this.o.capacity }, 'embedding queue full; dropped the oldest job for the sweep')
    }
    this.pump()
  }

  /** Jobs waiting (retries included) and batches running. */
  stats(): { pending: number; running: number; paused: boolean; dirtyOwners: number; deferred: number } {
    return { pending: this.pending.size, running: this.batches, paused: this.pausedUntil > Date.now(), dirtyOwners: this.dirty.size, deferred: this.deferred }
  }

  /** Resolves once nothing is queued (retries included) or running (tests and benchmarks wait on it). */
  idle(): Promise<void> {
    if (this.pending.size === 0 && this.batches === 0) return Promise.resolve()
    return new Promise((ok) => this.idleWaiters.push(ok))
  }

  /**
   * Runs the backfill for every owner written to since the last sweep, and every owner the database lists
   * with entries lacking an embedding (the periodic timer calls it). Owners with work left, or whose
   * provider calls failed, stay marked for the next sweep.
   */
  sweep(): Promise<void> {
    this.sweeping ??= this.sweepOnce().finally(() => (this.sweeping = undefined))
    return this.sweeping
  }

  async close(): Promise<void> {
    this.closed = true
    if (this.sweepTimer) clearInterval(this.sweepTimer)
    if (this.startTimer) clearTimeout(this.startTimer)
    if (this.pauseTimer) clearTimeout(this.pauseTimer)
    if (this.quietTimer) clearTimeout(this.quietTimer)
    this.pending.clear()
    await Promise.all([this.idle(), this.sweeping])
  }

  private async sweepOnce(): Promise<void> {
    const { pool, index, log } = this.opts
    if (this.closed) return
    await this.markUnembeddedOwners()
    // Asked only when there is work: for the built-in model the question loads it (~120 MB per worker),
    // which a database with every entry embedded, or an empty one, never needs at start.
    if (this.dirty.size === 0 || !(await pool.available())) return // owners stay marked
    for (const owner of [...this.dirty]) {
      if (this.closed) return
      this.dirty.delete(owner)
      try {
        const r = await backfill({ index, embedder: pool, owner, log }, this.o.sweepLimit)
        if (r.remaining > 0 || r.failed !== undefined) this.dirty.add(owner)
        if (r.new_embeddings + r.refreshed_embeddings > 0) log.info({ owner, new: r.new_embeddings, refreshed: r.refreshed_embeddings, remaining: r.remaining }, 'embedding sweep')
      } catch (err) {
        this.dirty.add(owner)
        log.warn({ err, owner }, 'embedding sweep failed')
      }
    }
  }

  /** Marks the owners the database lists with entries lacking an embedding for the current model. */
  private async markUnembeddedOwners(): Promise<void> {
    const { pool, index, log } = this.opts
    try {
      const owners = await index.store.system((tx) => ownersWithoutEmbedding(tx, pool.modelName, REPAIR_OWNERS_PER_SWEEP))
      for (const owner of owners) this.dirty.add(owner)
    } catch (err) {
      log.warn({ err: (err as Error)?.message }, 'embedding repair could not list owners; the marked ones are swept')
    }
  }

  /** The oldest runnable job and up to batchSize − 1 more of the same owner. */
  private takeBatch(): Job[] {
    const batch: Job[] = []
    for (const [key, job] of this.pending) {
      if (this.running.has(key)) continue
      if (batch.length > 0 && job.owner !== batch[0].owner) continue
      batch.push(job)
      if (batch.length === this.o.batchSize) break
    }
    for (const job of batch) {
      const key = keyOf(job.owner, job.entryId)
      this.pending.delete(key)
      this.running.add(key)
    }
    return batch
  }

  private pump(): void {
    if (this.closed) return
    const wait = this.pausedUntil - Date.now()
    if (wait > 0) {
      this.pauseTimer ??= setTimeout(() => {
        this.pauseTimer = undefined
        this.pump()
      }, wait)
      return
    }
    const quiet = this.lastSchedule + this.o.quietMs - Date.now()
    if (quiet > 0 && this.pending.size > 0 && !this.overdue()) {
      this.quietTimer ??= setTimeout(() => {
        this.quietTimer = undefined
        this.pump()
      }, quiet)
      return
    }
    while (this.batches < this.o.concurrency) {
      const batch = this.takeBatch()
      if (batch.length === 0) break
      this.batches++
      void this.run(batch).finally(() => {
        for (const job of batch) this.running.delete(keyOf(job.owner, job.entryId))
        this.batches--
        this.pump()
        if (this.pending.size === 0 && this.batches === 0) for (const ok of this.idleWaiters.splice(0)) ok()
      })
    }
  }

  private async run(batch: Job[]): Promise<void> {
    const { index, pool } = this.opts
    const owner = batch[0].owner
    try {
      const started = performance.now()
      const rows = await index.store.withOwner(owner, (tx) => readEmbeddable(tx, owner, batch.map((j) => j.entryId)))
      if (this.busy(performance.now() - started) && Date.now() - Math.min(...batch.map((j) => j.since)) < this.o.maxDeferMs) {
        this.putBack(batch, false)
        this.pausedUntil = Date.now() + this.yieldMs
        this.yieldMs = Math.min(YIELD_MAX_MS, this.yieldMs * 2)
        this.deferred += batch.length
        return
      }
      this.yieldMs = YIELD_BASE_MS
      const items = rows.filter((r) => r.type !== 'suppression').map(compose)
      if (items.length > 0) {
        const vectors = await pool.embed(items.map((i) => i.text))
        index.store.assertWritable() // a full disk pauses the queue like an outage (53100 is transient)
        await storeVectors(index, owner, pool.modelName, items, vectors)
      }
      this.failures = 0
    } catch (err) {
      this.failed(batch, err)
    }
  }

  /** Whether the oldest waiting job has waited `maxDeferMs`: then it runs whatever the load. */
  private overdue(): boolean {
    let since = Infinity
    for (const job of this.pending.values()) since = Math.min(since, job.since)
    return Date.now() - since >= this.o.maxDeferMs
  }

  /** Whether a read that took `ms` says requests are queued ahead of ours; also learns the idle latency. */
  private busy(ms: number): boolean {
    const busy = ms > Math.max(this.o.busyFloorMs, 3 * this.idleMs)
    this.idleMs = Math.min(ms, this.idleMs * 1.01 + 0.02)
    return busy
  }

  /** Requeues jobs a newer write has not replaced meanwhile. */
  private putBack(batch: Job[], retry: boolean): void {
    for (const job of batch) {
      const key = keyOf(job.owner, job.entryId)
      if (this.pending.has(key)) continue // a newer write queued its own job
      if (retry && job.attempts + 1 >= this.o.maxAttempts) {
        this.dirty.add(job.owner)
        continue
      }
      this.pending.set(key, { ...job, attempts: retry ? job.attempts + 1 : job.attempts })
    }
  }

  private failed(batch: Job[], err: unknown): void {
    const { log } = this.opts
    const message = (err as Error)?.message
    if (!isTransient(err) || this.closed) {
      for (const job of batch) this.dirty.add(job.owner)
      log.warn({ err: message, entries: batch.length }, 'embedding failed; left to the sweep')
      return
    }
    this.failures++
    const pause = Math.min(this.o.retryMaxMs, this.o.retryBaseMs * 2 ** (this.failures - 1))
    this.pausedUntil = Date.now() + pause
    log.warn({ err: message, entries: batch.length, retryInMs: pause }, 'embedding provider failed; pausing the queue')
    this.putBack(batch, true)
  }
}
