/**
 * Background purge (decision 7, data-and-engine.md §9.3): for owners who opted in with the `auto_cleanup`
 * preference, expired entries and trash past its 30 days are deleted for good; without the opt-in nothing
 * is ever destroyed. It runs on the main thread (pure SQL, I/O-bound; a worker could not reach the
 * embedded database anyway), every few minutes, under a lease so one instance of many runs it.
 */
import { randomUUID } from 'node:crypto'
import type { Store } from '../store/index.js'
import { cleanupCandidates, cleanupEnabled, purgeExpired, releaseLease, takeLease } from '../store/queries/cleanup.js'
import type { Log } from '../core/ports.js'

const LEASE = 'cleanup'
const LEASE_SECONDS = 300

export interface CleanupResult {
  readonly ran: boolean
  readonly purged: Record<string, number>
}

export class Cleanup {
  private readonly holder = `${process.pid}-${randomUUID().slice(0, 8)}`
  private running: Promise<CleanupResult> | undefined
  private timer: NodeJS.Timeout | undefined

  constructor(private readonly store: Store, private readonly log: Log) {}

  /** One pass; concurrent calls share the pass in progress, and another instance's lease skips it. */
  run(): Promise<CleanupResult> {
    this.running ??= this.pass().finally(() => (this.running = undefined))
    return this.running
  }

  start(intervalMs = 10 * 60_000): void {
    this.timer = setInterval(() => void this.run().catch((err: unknown) => this.log.error({ err }, 'cleanup failed')), intervalMs)
    this.timer.unref()
  }

  async stop(): Promise<void> {
    clearInterval(this.timer)
    await this.running?.catch(() => undefined)
  }

  private async pass(): Promise<CleanupResult> {
    const { sql } = this.store
    this.store.assertWritable() // even the lease is a write
    if (!(await takeLease(sql, LEASE, this.holder, LEASE_SECONDS))) return { ran: false, purged: {} }
    const purged: Record<string, number> = {}
    try {
      for (const owner of await cleanupCandidates(sql)) {
        const n = await this.store.withOwner(owner, async (tx) => ((await cleanupEnabled(tx, owner)) ? purgeExpired(tx, owner) : 0))
        if (n > 0) {
          purged[owner] = n
          this.log.info({ owner, purged: n }, 'cleanup purged expired entries')
        }
      }
    } finally {
      await releaseLease(sql, LEASE, this.holder)
    }
    return { ran: true, purged }
  }
}
