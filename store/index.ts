/**
 * The lazily created store singleton (http-and-operations.md §1.3): exactly one store, one pool and one
 * migration run however many requests, workers and timers race to it first; a failed open is not cached.
 */
import { Mutex } from 'async-mutex'
import { Store, type StoreOptions } from './store.js'

const lock = new Mutex()
let current: Store | undefined

export async function getStore(opts: StoreOptions): Promise<Store> {
  if (current) return current
  return lock.runExclusive(async () => (current ??= await Store.open(opts)))
}

export async function closeStore(): Promise<void> {
  await lock.runExclusive(async () => {
    const store = current
    current = undefined
    await store?.close()
  })
}

export { Store, storeOptions, storesOpened, type StoreOptions } from './store.js'
export type { Tx } from './sql.js'
