/**
 * An in-memory vector index: per (owner, model) of one store (search-index.ts holds them), the owner's embeddings as one matrix of normalised
 * float32 rows in a WebAssembly memory, scored exactly with the SIMD kernel (simd.ts).
 *
 * Why: PostgreSQL without pgvector computes cosine with `unnest` in SQL at ~0.1 ms per row (about 1 s for
 * 10,000 vectors); here a scan of 10,000 × 768 costs ~1–2 ms, on the main thread rather than the database's.
 * With pgvector it also serves owners up to the in-memory limit (search-index.ts): exact instead of approximate, and on the
 * embedded database (PGlite, one WebAssembly thread, no SIMD) far cheaper than an HNSW scan (measured in
 * bench/search.ts).
 *
 * Freshness: vectors written through this process (storeVectors) invalidate the owner's cache at once.
 * Otherwise the cache re-validates at most every RECHECK_MS against the owner's (count, max(id), sum(id))
 * for the model — one aggregate — which any insert, replace (upserts take a fresh id) or delete changes;
 * then the (id, entry_id) list is read and only the difference is fetched. So another instance's writes are
 * seen within RECHECK_MS. Candidates are always checked against the entries table in SQL, so a vector of
 * an entry deleted meanwhile is never returned.
 *
 * Memory: rows × dimensions × 4 bytes (30 MB for 10,000 × 768). The caches of one store share a budget
 * (SearchIndex); the least recently used owners are dropped beyond it.
 */
import type { Tx } from '../store/index.js'
import type { VectorMode } from '../store/migrations.js'
import { embeddingIds, embeddingVersion, storedVectors } from '../store/queries/embeddings.js'
import { DISTANCE_DECIMALS } from '../store/queries/search.js'
import { jsScan, simdScan, wasmMemory, type ScanFn, type WasmMemory } from './simd.js'

const PAGE = 65_536
const FETCH_CHUNK = 1_000
/** Default budget of all in-memory vector caches of one store (SearchIndex). */
export const DEFAULT_CACHE_BYTES = 1024 * 1024 * 1024
/** How stale another instance's writes may be seen (ms); local writes are seen at once. */
export const RECHECK_MS = 2_000

/** A consistent copy of the scores of one query: slots change meanwhile, this does not. */
export interface Scored {
  /** Cosine similarity per row; NaN for rows without a direction (zero vector). */
  readonly sims: Float32Array
  readonly entryIds: readonly string[]
}

function versionKey(count: number, maxId: number, sumId: bigint | string): string {
  return `${count}:${maxId}:${String(sumId)}`
}

export class OwnerVectors {
  readonly dims: number
  private readonly mode: VectorMode
  private readonly rowBytes: number
  private memory: WasmMemory
  private scanFn: ScanFn | undefined
  private capacity = 0
  private count = 0
  private rowIds: number[] = []
  private entryIds: string[] = []
  private readonly slotByRow = new Map<number, number>()
  /** 1 for rows without a direction (zero vector). */
  private zero = new Uint8Array(0)
  private version: string | undefined
  private checkedAt = -Infinity
  /** Rows in the table at the last check, also when too many to hold. */
  private tableRows = 0
  private syncing: Promise<void> = Promise.resolve()
  lastUsed = 0

  constructor(dims: number, mode: VectorMode) {
    this.dims = dims
    this.mode = mode
    this.rowBytes = Math.ceil(dims / 8) * 32 // padded to 8 floats: the kernel's step
    this.memory = wasmMemory(1)
    this.scanFn = simdScan(this.memory)
    this.reserve(64)
  }

  get size(): number {
    return this.count
  }

  get bytes(): number {
    return this.memory.buffer.byteLength
  }

  /** Forces a re-validation at the next use (a local write changed the owner's vectors). */
  invalidate(): void {
    this.checkedAt = -Infinity
  }

  /**
   * Brings the cache in line with the table (see the module comment); concurrent callers share one sync.
   * Returns false, holding nothing, when the owner has more than `maxRows` vectors.
   */
  sync(tx: Tx, owner: string, model: string, maxRows = Infinity): Promise<boolean> {
    const next = this.syncing.then(() => this.syncOnce(tx, owner, model, maxRows))
    this.syncing = next.then(
      () => undefined,
      () => undefined,
    )
    return next
  }

