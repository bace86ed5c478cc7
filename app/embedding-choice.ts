/**
 * Which embedding provider a start uses. A provider named in AWARENESS_EMBEDDING_PROVIDER always wins.
 * Otherwise the database's own record decides — the provider it was created (or last re-embedded) for —
 * so a database keeps its vectors' model across restarts, and an older database without a record stays
 * lexical as it was. The vector size is fixed by the database; switching is `awareness reembed`.
 */
import { HASH_MODEL, LOCAL_DIMENSIONS, LOCAL_MODEL, type Config } from '../core/config.js'
import type { Store } from '../store/index.js'

export function chooseEmbedding(config: Config, store: Pick<Store, 'embeddingProvider' | 'vectorDimensions'>): { config: Config; warning?: string } {
  if (config.embedding.explicit) return { config }
  if (store.embeddingProvider === undefined) {
    return { config, warning: 'this database predates the built-in sentence model: search is full-text only until `awareness reembed --provider local` (or another provider) is run' }
  }
  const recorded = store.embeddingProvider
  const use = (patch: Partial<Config['embedding']>): Config => ({ ...config, embedding: Object.freeze({ ...config.embedding, ...patch }) })
  switch (recorded) {
    case '':
      return { config }
    case 'local':
      return { config: use({ provider: 'local', model: LOCAL_MODEL, dimensions: LOCAL_DIMENSIONS }) }
    case 'hash':
      return { config: use({ provider: 'hash', model: HASH_MODEL, dimensions: store.vectorDimensions }) }
    default:
      return {
        config,
        warning: `this database was embedded with the ${recorded} provider, which needs its settings: set AWARENESS_EMBEDDING_PROVIDER (and its URL and model); until then search is lexical only`,
      }
  }
}
