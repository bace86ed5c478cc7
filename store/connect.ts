/**
 * The one place a database connection is built: PostgreSQL from a URL, or the embedded PGlite (started in
 * its own worker thread, its data directory locked) over its private socket. The server's store and the
 * command-line tools both connect through here.
 */
import postgres, { type Sql } from 'postgres'
import { startEmbedded, type EmbeddedDatabase, type EmbeddedOptions } from './embedded.js'

export interface ConnectionTarget {
  /** '' selects the embedded database in `dataDir`. */
  readonly databaseUrl: string
  /** A directory, or 'memory://'. Used only when `databaseUrl` is ''. */
  readonly dataDir: string
  /** How the embedded database runs (fsync, what happens when its thread dies). */
  readonly embedded?: EmbeddedOptions
}

export interface Connection {
  readonly sql: Sql
  /** Set when the connection goes to the embedded database. */
  readonly embedded: EmbeddedDatabase | undefined
  /** Ends the pool, then stops the embedded database (when there is one). */
  close(timeoutSec?: number): Promise<void>
}

/**
 * Seconds before a pool slot reconnects after an error. postgres.js's default, 3^retries / 100 capped at 20 s,
 * counts every errored close of the pool: a PostgreSQL restart that drops 20 connections pushes it to the
 * cap, and calls then queue ~19 s for a database that is already back (measured, tests/faults-postgres.test.ts).
 * Capped at 1 s: one attempt per slot per second is no load on a server that refuses connections quickly.
 */
const reconnectBackoff = (retries: number): number => Math.min(0.05 * 2 ** retries, 1) * (0.5 + Math.random() / 2)

export async function connect(target: ConnectionTarget, opts: { applicationName: string; maxConnections: number; idleTimeoutSec?: number }): Promise<Connection> {
  const common = { onnotice: () => undefined, connection: { application_name: opts.applicationName } }
  const embedded = target.databaseUrl === '' ? await startEmbedded(target.dataDir, target.embedded) : undefined
  // PGlite is one session: one connection, never closed for idleness (reopening costs a handshake).
  const sql = embedded
    ? postgres({ ...common, path: embedded.socketPath, max: 1, user: 'postgres', database: 'postgres', idle_timeout: 0 })
    : postgres(target.databaseUrl, { ...common, max: opts.maxConnections, idle_timeout: opts.idleTimeoutSec ?? 30, connect_timeout: 10, backoff: reconnectBackoff })
  return {
    sql,
    embedded,
    async close(timeoutSec = 5) {
      await sql.end({ timeout: timeoutSec }).catch(() => undefined)
      await embedded?.close()
    },
  }
}
