/**
 * Background work started next to the HTTP server: the embedding workers and their queue.
 */
import type { Store } from '../store/index.js'
import { createEmbeddingPool, type EmbeddingPool } from '../workers/embedding-pool.js'
import type { Config } from './config.js'
import { EmbeddingQueue } from './embedding-queue.js'
import type { EmbedScheduler, Log } from './tools/define.js'

export interface Background {
  readonly embed: EmbedScheduler
  /** The embedding pool, when a provider is configured and usable. */
  readonly embeddings: EmbeddingPool | undefined
  close(): Promise<void>
}

const NONE: EmbedScheduler = { schedule: () => undefined }

export async function startBackground(opts: { config: Config; log: Log; store: Store }): Promise<Background> {
  const { config, log, store } = opts
  if (config.embedding.provider === '') return { embed: NONE, embeddings: undefined, close: async () => undefined }
  const pool = createEmbeddingPool({ ...config.embedding }, log)
  if (pool.dimensions !== store.vectorDimensions) {
    // The column's dimension is fixed at creation; a provider of another size could never store a vector.
    log.error({ provider: pool.dimensions, database: store.vectorDimensions }, 'embedding dimension differs from the database; embeddings disabled')
    await pool.close()
    return { embed: NONE, embeddings: undefined, close: async () => undefined }
  }
  const queue = new EmbeddingQueue({ pool, store, log })
  return {
    embed: queue,
    embeddings: pool,
    close: async () => {
      await queue.close()
      await pool.close()
    },
  }
}
