/**
 * The search state that lives as long as one store, in one object with a visible lifetime (created with the
 * store by the composition root, carried in the tool context and handed to the embedding queue): the
 * in-memory vector caches of its owners under one byte budget, the in-memory row limit of its backend, and
 * whether its pgvector has iterative index scans.
 */
import type { Store, Tx } from '../store/index.js'
import { pgvectorVersion } from '../store/queries/search.js'
import { DEFAULT_CACHE_BYTES, OwnerVectors } from './vector-cache.js'

/**
 * With pgvector on PostgreSQL, owners with at most this many vectors are searched exactly in memory; larger
 * ones use HNSW, which PostgreSQL runs in its own processes, beside other connections. Measured on the
 * embedded database (bench/search.ts): at 10,000 vectors the in-memory scan costs ~1–2 ms of the main
 * thread where an HNSW scan costs ~8 ms of the database's single thread.
 */
export const IN_MEMORY_MAX_ROWS = 50_000
/**
 * The same limit on the embedded database, where an HNSW scan occupies the one database thread every other
 * request waits for. Measured at 100,000 Zipf notes (10 concurrent searches in-process, 2 alternating
 * rounds): exact in memory 44 searches/s, p50 225 ms, 23.6 ms CPU each; HNSW (ef_search 200, recall 0.86)
 * 35.6/s, p50 278 ms, 29.6 ms CPU. The price is memory: rows × dimensions × 4 bytes (600 MB at 200,000 × 768),
 * within the caches' shared budget.
 */
export const EMBEDDED_IN_MEMORY_MAX_ROWS = 200_000

/** The in-memory limit for this store's backend, unless a SearchIndex is told otherwise. */
export function defaultInMemoryMaxRows(store: Store): number {
  return store.backend === 'embedded' ? EMBEDDED_IN_MEMORY_MAX_ROWS : IN_MEMORY_MAX_ROWS
}

export interface SearchIndexOptions {
  /** Owners with more vectors than this use HNSW (pgvector mode only); default by backend, above. */
  readonly inMemoryMaxRows?: number
  /** Budget of all owners' in-memory vectors, bytes (default 1 GiB); least recently used owners go first. */
  readonly cacheBytes?: number
}

export class SearchIndex {
  /** The pgvector-mode in-memory limit; tests and benchmarks move it (0 sends every search to HNSW). */
  inMemoryMaxRows: number
  private readonly owners = new Map<string, OwnerVectors>()
  private readonly budget: number
  private iterative: Promise<boolean> | undefined

  constructor(
    readonly store: Store,
    opts: SearchIndexOptions = {},
  ) {
    this.inMemoryMaxRows = opts.inMemoryMaxRows ?? defaultInMemoryMaxRows(store)
    this.budget = opts.cacheBytes ?? DEFAULT_CACHE_BYTES
  }

  /** The owner's cache for `model`, evicting the least recently used others when over budget. */
  ownerVectors(owner: string, model: string): OwnerVectors {
    const key = `${model}\u0000${owner}`
    let v = this.owners.get(key)
    if (v === undefined) {
      v = new OwnerVectors(this.store.vectorDimensions, this.store.vectorMode)
      this.owners.set(key, v)
    }
    v.lastUsed = performance.now()
    let total = 0
    for (const o of this.owners.values()) total += o.bytes
    if (total > this.budget) {
      const others = [...this.owners.entries()].filter(([k]) => k !== key).sort((a, b) => a[1].lastUsed - b[1].lastUsed)
      for (const [k, o] of others) {
        if (total <= this.budget) break
        this.owners.delete(k)
        total -= o.bytes
      }
    }
    return v
  }

  /** Vectors of `owner` changed through this process: every model's cache re-validates at its next use. */
  invalidate(owner: string): void {
    for (const [key, o] of this.owners) if (key.endsWith(`\u0000${owner}`)) o.invalidate()
  }

  /** Cached owners and the rows and bytes they hold (benchmarks). */
  stats(): { owners: number; rows: number; bytes: number } {
    let rows = 0
    let bytes = 0
    for (const o of this.owners.values()) {
      rows += o.size
      bytes += o.bytes
    }
    return { owners: this.owners.size, rows, bytes }
  }

  /** Whether this database's pgvector has iterative index scans (0.8.0 and later); asked once, retried after a failure. */
  hasIterativeScan(tx: Tx): Promise<boolean> {
    if (this.iterative === undefined) {
      const known = pgvectorVersion(tx).then((v) => {
        const [major = 0, minor = 0] = (v ?? '0.0').split('.').map(Number)
        return major > 0 || minor >= 8
      })
      known.catch(() => {
        if (this.iterative === known) this.iterative = undefined
      })
      this.iterative = known
    }
    return this.iterative
  }
}