  /** Similarities of every row to `query` (any length-`dims` vector; normalised here). */
  score(query: readonly number[]): Scored {
    const f32 = new Float32Array(this.memory.buffer)
    const qOffset = this.capacity * this.rowBytes
    const outOffset = qOffset + this.rowBytes
    let norm = 0
    for (const x of query) norm += x * x
    const inv = norm > 0 ? 1 / Math.sqrt(norm) : 0
    const q = qOffset >>> 2
    f32.fill(0, q, q + (this.rowBytes >>> 2))
    for (let i = 0; i < this.dims; i++) f32[q + i] = (query[i] ?? 0) * inv
    if (this.count > 0) {
      if (this.scanFn) this.scanFn(0, qOffset, outOffset, this.count, this.rowBytes)
      else jsScan(f32, 0, qOffset, outOffset, this.count, this.rowBytes)
    }
    const sims = f32.slice(outOffset >>> 2, (outOffset >>> 2) + this.count)
    // A zero-norm row has no direction: SQL's distance is NULL there and it ranks last; NaN marks it.
    for (let s = 0; s < this.count; s++) if (this.zero[s] === 1) sims[s] = NaN
    if (inv === 0) sims.fill(NaN)
    return { sims, entryIds: this.entryIds.slice(0, this.count) }
  }

  private async syncOnce(tx: Tx, owner: string, model: string, maxRows: number): Promise<boolean> {
    const now = performance.now()
    const recent = now - this.checkedAt < RECHECK_MS
    if (recent && this.tableRows > maxRows) return false
    // Recently checked and held: serve. (Nothing held after a too-many answer → load now, should the limit
    // have been raised meanwhile, rather than serve an empty index until the next check.)
    if (recent && this.version !== undefined) return true
    const v = await embeddingVersion(tx, owner, model)
    this.checkedAt = now
    this.tableRows = v.count
    if (v.count > maxRows) {
      this.clear()
      return false
    }
    if (versionKey(v.count, v.maxId, v.sumId) === this.version) return true
    const list = await embeddingIds(tx, owner, model)
    const wanted = new Set<number>()
    let maxId = 0
    let sumId = 0n
    for (const r of list) {
      wanted.add(r.id)
      if (r.id > maxId) maxId = r.id
      sumId += BigInt(r.id)
    }
    for (let s = this.count - 1; s >= 0; s--) if (!wanted.has(this.rowIds[s])) this.remove(s)
    const missing = list.filter((r) => !this.slotByRow.has(r.id)).map((r) => r.id)
    for (let i = 0; i < missing.length; i += FETCH_CHUNK) {
      const rows = await storedVectors(tx, this.mode, owner, missing.slice(i, i + FETCH_CHUNK))
      for (const r of rows) if (!this.slotByRow.has(r.id)) this.add(r.id, r.entryId, r.bytes)
    }
    // The fingerprint of what is held now; a row that vanished between the two reads forces the next sync.
    this.version = this.count === list.length ? versionKey(list.length, maxId, sumId) : undefined
    if (this.version === undefined) this.checkedAt = -Infinity
    return true
  }

  /** Drops every row and gives the memory back (a WebAssembly memory cannot shrink: a new one replaces it). */
  private clear(): void {
    this.count = 0
    this.capacity = 0
    this.rowIds = []
    this.entryIds = []
    this.slotByRow.clear()
    this.zero = new Uint8Array(0)
    this.version = undefined
    this.memory = wasmMemory(1)
    this.scanFn = simdScan(this.memory)
    this.reserve(64)
  }

  private reserve(rows: number): void {
    if (rows <= this.capacity) return
    const capacity = Math.max(rows, this.capacity * 2)
    const need = capacity * this.rowBytes + this.rowBytes + capacity * 4
    const have = this.memory.buffer.byteLength
    if (need > have) this.memory.grow(Math.ceil((need - have) / PAGE))
    const zero = new Uint8Array(capacity)
    zero.set(this.zero.subarray(0, this.count))
    this.zero = zero
    this.capacity = capacity
  }

