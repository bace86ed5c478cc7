/**
 * The store: one postgres.js pool (to PostgreSQL, or to the embedded PGlite over its socket), migrated at
 * open, with owner-scoped transactions. Query functions live in store/queries and take a transaction.
 */
import type { Sql } from 'postgres'
import { LOCAL_DIMENSIONS, POOL_CONNECTIONS, creationProvider, type Config } from '../core/config.js'
import { connect, type Connection, type ConnectionTarget } from './connect.js'
import { migrate } from './migrate.js'
import type { VectorMode } from './migrations.js'
import type { Tx } from './sql.js'

export interface StoreOptions extends ConnectionTarget {
  /** Vector dimension used when the database is created (later starts read the recorded one). */
  readonly dimensions: number
  /** Embedding provider recorded when the database is created; '' (none) when absent. */
  readonly provider?: string
  /** Pool size for PostgreSQL (the embedded database always uses one connection). */
  readonly maxConnections?: number
  readonly warn?: (msg: string) => void
}

/** The store options the configuration asks for: the one mapping from Config (server, CLI, benchmarks). */
export function storeOptions(
  config: Config,
  warn: (msg: string) => void,
  extra: Pick<StoreOptions, 'maxConnections'> & { onEmbeddedLost?: (reason: Error) => void } = {},
): StoreOptions {
  const provider = creationProvider(config)
  const dimensions = provider === 'local' ? LOCAL_DIMENSIONS : config.embedding.dimensions
  const embedded = { fsync: config.embeddedFsync, minFreeBytes: config.embeddedMinFreeMb * 1024 * 1024, onLost: extra.onEmbeddedLost }
  return { databaseUrl: config.databaseUrl, dataDir: config.dataDir, embedded, dimensions, provider, warn, maxConnections: extra.maxConnections }
}

export interface OwnerTransactionOptions {
  /**
   * Plan every statement for its actual values (plan_cache_mode = force_custom_plan): for queries whose
   * best plan depends on them, such as search (a common term against a rare one). Default: PostgreSQL's own.
   */
  readonly customPlans?: boolean
}

let opened = 0
/** How many stores this process has opened: the singleton tests count pools with it. */
export function storesOpened(): number {
  return opened
}

export class Store {
  readonly sql: Sql

  private constructor(
    private readonly connection: Connection,
    readonly backend: 'embedded' | 'postgres',
    readonly vectorMode: VectorMode,
    /** The dimension of the embeddings column. */
    readonly vectorDimensions: number,
    /** The embedding provider recorded at creation (undefined: a database older than the record). */
    readonly embeddingProvider: string | undefined,
    /** Whether owner transactions switch to the non-bypass role (the connection's role ignores RLS). */
    readonly rlsRole: boolean,
  ) {
    this.sql = connection.sql
  }

  static async open(opts: StoreOptions): Promise<Store> {
    const connection = await connect(opts, { applicationName: 'awareness', maxConnections: opts.maxConnections ?? POOL_CONNECTIONS })
    const { sql } = connection
    try {
      const { vectorMode, dimensions, provider } = await migrate(sql, { dimensions: opts.dimensions, provider: opts.provider })
      const [role] = await sql`
        SELECT (r.rolsuper OR r.rolbypassrls) AS bypass,
               EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'awareness_rls') AS has_role,
               (SELECT pg_has_role(current_user, oid, 'MEMBER') FROM pg_roles WHERE rolname = 'awareness_rls') AS member
        FROM pg_roles r WHERE r.rolname = current_user`
      const rlsRole = Boolean(role.bypass && role.has_role && role.member)
      if (role.bypass && !rlsRole) {
        opts.warn?.('The database role bypasses row-level security and the awareness_rls role is unavailable: owner isolation rests on query filters alone.')
      }
      opened++
      return new Store(connection, connection.embedded ? 'embedded' : 'postgres', vectorMode, dimensions, provider, rlsRole)
    } catch (error) {
      await connection.close(1)
      throw error
    }
  }

  /**
   * One short transaction as `owner`: the role switch (when the connection would bypass RLS) and the
   * transaction-local owner setting come first, so RLS enforces isolation again below the query filters.
   * Never nest: the embedded database has a single connection.
   */
  withOwner<T>(owner: string, fn: (tx: Tx) => Promise<T>, opts: OwnerTransactionOptions = {}): Promise<T> {
    if (owner === '') return Promise.reject(new Error('An owner id is required'))
    const plans = opts.customPlans ? 'force_custom_plan' : 'auto'
    return this.sql.begin(async (tx) => {
      // One statement for all settings (set_config('role', …, true) is SET LOCAL ROLE), not awaited: fn's
      // first statements go out in the same write and queue behind it on the connection. postgres.js sends
      // a query only once it is awaited or executed, so execute() puts the setup in the queue before fn can
      // queue anything. Should the setup fail, fn's statements fail with it, and its error (answered
      // first) is the one reported.
      const setup = (
        this.rlsRole
          ? tx`SELECT set_config('role', 'awareness_rls', true), set_config('app.current_user', ${owner}, true), set_config('plan_cache_mode', ${plans}, true)`
          : tx`SELECT set_config('app.current_user', ${owner}, true), set_config('plan_cache_mode', ${plans}, true)`
      ).execute()
      // Run through an async wrapper so even a synchronous throw leaves no setup rejection unhandled.
      const [, result] = await Promise.all([setup, (async () => fn(tx))()])
      return result
    }) as Promise<T>
  }

  /** A transaction without an owner context, for the few operations that span owners (tables without RLS). */
  system<T>(fn: (tx: Tx) => Promise<T>): Promise<T> {
    return this.sql.begin((tx) => fn(tx)) as Promise<T>
  }

  /**
   * Throws DiskFullError (SQLSTATE 53100) when the embedded database's disk is below its reserve; every
   * writer asks first (store/disk-space.ts). PostgreSQL answers a full disk itself: a no-op there.
   */
  assertWritable(): void {
    this.connection.embedded?.assertWritable()
  }

  /** Health probe: true when the database answers within `timeoutMs`. */
  async ping(timeoutMs = 2000): Promise<boolean> {
    const timeout = new Promise<false>((ok) => setTimeout(() => ok(false), timeoutMs).unref())
    const query = this.sql`SELECT 1`.then(() => true, () => false)
    return Promise.race([query, timeout])
  }

  /** Closes the pool (and the embedded database). Whoever holds a read log flushes it first. */
  close(): Promise<void> {
    return this.connection.close(5)
  }
}
