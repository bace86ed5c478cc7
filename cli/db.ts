/**
 * Database access for the command-line tools: PostgreSQL when AWARENESS_DATABASE_URL is set, else the
 * embedded database in AWARENESS_DATA_DIR — the same choice the server makes (decision 4). The embedded
 * directory is locked, so a tool cannot open it while a server holds it; the lock error says so.
 */
import type { Sql } from 'postgres'
import { connect } from '../store/connect.js'
import { Store, storeOptions } from '../store/index.js'
import type { Config } from '../core/config.js'
import { CliError, type Io } from './run.js'

function checkTarget(config: Config): void {
  if (config.databaseUrl === '' && config.dataDir === 'memory://') {
    throw new CliError('Error: AWARENESS_DATA_DIR=memory:// is a throwaway in-memory database; set AWARENESS_DATABASE_URL or a data directory')
  }
}

/** Opens (and migrates) the store, runs `fn`, and always closes it. */
export async function withStore<T>(config: Config, io: Io, fn: (store: Store) => Promise<T>): Promise<T> {
  checkTarget(config)
  const store = await Store.open(storeOptions(config, (message) => io.err(`Warning: ${message}\n`), { maxConnections: 2 }))
  try {
    return await fn(store)
  } finally {
    await store.close()
  }
}

/** A bare connection that runs no migrations, for `migrate` to inspect and stamp. */
export async function withConnection<T>(config: Config, fn: (sql: Sql) => Promise<T>): Promise<T> {
  checkTarget(config)
  const connection = await connect(config, { applicationName: 'awareness-cli', maxConnections: 1 })
  try {
    return await fn(connection.sql)
  } finally {
    await connection.close()
  }
}