  /**
   * Appends one row from its send format, normalised: `array_send` of a 1-D float4 array (header of 20 bytes,
   * then a 4-byte length before each element), or pgvector's `vector_send` (int16 dimensions, int16 unused,
   * then the floats). Both big-endian.
   */
  private add(rowId: number, entryId: string, bytes: Uint8Array): void {
    this.reserve(this.count + 1)
    const slot = this.count
    const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength)
    const f32 = new Float32Array(this.memory.buffer, slot * this.rowBytes, this.rowBytes >>> 2)
    f32.fill(0)
    let norm = 0
    if (this.mode === 'pgvector') {
      const length = bytes.byteLength >= 4 ? view.getInt16(0) : 0
      if (length === this.dims && bytes.byteLength >= 4 + 4 * length) {
        for (let i = 0; i < length; i++) {
          const x = view.getFloat32(4 + 4 * i)
          f32[i] = x
          norm += x * x
        }
      }
    } else {
      const ndim = bytes.byteLength >= 12 ? view.getInt32(0) : 0
      const length = ndim === 1 ? view.getInt32(12) : 0
      if (length === this.dims && bytes.byteLength >= 20 + 8 * length) {
        for (let i = 0, at = 20; i < length; i++, at += 8) {
          const x = view.getInt32(at) === 4 ? view.getFloat32(at + 4) : 0
          f32[i] = x
          norm += x * x
        }
      }
    }
    if (norm > 0) {
      const inv = 1 / Math.sqrt(norm)
      for (let i = 0; i < this.dims; i++) f32[i] *= inv
    }
    this.zero[slot] = norm > 0 ? 0 : 1
    this.rowIds[slot] = rowId
    this.entryIds[slot] = entryId
    this.slotByRow.set(rowId, slot)
    this.count++
  }

  /** Removes a slot by moving the last row into it. */
  private remove(slot: number): void {
    const last = this.count - 1
    this.slotByRow.delete(this.rowIds[slot])
    if (slot !== last) {
      new Uint8Array(this.memory.buffer).copyWithin(slot * this.rowBytes, last * this.rowBytes, (last + 1) * this.rowBytes)
      this.rowIds[slot] = this.rowIds[last]
      this.entryIds[slot] = this.entryIds[last]
      this.zero[slot] = this.zero[last]
      this.slotByRow.set(this.rowIds[slot], slot)
    }
    this.rowIds.length = last
    this.entryIds.length = last
    this.count = last
  }
}

/** A cosine similarity as the quantised distance rows are compared by (DISTANCE_DECIMALS places); NaN stays NaN. */
const QUANTUM = 10 ** DISTANCE_DECIMALS
const quantised = (sim: number): number => Math.round((1 - sim) * QUANTUM)

/**
 * The `k` best rows by (distance at DISTANCE_DECIMALS places asc, entry id asc) — the order of the pgvector
 * branch — optionally only those `accept` lets through; NaN (no direction) ranks after every number.
 * Returns slot indices in rank order.
 */
export function topRows(scored: Scored, k: number, accept?: (entryId: string) => boolean): number[] {
  const { sims, entryIds } = scored
  const best: number[] = []
  const better = (a: number, b: number): boolean => {
    const da = quantised(sims[a])
    const db = quantised(sims[b])
    if (da !== db) {
      if (Number.isNaN(da)) return false
      if (Number.isNaN(db)) return true
      return da < db
    }
    return entryIds[a] < entryIds[b]
  }
  if (k <= 0) return best
  for (let s = 0; s < sims.length; s++) {
    if (best.length === k && !better(s, best[k - 1])) continue
    if (accept !== undefined && !accept(entryIds[s])) continue
    let lo = 0
    let hi = best.length
    while (lo < hi) {
      const mid = (lo + hi) >>> 1
      if (better(s, best[mid])) hi = mid
      else lo = mid + 1
    }
    best.splice(lo, 0, s)
    if (best.length > k) best.pop()
  }
  return best
}
