/**
 * The schema (data-and-engine.md §2, §10), as ordered, recorded steps. The steps build the final schema
 * directly rather than replaying the reference's history. DDL is static text; the only interpolated
 * values are validated integers (the vector dimension), never caller data.
 */
import type { TransactionSql } from 'postgres'

export type VectorMode = 'pgvector' | 'array'

export interface MigrationContext {
  readonly vectorMode: VectorMode
  readonly dimensions: number
}

export interface Migration {
  readonly version: string
  readonly up: (tx: TransactionSql, ctx: MigrationContext) => Promise<void>
}

const OWNER = `current_setting('app.current_user', true)`

/**
 * Characters of each text field that feed the full-text index. A tsvector is limited to 1 MiB, so a long
 * text of distinct words would otherwise make the write itself fail; the first 100,000 characters of each
 * field stay searchable word by word, the whole text stays stored and returned.
 */
const TSV_CHARS = 100_000

async function run(tx: TransactionSql, statements: string[]): Promise<void> {
  for (const statement of statements) await tx.unsafe(statement)
}

const core: Migration = {
  version: '0001_core_tables',
  up: (tx) =>
    run(tx, [
      // owner_id has no default on purpose: every write names its owner explicitly.
      `CREATE TABLE entries (
        id text PRIMARY KEY,
        owner_id text NOT NULL,
        type text NOT NULL,
        source text NOT NULL,
        created timestamptz NOT NULL,
        updated timestamptz,
        expires timestamptz,
        deleted timestamptz,
        tags jsonb NOT NULL DEFAULT '[]',
        data jsonb NOT NULL DEFAULT '{}',
        logical_key text,
        language regconfig NOT NULL DEFAULT 'simple',
        tsv tsvector GENERATED ALWAYS AS (
          setweight(to_tsvector(language, left(coalesce(data->>'description', ''), ${TSV_CHARS})), 'A') ||
          setweight(to_tsvector(language, left(coalesce(data->>'content', ''), ${TSV_CHARS})), 'B') ||
          setweight(to_tsvector(language, left(coalesce(data->>'goal', ''), ${TSV_CHARS})), 'B') ||
          setweight(to_tsvector(language, left(translate(tags::text, '[]"', '   '), ${TSV_CHARS})), 'C')
        ) STORED
      )`,
      `CREATE INDEX idx_entries_owner ON entries (owner_id)`,
      `CREATE INDEX idx_entries_owner_type ON entries (owner_id, type)`,
      `CREATE INDEX idx_entries_owner_source ON entries (owner_id, source)`,
      `CREATE INDEX idx_entries_owner_type_source ON entries (owner_id, type, source)`,
      // Recency is the default sort everywhere; this serves "newest first" pages without a sort of all rows.
      `CREATE INDEX idx_entries_owner_recency ON entries (owner_id, (coalesce(updated, created)) DESC, id) WHERE deleted IS NULL`,
      `CREATE INDEX idx_entries_tags_gin ON entries USING gin (tags)`,
      `CREATE UNIQUE INDEX idx_entries_source_logical_key ON entries (owner_id, source, logical_key) WHERE logical_key IS NOT NULL AND deleted IS NULL`,
      `CREATE INDEX idx_entries_tsv ON entries USING gin (tsv)`,
      `CREATE INDEX idx_entries_language ON entries (language) WHERE language <> 'simple'::regconfig`,
      `CREATE TABLE reads (
        id serial PRIMARY KEY,
        owner_id text NOT NULL,
        entry_id text NOT NULL REFERENCES entries(id) ON DELETE CASCADE,
        "timestamp" timestamptz NOT NULL DEFAULT now(),
        platform text,
        tool_used text
      )`,
      `CREATE INDEX idx_reads_owner ON reads (owner_id)`,
      `CREATE INDEX idx_reads_entry ON reads (entry_id)`,
      `CREATE INDEX idx_reads_timestamp ON reads ("timestamp")`,
      `CREATE TABLE actions (
        id serial PRIMARY KEY,
        owner_id text NOT NULL,
        entry_id text NOT NULL REFERENCES entries(id) ON DELETE CASCADE,
        "timestamp" timestamptz NOT NULL DEFAULT now(),
        platform text,
        action text NOT NULL,
        detail text,
        tags jsonb NOT NULL DEFAULT '[]'
      )`,
      `CREATE INDEX idx_actions_owner ON actions (owner_id)`,
      `CREATE INDEX idx_actions_entry ON actions (entry_id)`,
      `CREATE INDEX idx_actions_timestamp ON actions ("timestamp")`,
      `CREATE INDEX idx_actions_tags_gin ON actions USING gin (tags)`,
    ]),
}

