/**
 * `awareness reembed [--provider NAME]`: switches the database to another embedding provider and embeds
 * every live entry of every owner with it, printing progress. The vector size is part of the database
 * (fixed at creation), so a provider of another size — e.g. from the 768-dimensional default of an older
 * database to the built-in 512-dimensional `local` model — can only arrive this way. Stop the server(s)
 * first: a running server keeps embedding with the provider it started with.
 */
import { parseArgs } from 'node:util'
import { loadConfig, ConfigError, type Config } from '../../core/config.js'
import { backfill } from '../../search/backfill.js'
import { SearchIndex } from '../../search/search-index.js'
import { ownersWithEntries, switchVectorSpace } from '../../store/embedding-space.js'
import { createEmbeddingPool } from '../../workers/embedding-pool.js'
import { withStore } from '../db.js'
import { CLI, CliError, UsageError, type Command, type Io } from '../run.js'
import { parse } from './secret.js'

const USAGE = [
  `Usage: ${CLI} reembed [--provider local|hash|ollama|openai]`,
  '',
  'Drops every stored embedding, records the provider (and its vector size) in the database and embeds',
  'every live entry with it. The provider defaults to AWARENESS_EMBEDDING_PROVIDER; its URL, model and',
  'dimensions come from the usual AWARENESS_EMBEDDING_* variables. Stop the server first.',
].join('\n')

/** Entries per backfill call: progress is printed after each. */
const STEP = 500

function targetConfig(io: Io, provider: string | undefined): Config {
  const env = provider === undefined ? io.env : { ...io.env, AWARENESS_EMBEDDING_PROVIDER: provider }
  let config: Config
  try {
    config = loadConfig(env)
  } catch (error) {
    if (error instanceof ConfigError) throw new CliError(`Configuration error: ${error.problems.join('; ')}`)
    throw error
  }
  if (config.embedding.provider === '') throw new UsageError('name a provider: --provider local|hash|ollama|openai (or set AWARENESS_EMBEDDING_PROVIDER)')
  return config
}

export const reembedCommand: Command = {
  usage: USAGE,
  async run(args, io) {
    const { values } = parse(() => parseArgs({ args, options: { provider: { type: 'string' } }, strict: true, allowPositionals: false }))
    const config = targetConfig(io, values.provider)
    const pool = createEmbeddingPool({ ...config.embedding })
    try {
      if (!(await pool.available())) throw new CliError(`Error: the ${config.embedding.provider} provider (model ${pool.modelName}) is not available`)
      const space = { provider: config.embedding.provider, dimensions: pool.dimensions }
      const { dropped } = await withStore(config, io, (store) => switchVectorSpace(store.sql, store.vectorMode, space))
      io.out(`Dropped ${dropped} embeddings; the database now holds ${space.dimensions}-dimensional vectors of ${config.embedding.provider} (${pool.modelName}).\n`)
      // Reopened: the store reads its vector size when it opens.
      await withStore(config, io, async (store) => {
        const index = new SearchIndex(store)
        const log = { debug: () => undefined, info: () => undefined, warn: (o: object, m?: string) => io.err(`Warning: ${m ?? ''} ${JSON.stringify(o)}\n`), error: () => undefined }
        for (const owner of await ownersWithEntries(store.sql)) {
          let embedded = 0
          for (;;) {
            const r = await backfill({ index, embedder: pool, owner, log }, STEP)
            embedded += r.new_embeddings
            io.out(`${owner}: ${embedded} embedded, ${r.remaining} to go\n`)
            if (r.remaining === 0) break
            if (r.new_embeddings === 0) throw new CliError(`Error: embedding stalled for ${owner}: ${r.error ?? 'no progress'}`)
          }
        }
      })
      io.out('Re-embedding complete.\n')
      return 0
    } finally {
      await pool.close()
    }
  },
}
