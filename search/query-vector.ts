/**
 * The query's embedding for search and hint re-ranking. Never throws: a missing or failing provider is an
 * answer (decision 6 — search then runs its full-text branch alone), carried with the §3.14 message.
 */
import type { Embedder } from '../core/ports.js'

export type QueryVector =
  | { readonly vector: number[]; readonly model: string }
  | { readonly vector?: undefined; readonly reason: 'no_provider' | 'failed'; readonly message: string }

export async function queryVector(embedder: Embedder | undefined, dimensions: number, text: string): Promise<QueryVector> {
  if (embedder === undefined) return { reason: 'no_provider', message: 'No embedding provider is configured.' }
  if (!(await embedder.available())) {
    return { reason: 'failed', message: `The embedding provider (model ${embedder.modelName}) is not reachable right now.` }
  }
  let vectors: number[][]
  try {
    vectors = await embedder.embed([text])
  } catch (err) {
    return { reason: 'failed', message: `Embedding error: ${(err as Error)?.message ?? String(err)}` }
  }
  const vector = vectors[0]
  if (vector === undefined || vector.length === 0) return { reason: 'failed', message: 'Failed to generate query embedding.' }
  if (vector.length !== dimensions) {
    return { reason: 'failed', message: `Embedding error: the provider returned a vector of ${vector.length} dimensions; the database stores ${dimensions}.` }
  }
  return { vector, model: embedder.modelName }
}
