/**
 * A small bounded map whose entries expire: per-token results (userinfo, resolved owner) are kept for a few
 * minutes so OAuth requests do not cost an HTTP call and database queries each (risk R10). Keys are token
 * digests, never tokens, so the process does not hold credentials longer than a request needs them.
 */
import { createHash } from 'node:crypto'

export function tokenDigest(token: string): string {
  return createHash('sha256').update(token).digest('base64url')
}

export class TtlCache<V> {
  private readonly entries = new Map<string, { value: V; expiresAt: number }>()

  constructor(
    private readonly maxEntries: number,
    private readonly now: () => number = Date.now,
  ) {}

  get(key: string): V | undefined {
    const hit = this.entries.get(key)
    if (hit === undefined) return undefined
    if (hit.expiresAt <= this.now()) {
      this.entries.delete(key)
      return undefined
    }
    return hit.value
  }

  set(key: string, value: V, ttlMs: number): void {
    if (ttlMs <= 0) return
    this.entries.delete(key)
    // Map iteration is insertion order: the first key is the oldest write, evicted first.
    while (this.entries.size >= this.maxEntries) {
      const oldest = this.entries.keys().next().value
      if (oldest === undefined) break
      this.entries.delete(oldest)
    }
    this.entries.set(key, { value, expiresAt: this.now() + ttlMs })
  }

  get size(): number {
    return this.entries.size
  }
}