const embeddings: Migration = {
  version: '0002_embeddings',
  up: (tx, { vectorMode, dimensions }) => {
    const n = Math.trunc(dimensions)
    const column = vectorMode === 'pgvector' ? `embedding vector(${n}) NOT NULL` : `embedding real[] NOT NULL CHECK (cardinality(embedding) = dimensions), norm double precision NOT NULL`
    const statements = [
      `CREATE TABLE embeddings (
        id serial PRIMARY KEY,
        owner_id text NOT NULL,
        entry_id text NOT NULL REFERENCES entries(id) ON DELETE CASCADE,
        model text NOT NULL,
        dimensions integer NOT NULL,
        text_hash text NOT NULL,
        ${column},
        created timestamptz NOT NULL DEFAULT now(),
        UNIQUE (entry_id, model)
      )`,
      `CREATE INDEX idx_embeddings_owner ON embeddings (owner_id)`,
      `CREATE INDEX idx_embeddings_entry ON embeddings (entry_id)`,
    ]
    if (vectorMode === 'pgvector') {
      statements.push(`CREATE INDEX idx_embeddings_vector_hnsw ON embeddings USING hnsw (embedding vector_cosine_ops) WITH (m = 16, ef_construction = 64)`)
    } else {
      // Exact cosine distance for PostgreSQL without pgvector; NULL when a norm is 0 so such rows rank last.
      statements.push(`CREATE FUNCTION awareness_cos_dist(a real[], an double precision, b real[], bn double precision)
        RETURNS double precision LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE AS
        $$ SELECT CASE WHEN an = 0 OR bn = 0 THEN NULL
                       ELSE 1 - (SELECT sum(x * y) FROM unnest(a, b) AS t(x, y)) / (an * bn) END $$`)
    }
    return run(tx, statements)
  },
}

const usersAndSystem: Migration = {
  version: '0003_users_and_system_tables',
  up: (tx) =>
    run(tx, [
      `CREATE TABLE users (
        id text PRIMARY KEY,
        email text,
        canonical_email text UNIQUE,
        email_verified boolean NOT NULL DEFAULT false,
        phone text,
        phone_verified boolean NOT NULL DEFAULT false,
        password_hash text,
        display_name text,
        timezone text DEFAULT 'UTC',
        preferences jsonb NOT NULL DEFAULT '{}',
        oauth_subject text,
        oauth_issuer text,
        created timestamptz NOT NULL DEFAULT now(),
        updated timestamptz,
        deleted timestamptz
      )`,
      `CREATE UNIQUE INDEX ix_users_oauth_identity ON users (oauth_issuer, oauth_subject) WHERE oauth_issuer IS NOT NULL`,
      `CREATE INDEX ix_users_oauth_subject ON users (oauth_subject) WHERE oauth_subject IS NOT NULL`,
      `INSERT INTO users (id, display_name) VALUES ('_system', 'System-managed schemas') ON CONFLICT DO NOTHING`,
      // Candidate owners for cleanup, readable without an owner context (data-and-engine.md §9.3, Ours).
      `CREATE TABLE owner_settings (owner_id text PRIMARY KEY, auto_cleanup_seen timestamptz NOT NULL DEFAULT now())`,
      // One row per background job; a lease lets exactly one instance run it (§9.3).
      `CREATE TABLE job_leases (name text PRIMARY KEY, holder text, lease_until timestamptz)`,
    ]),
}

/** Policies split per command: the `_system` schema carve-out applies to SELECT only (defect §12.30). */
function policies(table: string, selectUsing: string): string[] {
  return [
    `ALTER TABLE ${table} ENABLE ROW LEVEL SECURITY`,
    `ALTER TABLE ${table} FORCE ROW LEVEL SECURITY`,
    `CREATE POLICY owner_select ON ${table} FOR SELECT USING (${selectUsing})`,
    `CREATE POLICY owner_insert ON ${table} FOR INSERT WITH CHECK (owner_id = ${OWNER})`,
    `CREATE POLICY owner_update ON ${table} FOR UPDATE USING (owner_id = ${OWNER}) WITH CHECK (owner_id = ${OWNER})`,
    `CREATE POLICY owner_delete ON ${table} FOR DELETE USING (owner_id = ${OWNER})`,
  ]
}

