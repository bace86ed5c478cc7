/**
 * The services created with a store and living as long as it (mcp/context.ts StoreServices): its read log,
 * its search index and its text-search catalog cache. One place makes them, so every user of one store —
 * every request, the embedding queue, the benchmarks — shares one of each.
 */
import { RegconfigCache } from '../domain/language.js'
import type { StoreServices } from '../mcp/context.js'
import { SearchIndex, type SearchIndexOptions } from '../search/search-index.js'
import type { Store } from '../store/index.js'
import { ReadLog } from '../store/read-log.js'
import { SchemaValidator } from '../workers/schema-validator.js'

export interface ServicesOptions {
  /** How long a logged read waits to share its write with others, in ms (store/read-log.ts; default 20). */
  readonly readFlushMs?: number
  readonly search?: SearchIndexOptions
}

/** The services and a close that writes pending reads before it closes the store. */
export interface OwnedServices extends StoreServices {
  close(): Promise<void>
}

export function createServices(store: Store, opts: ServicesOptions = {}): OwnedServices {
  // Read logging is bookkeeping: on a full disk it fails (logged, §2.12) rather than eat the write reserve.
  const reads = new ReadLog(async (owner, fn) => {
    store.assertWritable()
    return store.withOwner(owner, fn)
  }, opts.readFlushMs)
  const schemas = new SchemaValidator()
  return {
    store,
    reads,
    search: new SearchIndex(store, opts.search),
    languages: new RegconfigCache(),
    schemas,
    async close() {
      await reads.flush()
      await schemas.close()
      await store.close()
    },
  }
}

/**
 * Services over a lazily opened store: made once per store instance (a store closed and opened again gets
 * new ones). `flush` writes the pending reads of the current services, for a clean close.
 */
export function lazyServices(getStore: () => Promise<Store>): { get: () => Promise<StoreServices>; flush: () => Promise<void> } {
  let made: StoreServices | undefined
  return {
    async get() {
      const store = await getStore()
      if (made?.store !== store) made = createServices(store)
      return made
    },
    flush: async () => made?.reads.flush(),
  }
}
