/**
 * The store: one postgres.js pool (to PostgreSQL, or to the embedded PGlite over its socket), migrated at
 * open, with owner-scoped transactions. Query functions live in store/queries and take a transaction.
 */
import postgres, { type Sql, type TransactionSql } from 'postgres'
import { startEmbedded, type EmbeddedDatabase } from './embedded.js'
import { migrate } from './migrate.js'
import { ReadLog } from './read-log.js'
import type { VectorMode } from './migrations.js'

export type Tx = TransactionSql

export interface StoreOptions {
  /** '' selects the embedded database in `dataDir`. */
  readonly databaseUrl: string
  /** A directory, or 'memory://'. Used only when `databaseUrl` is ''. */
  readonly dataDir: string
  /** Vector dimension used when the database is created (later starts read the recorded one). */
  readonly dimensions: number
  /** Pool size for PostgreSQL (the embedded database always uses one connection). */
  readonly maxConnections?: number
  readonly warn?: (msg: string) => void
  /** How long a logged read waits to share its write with others, in ms (read-log.ts; default 20). */
  readonly readFlushMs?: number
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
  /** Reads returned by tools, written behind in batches (read-log.ts). */
  readonly reads: ReadLog

  private constructor(
    readonly sql: Sql,
    readonly backend: 'embedded' | 'postgres',
    readonly vectorMode: VectorMode,
    /** The dimension of the embeddings column. */
    readonly vectorDimensions: number,
    /** Whether owner transactions switch to the non-bypass role (the connection's role ignores RLS). */
    readonly rlsRole: boolean,
    private readonly embedded: EmbeddedDatabase | undefined,
    readFlushMs: number | undefined,
  ) {
    this.reads = new ReadLog((owner, fn) => this.withOwner(owner, fn), readFlushMs)
  }

  static async open(opts: StoreOptions): Promise<Store> {
    const embedded = opts.databaseUrl === '' ? await startEmbedded(opts.dataDir) : undefined
    const common = { onnotice: () => undefined, connection: { application_name: 'awareness' } }
    const sql = embedded
      ? postgres({ ...common, path: embedded.socketPath, max: 1, user: 'postgres', database: 'postgres', idle_timeout: 0 })
      : postgres(opts.databaseUrl, { ...common, max: opts.maxConnections ?? 10, idle_timeout: 30, connect_timeout: 10 })
    try {
      const { vectorMode, dimensions } = await migrate(sql, { dimensions: opts.dimensions })
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
      return new Store(sql, embedded ? 'embedded' : 'postgres', vectorMode, dimensions, rlsRole, embedded, opts.readFlushMs)
    } catch (error) {
      await sql.end({ timeout: 1 }).catch(() => undefined)
      await embedded?.close()
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

  /** Health probe: true when the database answers within `timeoutMs`. */
  async ping(timeoutMs = 2000): Promise<boolean> {
    const timeout = new Promise<false>((ok) => setTimeout(() => ok(false), timeoutMs).unref())
    const query = this.sql`SELECT 1`.then(() => true, () => false)
    return Promise.race([query, timeout])
  }

  async close(): Promise<void> {
    await this.reads.flush()
    await this.sql.end({ timeout: 5 })
    await this.embedded?.close()
  }
}