const rowLevelSecurity: Migration = {
  version: '0004_row_level_security',
  up: async (tx) => {
    await run(tx, [
      ...policies('entries', `owner_id = ${OWNER} OR (owner_id = '_system' AND type = 'schema')`),
      ...policies('reads', `owner_id = ${OWNER}`),
      ...policies('actions', `owner_id = ${OWNER}`),
      ...policies('embeddings', `owner_id = ${OWNER}`),
    ])
    // A role that cannot bypass RLS, switched to inside every owner transaction. Roles are cluster-wide,
    // so another database (or a concurrent test run) may have created it already.
    await tx.unsafe(`DO $$ BEGIN
        CREATE ROLE awareness_rls NOLOGIN NOSUPERUSER NOBYPASSRLS;
      EXCEPTION WHEN duplicate_object OR unique_violation THEN NULL;
               WHEN insufficient_privilege THEN RAISE NOTICE 'awareness: cannot create role awareness_rls';
      END $$`)
    await tx.unsafe(`DO $$ BEGIN
        IF EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'awareness_rls') THEN
          GRANT USAGE ON SCHEMA public TO awareness_rls;
          GRANT SELECT, INSERT, UPDATE, DELETE ON entries, reads, actions, embeddings TO awareness_rls;
          GRANT SELECT ON users TO awareness_rls;
          GRANT SELECT, INSERT, UPDATE ON owner_settings TO awareness_rls;
          GRANT USAGE, SELECT ON SEQUENCE reads_id_seq, actions_id_seq, embeddings_id_seq TO awareness_rls;
          BEGIN
            EXECUTE format('GRANT awareness_rls TO %I', current_user);
          EXCEPTION WHEN OTHERS THEN NULL;
          END;
        END IF;
      END $$`)
  },
}

const readCounters: Migration = {
  version: '0005_read_counts',
  up: async (tx) => {
    await run(tx, [
      // Per-entry read counters next to the read log, so list pages get read counts in O(page size).
      `CREATE TABLE read_counts (
        entry_id text PRIMARY KEY REFERENCES entries(id) ON DELETE CASCADE,
        owner_id text NOT NULL,
        read_count integer NOT NULL,
        last_read timestamptz NOT NULL
      )`,
      `CREATE INDEX idx_read_counts_owner ON read_counts (owner_id)`,
      `INSERT INTO read_counts (entry_id, owner_id, read_count, last_read)
         SELECT entry_id, owner_id, count(*), max("timestamp") FROM reads GROUP BY entry_id, owner_id`,
      ...policies('read_counts', `owner_id = ${OWNER}`),
    ])
    await tx.unsafe(`DO $$ BEGIN
        IF EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'awareness_rls') THEN
          GRANT SELECT, INSERT, UPDATE, DELETE ON read_counts TO awareness_rls;
        END IF;
      END $$`)
  },
}

const ownerLanguages: Migration = {
  version: '0006_owner_languages',
  up: async (tx) => {
    // Search analyses a question once per language the owner's entries are stored in; this index lets it
    // find those few languages with a handful of probes (a loose index scan) instead of reading every row.
    await run(tx, [`CREATE INDEX idx_entries_owner_language ON entries (owner_id, language) WHERE deleted IS NULL`])
  },
}

const ownerPinnedSearch: Migration = {
  version: '0007_owner_pinned_search',
  up: async (tx) => {
    await run(tx, [
      // The full-text statement's view of entries (audit L1): pinned to the transaction's owner by its own
      // definition, and owned by the migrating role, which bypasses row-level security — so the GIN index
      // stays usable (under the policy `@@`, not LEAKPROOF, forces a scan of every row of the owner) while
      // no statement has to leave the awareness_rls role for it. Not a security-barrier view: callers never
      // supply SQL or functions, and the barrier would stop the index quals being pushed down.
      `CREATE VIEW entries_fts AS SELECT * FROM entries WHERE owner_id = current_setting('app.current_user', true)`,
      `REVOKE ALL ON entries_fts FROM PUBLIC`,
      // users holds e-mail addresses and password hashes: under awareness_rls an owner reads only its own
      // row (timezone, preferences) (audit L10). Not forced, so the connection's own role (system work:
      // authentication, the CLI) is unaffected.
      `ALTER TABLE users ENABLE ROW LEVEL SECURITY`,
      `CREATE POLICY self_select ON users FOR SELECT USING (id = ${OWNER})`,
    ])
    await tx.unsafe(`DO $$ BEGIN
        IF EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'awareness_rls') THEN
          GRANT SELECT ON entries_fts TO awareness_rls;
        END IF;
      END $$`)
  },
}

export const MIGRATIONS: readonly Migration[] = [core, embeddings, usersAndSystem, rowLevelSecurity, readCounters, ownerLanguages, ownerPinnedSearch]
