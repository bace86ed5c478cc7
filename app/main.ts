#!/usr/bin/env node
/**
 * Process entry: configuration → logger → store warm-up → app → listen; SIGTERM/SIGINT drain and close
 * (http-and-operations.md §1.1–§1.2).
 */
import { ConfigError, loadConfig, type Config } from '../core/config.js'
import { loadEnvFile } from '../core/env-file.js'
import { buildApp } from './app.js'
import { createLogger } from './logger.js'
import { closeStore, getStore, storeOptions } from '../store/index.js'
import { startBackground, type Background } from './background.js'
import { Cleanup } from './cleanup.js'
import { createServices } from './services.js'
import { chooseEmbedding } from './embedding-choice.js'
import { warmLanguageDetector } from '../domain/language.js'
import { startSummary } from './start-summary.js'

const GRACE_MS = 10_000

function readConfig(): Config {
  const envFile = loadEnvFile()
  if (envFile.problem !== undefined) {
    process.stderr.write(`Configuration error: ${envFile.problem}\n`)
    process.exit(1)
  }
  try {
    return loadConfig(process.env)
  } catch (error) {
    if (error instanceof ConfigError) {
      process.stderr.write(`Configuration error: ${error.problems.join('; ')}\n`)
      process.exit(1)
    }
    throw error
  }
}

async function main(): Promise<void> {
  // Whatever this process creates (the embedded database's files, its lock) is readable by its user only
  // (audit M7); store/embedded.ts also repairs the modes of what an earlier version left.
  process.umask(0o077)
  const configured = readConfig()
  const log = createLogger(configured.logLevel)
  for (const warning of configured.warnings) log.warn(warning)
  // Built now rather than on the first write, which would otherwise pay ~136 ms of CPU for it.
  if (!warmLanguageDetector()) log.warn('language detection is unavailable (tinyld did not load): writes without a language use "simple"')

  // The embedded database's thread ending on its own leaves a process whose every query fails: it stops
  // (exit 1) so its supervisor — Docker's restart policy, systemd, a process manager — starts a fresh one,
  // whose start recovers the database from its WAL. In-flight calls answer `unavailable` meanwhile.
  let shutdown: ((reason: string, code: number) => void) | undefined
  const onEmbeddedLost = (reason: Error): void => {
    log.fatal({ err: reason }, 'the embedded database stopped; exiting for a restart')
    if (shutdown) shutdown('embedded database lost', 1)
    else process.exit(1)
  }

  let store
  try {
    // Warm-up: an unreachable database stops startup so an orchestrator restarts the container.
    store = await getStore(storeOptions(configured, (m) => log.warn(m), { onEmbeddedLost }))
  } catch (err) {
    log.fatal({ err }, 'could not open the database')
    process.exit(1)
  }
  const chosen = chooseEmbedding(configured, store)
  if (chosen.warning !== undefined) log.warn(chosen.warning)
  const config = chosen.config
  const services = createServices(store)
  const background: Background = await startBackground({ config, log, index: services.search })
  const cleanup = new Cleanup(store, log)
  cleanup.start()
  void cleanup.run().catch((err: unknown) => log.error({ err }, 'cleanup failed'))
  const app = await buildApp({ config, logger: log, getServices: async () => services, embed: background.embed, embedder: background.embeddings })
  await app.listen({ host: config.host, port: config.port })
  const address = app.server.address()
  const port = typeof address === 'object' && address !== null ? address.port : config.port
  const ready = startSummary(config, { port, backend: store.backend, vectors: store.vectorMode })
  log.info(ready.fields, ready.message)

  let stopping = false
  const stop = (signal: string, code = 0) => {
    if (stopping) return
    stopping = true
    log.info({ signal }, 'shutdown requested')
    const force = setTimeout(() => {
      log.warn('in-flight requests did not finish within the grace period; exiting')
      process.exit(1) // not a clean stop: a supervisor should know
    }, GRACE_MS + 5_000)
    force.unref()
    void (async () => {
      // fastify.close() stops accepting and waits for in-flight requests (bounded by the grace timer).
      await app.close().catch((err: unknown) => log.error({ err }, 'closing the server failed'))
      await cleanup.stop()
      await background.close().catch((err: unknown) => log.error({ err }, 'stopping workers failed'))
      await services.reads.flush() // pending reads are written while the store is still open
      await closeStore().catch((err: unknown) => log.error({ err }, 'closing the database failed'))
      log.info('stopped')
      process.exit(code)
    })()
  }
  shutdown = stop
  process.on('SIGTERM', () => stop('SIGTERM'))
  process.on('SIGINT', () => stop('SIGINT'))
}

await main()
