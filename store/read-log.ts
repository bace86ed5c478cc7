/**
 * Write-behind read log (mcp-surface.md §2.12). Read tools record the entries they return here instead
 * of writing a read row inside their own transaction; the records of all requests of the last
 * FLUSH_DELAY_MS are written together, one transaction per owner.
 *
 * Why: on the embedded database every statement runs on one WebAssembly thread, and logging inside the
 * request (savepoint, insert, counter upsert, release) cost ~3 ms of CPU per search — about 30% of it
 * (bench/search.ts, 10,000 notes, 10 connections). Batched, ten searches share one write.
 *
 * Consistency: every tool whose answer reads the log (get_reads, get_unread, get_activity, list-mode read
 * counts) declares `reads: 'fresh'` and the dispatcher calls flush() first, so within one process a read
 * is visible to the very next call. Another instance sees it within FLUSH_DELAY_MS and the write in
 * progress. Reads still pending when the process dies are lost, as failed logging always was: §2.12
 * swallows logging failures. Whoever owns the log flushes it before the store closes (app/services.ts,
 * app/main.ts).
 */
import type { Tx } from './sql.js'
import { logReadBatch, type PendingRead } from './queries/activity.js'

/** How long a recorded read may wait for others to share its write (ms). */
export const FLUSH_DELAY_MS = 20
/** Pending reads that trigger a write at once, whatever the delay. */
const MAX_PENDING = 2_000
/**
 * Reads held while writes cannot keep up (the database slow or down); beyond it reads go unlogged, as
 * failed logging always did (§2.12), so the log's memory is bounded (~100 bytes a read, with its ids).
 */
export const MAX_BUFFERED_READS = 50_000

type OwnerTransaction = <T>(owner: string, fn: (tx: Tx) => Promise<T>) => Promise<T>

interface OwnerBatch {
  reads: PendingRead[]
  /** Told about a failed write (the last recorder's reporter: any one of them logs it). */
  onError: (err: unknown) => void
}

export class ReadLog {
  private pending = new Map<string, OwnerBatch>()
  private size = 0
  private timer: NodeJS.Timeout | undefined
  /** The write in progress (or the last one, settled). */
  private writing: Promise<void> = Promise.resolve()
  /**
   * The write queued behind it, taking every read pending when it starts. At most one is queued: a flush
   * while one waits joins it. (A new write chained per flush grew without bound whenever writes were slower
   * than the 20 ms flushes — under 50 clients, +31 MB of retained heap in 90 s, each link holding the
   * context of the request that recorded it.)
   */
  private queued: Promise<void> | undefined
  /** Whether reads are being dropped because MAX_BUFFERED_READS are waiting (reported once per episode). */
  private overflowing = false

  constructor(
    private readonly withOwner: OwnerTransaction,
    private readonly delayMs = FLUSH_DELAY_MS,
  ) {}

  /** Records one read per id (in order) for `tool`, written within the flush delay; returns the read time. */
  record(owner: string, entryIds: readonly string[], tool: string, onError: (err: unknown) => void): Date {
    const at = new Date()
    if (entryIds.length === 0) return at
    if (this.size >= MAX_BUFFERED_READS) {
      if (!this.overflowing) onError(new Error(`${MAX_BUFFERED_READS} reads are waiting to be written: further reads go unlogged until they are`))
      this.overflowing = true
      return at
    }
    let batch = this.pending.get(owner)
    if (batch === undefined) this.pending.set(owner, (batch = { reads: [], onError }))
    batch.onError = onError
    for (const entryId of entryIds) batch.reads.push({ entryId, tool, at })
    this.size += entryIds.length
    if (this.size >= MAX_PENDING) void this.flush()
    else if (this.timer === undefined) {
      this.timer = setTimeout(() => void this.flush(), this.delayMs)
      this.timer.unref()
    }
    return at
  }

  /**
   * Writes every read recorded so far and resolves once it is written (failures go to the recorders'
   * reporters; this never rejects). Must not be awaited inside an owner transaction: the embedded database
   * has one connection, which that transaction holds.
   */
  flush(): Promise<void> {
    clearTimeout(this.timer)
    this.timer = undefined
    if (this.queued !== undefined) return this.queued
    if (this.size === 0) return this.writing
    const queued = this.writing.then(() => {
      this.queued = undefined
      return this.writePending()
    })
    this.queued = queued
    this.writing = queued
    return queued
  }

  private async writePending(): Promise<void> {
    const batches = this.pending
    this.pending = new Map()
    this.size = 0
    this.overflowing = false
    for (const [owner, batch] of batches) {
      // try, not .catch(): a writer that throws before its transaction starts must not reject the write.
      try {
        await this.withOwner(owner, (tx) => logReadBatch(tx, owner, batch.reads))
      } catch (err) {
        batch.onError(err)
      }
    }
  }
}
