/**
 * The embedded database's free-space reserve. PGlite does not survive a full disk: when a write of its WAL
 * or a data file fails with ENOSPC, the query never answers and its thread spins at full CPU (measured on
 * an 80 MB tmpfs filled by 20 KB notes: no answer within 30 s, 100% CPU until kill -9). So
 * writes stop before the disk is full: below the reserve, every writer (write tools, the read log, the
 * embedding queue, cleanup) is refused with PostgreSQL's own disk_full error (SQLSTATE 53100), which the
 * tool boundary answers as a retryable `unavailable`, while reads go on. Nothing is written, so nothing is
 * half-written; writes resume by themselves once space is freed.
 *
 * The reserve must hold what is still written below it: a new 16 MB WAL segment, a checkpoint's pages,
 * the read log. PostgreSQL (the other backend) answers 53100 itself and needs no guard.
 */
import { statfsSync } from 'node:fs'

/** How long one measurement of free space is trusted (ms): a statfs per write would cost a syscall each. */
const CACHE_MS = 1_000
const MB = 1024 * 1024

/** PostgreSQL's disk_full error, so every layer that knows "database unavailable" knows this one too. */
export class DiskFullError extends Error {
  readonly code = '53100'
  constructor(readonly freeBytes: number, readonly reserveBytes: number) {
    super(`The data directory's disk has ${(freeBytes / MB).toFixed(1)} MB free, below the ${(reserveBytes / MB).toFixed(0)} MB reserve: writes are refused until space is freed`)
    this.name = 'DiskFullError'
  }
}

export class DiskSpaceGuard {
  private measuredAt = -Infinity
  private free = Infinity

  constructor(
    private readonly dir: string,
    readonly reserveBytes: number,
    private readonly now: () => number = () => performance.now(),
  ) {}

  /** Free bytes for this process's user, measured at most once per CACHE_MS. */
  freeBytes(): number {
    const t = this.now()
    if (t - this.measuredAt >= CACHE_MS) {
      const s = statfsSync(this.dir)
      this.free = s.bavail * s.bsize
      this.measuredAt = t
    }
    return this.free
  }

  /** Throws DiskFullError when free space is below the reserve. */
  assertWritable(): void {
    const free = this.freeBytes()
    if (free < this.reserveBytes) throw new DiskFullError(free, this.reserveBytes)
  }
}
