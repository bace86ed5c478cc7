/**
 * The main-thread face of embedding: a pool of embed workers (2, spec http-and-operations §1.4)
 * behind `embed`/`available`. Provider '' starts no worker at all.
 */
import { createProvider } from './providers.js'
import { WorkerPool } from './host.js'
import type { WorkerHostStats } from './host.js'
import type { AvailablePayload, AvailableResult, EmbedPayload, EmbedResult, EmbeddingProviderConfig, WorkerLog } from './protocol.js'
import { workerUrl } from '../core/worker-url.js'

export interface EmbeddingPool {
  /** '' when no provider is configured. */
  readonly modelName: string
  /** 0 when no provider is configured. */
  readonly dimensions: number
  /** One vector per text, same order; [] for no texts or no provider. */
  embed(texts: string[]): Promise<number[][]>
  available(): Promise<boolean>
  stats(): WorkerHostStats[]
  close(): Promise<void>
}

export interface EmbeddingPoolOptions {
  /** Worker threads; 2 when absent. */
  size?: number
  /** How long an availability answer is reused; 5 s when absent, 0 to ask every time. */
  availabilityTtlMs?: number
}

/** Slack over the provider's own timeout, so a slow provider reports EMBEDDING_TIMEOUT, not WORKER_TIMEOUT. */
const HOST_SLACK_MS = 5_000

export function createEmbeddingPool(cfg: EmbeddingProviderConfig, log?: WorkerLog, opts: EmbeddingPoolOptions = {}): EmbeddingPool {
  // Built here too: it validates the configuration before any worker exists (a worker that failed
  // on it would only crash and be restarted), and it knows the model name and dimensions.
  const provider = createProvider(cfg)
  const { modelName, dimensions } = provider
  if (cfg.provider === '') {
    return {
      modelName,
      dimensions,
      embed: async () => [],
      available: async () => false,
      stats: () => [],
      close: async () => {},
    }
  }
  const embedTimeout = (cfg.timeoutMs ?? 30_000) + HOST_SLACK_MS
  const availableTimeout = 2 * (cfg.availabilityTimeoutMs ?? 5_000) + HOST_SLACK_MS // openai may probe twice
  const pool = new WorkerPool({
    name: 'embed',
    url: workerUrl('embed-worker', import.meta.url),
    workerData: cfg,
    size: opts.size ?? 2,
    timeoutMs: embedTimeout,
    log,
  })
  const ttl = opts.availabilityTtlMs ?? 5_000
  let cached: { value: boolean; at: number } | undefined
  let probing: Promise<boolean> | undefined

  return {
    modelName,
    dimensions,
    async embed(texts) {
      if (texts.length === 0) return []
      try {
        const { vectors } = await pool.request<EmbedResult>('embed', { texts } satisfies EmbedPayload)
        return vectors
      } catch (err) {
        cached = undefined // the provider just failed: do not keep vouching for it
        throw err
      }
    },
    available() {
      if (cached && Date.now() - cached.at < ttl) return Promise.resolve(cached.value)
      probing ??= pool
        .request<AvailableResult>('available', {} satisfies AvailablePayload, { timeoutMs: availableTimeout })
        .then(
          (r) => r.available === true,
          (err: unknown) => {
            log?.debug({ err: (err as Error).message }, 'embedding availability probe failed')
            return false
          },
        )
        .then((value) => {
          cached = { value, at: Date.now() }
          probing = undefined
          return value
        })
      return probing
    },
    stats: () => pool.stats(),
    close: () => pool.close(),
  }
}
