/**
 * Worker entry: computes embedding vectors with the provider configured in workerData.
 * It never touches a database; the main thread stores what it returns (one writer on both backends).
 */
import { parentPort, workerData } from 'node:worker_threads'
import { createProvider } from './providers.js'
import { WORKER_BAD_REQUEST, WorkerError, serveWorker } from './protocol.js'
import type { AvailableResult, EmbedResult, EmbeddingProviderConfig } from './protocol.js'

const provider = createProvider(workerData as EmbeddingProviderConfig)

function textsOf(payload: unknown): string[] {
  const texts = (payload as { texts?: unknown } | null)?.texts
  if (!Array.isArray(texts) || !texts.every((t) => typeof t === 'string')) {
    throw new WorkerError(WORKER_BAD_REQUEST, "'embed' needs { texts: string[] }")
  }
  return texts
}

const log = serveWorker(parentPort, {
  async embed(payload): Promise<EmbedResult> {
    const texts = textsOf(payload)
    const started = performance.now()
    const vectors = await provider.embed(texts)
    // Counts and timings only: texts are entry bodies and never logged.
    log.debug({ model: provider.modelName, texts: texts.length, ms: Math.round(performance.now() - started) }, 'embedded')
    return { vectors }
  },
  async available(): Promise<AvailableResult> {
    return { available: await provider.isAvailable() }
  },
})
