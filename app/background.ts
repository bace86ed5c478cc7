/**
 * Background work started next to the HTTP server: the embedding workers, their queue and its periodic
 * sweep. A provider whose dimension differs from the database's is refused (search stays lexical).
 */
import type { SearchIndex } from '../search/search-index.js'
import { createEmbeddingPool, type EmbeddingPool } from '../workers/embedding-pool.js'
import type { Config } from '../core/config.js'
import { EmbeddingQueue, type EmbeddingQueueOptions } from '../search/embedding-queue.js'
import type { EmbedScheduler, Log } from '../core/ports.js'

export interface Background {
  readonly embed: EmbedScheduler
  /** The embedding pool, when a provider is configured and usable. */
  readonly embeddings: EmbeddingPool | undefined
  /** The queue, when embeddings are on (health and benchmarks read its stats). */
  readonly queue: EmbeddingQueue | undefined
  close(): Promise<void>
}

const NONE: EmbedScheduler = { schedule: () => undefined }
const OFF: Background = { embed: NONE, embeddings: undefined, queue: undefined, close: async () => undefined }

export async function startBackground(opts: {
  config: Config
  log: Log
  /** The store's search index: the queue writes vectors through its store and refreshes its caches. */
  index: SearchIndex
  /** Overrides of the queue's defaults (tests). */
  queue?: Omit<EmbeddingQueueOptions, 'pool' | 'index' | 'log'>
}): Promise<Background> {
  const { config, log, index } = opts
  const { store } = index
  if (config.embedding.provider === '') return OFF
  const pool = createEmbeddingPool({ ...config.embedding }, log)
  if (pool.dimensions !== store.vectorDimensions) {
    // The column's dimension is fixed at creation; a provider of another size could never store a vector.
    log.error(
      { provider: config.embedding.provider, model: pool.modelName, providerDimensions: pool.dimensions, databaseDimensions: store.vectorDimensions },
      'embedding dimension differs from the database; embeddings disabled, search is lexical only',
    )
    await pool.close()
    return OFF
  }
  const queue = new EmbeddingQueue({ ...opts.queue, pool, index, log })
  // Not awaited: an unreachable provider must not delay start; the answer is only logged.
  // The built-in model is part of the package: asking whether it is there would load it (~120 MB) before
  // any call needs it. It loads on the first write or search instead; a remote provider is asked now.
  if (config.embedding.provider === 'local') log.info({ provider: 'local', model: pool.modelName }, 'built-in embedding model: loaded on first use')
  else void pool.available().then((up) => {
    if (up) log.info({ provider: config.embedding.provider, model: pool.modelName }, 'embedding provider available')
    else log.warn({ provider: config.embedding.provider, model: pool.modelName }, 'embedding provider not reachable yet; writes are queued and retried')
  })
  return {
    embed: queue,
    embeddings: pool,
    queue,
    close: async () => {
      await queue.close()
      await pool.close()
    },
  }
}
