/** Provider selection (data-and-engine.md §5.4): the configured provider, built inside an embedding worker. */
import { EmbeddingError, HashProvider, NullProvider, OllamaProvider, OpenAiProvider, type EmbeddingProvider } from './embedder.js'
import { LocalProvider } from './local-provider.js'
import type { EmbeddingProviderConfig } from './protocol.js'

/** Builds the configured provider; throws EMBEDDING_CONFIG for an unusable configuration. */
export function createProvider(cfg: EmbeddingProviderConfig): EmbeddingProvider {
  const timeouts = { timeoutMs: cfg.timeoutMs, availabilityTimeoutMs: cfg.availabilityTimeoutMs }
  switch (cfg.provider) {
    case '':
      return new NullProvider()
    case 'hash':
      return new HashProvider(cfg.dimensions)
    case 'local':
      return new LocalProvider()
    case 'ollama':
      return new OllamaProvider({ baseUrl: cfg.ollamaUrl, model: cfg.model, dimensions: cfg.dimensions, ...timeouts })
    case 'openai':
      return new OpenAiProvider({ baseUrl: cfg.url, model: cfg.model, dimensions: cfg.dimensions, apiKey: cfg.apiKey, ...timeouts })
    default:
      throw new EmbeddingError('EMBEDDING_CONFIG', `unknown embedding provider '${String(cfg.provider)}'`)
  }
}
