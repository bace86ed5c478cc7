/**
 * Migration runner (data-and-engine.md §10.7): every pending step in one transaction, under a
 * transaction-scoped advisory lock so replicas starting together never migrate twice. Also decides the
 * vector mode once (decision 5) and records it, so it never flips silently afterwards.
 */
import type { Sql, TransactionSql } from 'postgres'
import { MIGRATIONS, type VectorMode } from './migrations.js'

/** Fixed advisory-lock key for the migration runner ("awareness" in ASCII, fits an int8). */
const MIGRATION_LOCK_KEY = '7022648146938340723'

export interface MigrationResult {
  readonly vectorMode: VectorMode
  /** The dimension fixed by the embeddings column when the database was created. */
  readonly dimensions: number
  /** The embedding provider recorded when the database was created; undefined for databases older than the record. */
  readonly provider: string | undefined
  readonly applied: readonly string[]
}

function createMigrationsTable(tx: TransactionSql) {
  return tx`CREATE TABLE IF NOT EXISTS schema_migrations (version text PRIMARY KEY, applied_at timestamptz NOT NULL DEFAULT now())`
}

/** The applied migrations and when, oldest first; empty on a database never migrated. */
export async function appliedMigrations(sql: Sql): Promise<Map<string, Date>> {
  const [table] = await sql`SELECT to_regclass('public.schema_migrations') IS NOT NULL AS present`
  if (!table.present) return new Map()
  const rows = await sql`SELECT version, applied_at FROM schema_migrations ORDER BY version`
  return new Map(rows.map((r) => [r.version as string, r.applied_at as Date]))
}

/** Records every migration as applied without running any (for a schema created by other means). */
export async function stampMigrations(sql: Sql): Promise<void> {
  await sql.begin(async (tx) => {
    await tx`SELECT pg_advisory_xact_lock(${MIGRATION_LOCK_KEY}::int8)`
    await createMigrationsTable(tx)
    await tx`INSERT INTO schema_migrations (version) SELECT unnest(${MIGRATIONS.map((m) => m.version)}::text[]) ON CONFLICT DO NOTHING`
  })
}

async function chooseVectorMode(tx: TransactionSql): Promise<VectorMode> {
  const [available] = await tx`SELECT count(*)::int AS n FROM pg_available_extensions WHERE name = 'vector'`
  if (available.n === 0) return 'array'
  try {
    // A savepoint: a failed CREATE EXTENSION (e.g. missing privilege) must not abort the migration.
    await tx.savepoint((sp) => sp`CREATE EXTENSION IF NOT EXISTS vector`)
    return 'pgvector'
  } catch {
    return 'array'
  }
}

async function readMeta(tx: TransactionSql, key: string): Promise<string | undefined> {
  const rows = await tx`SELECT value FROM awareness_meta WHERE key = ${key}`
  return rows[0]?.value as string | undefined
}

export async function migrate(sql: Sql, opts: { dimensions: number; provider?: string }): Promise<MigrationResult> {
  return sql.begin(async (tx) => {
    await tx`SELECT pg_advisory_xact_lock(${MIGRATION_LOCK_KEY}::int8)`
    const [alembic] = await tx`SELECT to_regclass('public.alembic_version') IS NOT NULL AS present`
    if (alembic.present) {
      throw new Error('This database was migrated by the reference implementation (alembic_version exists); importing it is not supported.')
    }
    await createMigrationsTable(tx)
    await tx`CREATE TABLE IF NOT EXISTS awareness_meta (key text PRIMARY KEY, value text NOT NULL)`

    let vectorMode = (await readMeta(tx, 'vector_mode')) as VectorMode | undefined
    let dimensions = Number(await readMeta(tx, 'vector_dimensions'))
    if (vectorMode === undefined) {
      vectorMode = await chooseVectorMode(tx)
      dimensions = opts.dimensions
      await tx`INSERT INTO awareness_meta (key, value) VALUES ('vector_mode', ${vectorMode}), ('vector_dimensions', ${String(dimensions)}), ('embedding_provider', ${opts.provider ?? ''})`
    } else if (vectorMode === 'pgvector') {
      // Recorded as pgvector: the extension must still be there; falling back to arrays would lose data.
      await tx`CREATE EXTENSION IF NOT EXISTS vector`
    }

    const done = new Set((await tx`SELECT version FROM schema_migrations`).map((r) => r.version as string))
    const applied: string[] = []
    for (const migration of MIGRATIONS) {
      if (done.has(migration.version)) continue
      await migration.up(tx, { vectorMode, dimensions })
      await tx`INSERT INTO schema_migrations (version) VALUES (${migration.version})`
      applied.push(migration.version)
    }
    return { vectorMode, dimensions, provider: await readMeta(tx, 'embedding_provider'), applied }
  })
}
