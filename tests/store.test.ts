/**
 * The store: the lazy singleton under concurrent first callers, migrations, the recorded vector mode,
 * owner isolation enforced by RLS below the application, and the embedded data-directory lock.
 */
import t, { type Test } from 'tap'
import { chmodSync, mkdirSync, mkdtempSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { buildApp } from '../app/app.js'
import { closeStore, getStore, storesOpened, type StoreOptions } from '../store/index.js'
import { migrate } from '../store/migrate.js'
import { backends, createDatabase, openStore, silentLogger, testConfig, uniqueOwner } from './helpers.js'

async function storeOptions(t: Test, backend: string): Promise<StoreOptions> {
  if (backend === 'pglite') return { databaseUrl: '', dataDir: 'memory://', dimensions: 768 }
  const db = await createDatabase('single')
  t.teardown(db.drop)
  return { databaseUrl: db.url, dataDir: 'memory://', dimensions: 768 }
}

for (const backend of backends()) {
  t.test(`lazy singleton on ${backend}`, async (t) => {
    t.test('20 concurrent first calls create exactly one store (one pool)', async (t) => {
      const opts = await storeOptions(t, backend)
      const before = storesOpened()
      const stores = await Promise.all(Array.from({ length: 20 }, () => getStore(opts)))
      t.equal(storesOpened() - before, 1, 'one store opened')
      t.ok(stores.every((s) => s === stores[0]), 'every caller got the same instance')
      await closeStore()
    })

    t.test('a failing first open is not cached: the next caller retries', async (t) => {
      const good = await storeOptions(t, backend)
      const dir = mkdtempSync(join(tmpdir(), 'awareness-bad-'))
      const notADir = join(dir, 'file')
      writeFileSync(notADir, 'x')
      t.teardown(() => rmSync(dir, { recursive: true, force: true }))
      const bad: StoreOptions = backend === 'pglite' ? { ...good, dataDir: join(notADir, 'sub') } : { ...good, databaseUrl: 'postgres://postgres@127.0.0.1:1/none' }
      const failures = await Promise.allSettled(Array.from({ length: 5 }, () => getStore(bad)))
      t.ok(failures.every((f) => f.status === 'rejected'), 'every concurrent caller sees the failure')
      const before = storesOpened()
      const store = await getStore(good)
      t.equal(storesOpened() - before, 1)
      t.equal(await store.ping(), true)
      await closeStore()
    })

    t.test('20 concurrent first HTTP requests to a fresh app open one store', async (t) => {
      const opts = await storeOptions(t, backend)
      const config = testConfig({ AWARENESS_DATABASE_URL: opts.databaseUrl, AWARENESS_DEFAULT_OWNER: uniqueOwner() })
      const app = await buildApp({ config, logger: silentLogger() })
      t.teardown(async () => {
        await app.close()
        await closeStore()
      })
      const before = storesOpened()
      const replies = await Promise.all(
        Array.from({ length: 20 }, (_, i) =>
          app.inject({
            method: 'POST',
            url: '/mcp',
            headers: { 'content-type': 'application/json', accept: 'application/json, text/event-stream' },
            payload: { jsonrpc: '2.0', id: i, method: 'tools/call', params: { name: 'get_stats', arguments: {} } },
          }),
        ),
      )
      t.same(replies.map((r) => r.statusCode), Array(20).fill(200))
      t.ok(replies.every((r) => r.json().result.isError !== true), 'every call succeeded')
      t.equal(storesOpened() - before, 1, 'exactly one store behind 20 racing requests')
    })
  })

  t.test(`schema and isolation on ${backend}`, async (t) => {
    const { store, dispose } = await openStore(backend)
    t.teardown(dispose)

    t.test('migrations run twice are a no-op; the vector mode is recorded and does not flip', async (t) => {
      t.equal(store.vectorMode, backend === 'pglite' ? 'pgvector' : 'array', 'pgvector in PGlite, arrays on PostgreSQL without it')
      const again = await migrate(store.sql, { dimensions: 384 })
      t.same(again.applied, [], 'nothing applied the second time')
      t.equal(again.vectorMode, store.vectorMode)
      t.equal(again.dimensions, 768, 'the recorded dimension wins over a new setting')
      const tables = await store.sql`SELECT tablename FROM pg_tables WHERE schemaname = 'public' ORDER BY 1`
      t.same(tables.map((r) => r.tablename), ['actions', 'awareness_meta', 'embeddings', 'entries', 'job_leases', 'owner_settings', 'read_counts', 'reads', 'schema_migrations', 'users'])
      const forced = await store.sql`SELECT relname FROM pg_class WHERE relforcerowsecurity ORDER BY 1`
      t.same(forced.map((r) => r.relname), ['actions', 'embeddings', 'entries', 'read_counts', 'reads'], 'RLS forced on every owner-scoped table')
      if (backend === 'postgres') {
        // A database recorded as pgvector must never quietly continue in array mode.
        await store.sql`UPDATE awareness_meta SET value = 'pgvector' WHERE key = 'vector_mode'`
        await t.rejects(migrate(store.sql, { dimensions: 768 }), /vector/)
        await store.sql`UPDATE awareness_meta SET value = 'array' WHERE key = 'vector_mode'`
      }
    })

    t.test('RLS isolates owners below the application (queries without an owner filter)', async (t) => {
      t.equal(store.rlsRole, true, 'the connection role bypasses RLS, so owner transactions switch to the non-bypass role')
      const alice = uniqueOwner('alice')
      const bob = uniqueOwner('bob')
      const insert = (owner: string, id: string, type = 'note') =>
        store.withOwner(owner, (tx) => tx`INSERT INTO entries (id, owner_id, type, source, created, tags, data) VALUES (${id}, ${owner}, ${type}, 's', now(), '[]', '{}')`)
      await insert(alice, `${alice}-1`)
      await insert(bob, `${bob}-1`)
      const seenByBob = await store.withOwner(bob, (tx) => tx`SELECT id FROM entries WHERE id IN (${`${alice}-1`}, ${`${bob}-1`})`)
      t.same(seenByBob.map((r) => r.id), [`${bob}-1`], 'no owner filter, still only bob\'s row')
      const seenWithoutRls = await store.system((tx) => tx`SELECT id FROM entries WHERE id IN (${`${alice}-1`}, ${`${bob}-1`}) ORDER BY id`)
      t.equal(seenWithoutRls.length, 2, 'the same query without the role switch sees both: the policy is load-bearing')
      const updated = await store.withOwner(bob, (tx) => tx`UPDATE entries SET source = 'x' WHERE id = ${`${alice}-1`}`)
      t.equal(updated.count, 0, 'bob cannot update alice\'s row')
      await t.rejects(insert(bob, `${bob}-forged`).then(() => store.withOwner(bob, (tx) => tx`INSERT INTO entries (id, owner_id, type, source, created) VALUES (${`${bob}-x`}, ${alice}, 'note', 's', now())`)), /row-level security/, 'bob cannot write a row as alice')
      await t.rejects(store.withOwner(alice, (tx) => tx`INSERT INTO entries (id, owner_id, type, source, created) VALUES (${`${alice}-sys`}, '_system', 'schema', 's', now())`), /row-level security/, 'nobody writes as _system through an owner context')
      await store.withOwner('_system', async (tx) => {
        await tx`INSERT INTO entries (id, owner_id, type, source, created) VALUES (${`${alice}-sys-schema`}, '_system', 'schema', 's', now())`
        await tx`INSERT INTO entries (id, owner_id, type, source, created) VALUES (${`${alice}-sys-note`}, '_system', 'note', 's', now())`
      })
      const carveOut = await store.withOwner(bob, (tx) => tx`SELECT id FROM entries WHERE owner_id = '_system' AND id LIKE ${`${alice}-sys%`}`)
      t.same(carveOut.map((r) => r.id), [`${alice}-sys-schema`], '_system schemas are readable by every owner, other _system rows are not')
      const deleted = await store.withOwner(bob, (tx) => tx`DELETE FROM entries WHERE id = ${`${alice}-sys-schema`}`)
      t.equal(deleted.count, 0, 'the read carve-out does not extend to DELETE')
      const [after] = await store.sql`SELECT current_setting('app.current_user', true) AS owner`
      t.ok(after.owner === null || after.owner === '', 'the owner setting does not outlive its transaction')
      await t.rejects(store.withOwner('', async () => 1), /owner/)
    })

    t.test('the owner settings precede statements queued at once, without awaiting anything', async (t) => {
      const owner = uniqueOwner('eager')
      // Promise.all sends the statement in the same tick withOwner starts its (unawaited) setup.
      const [[eager]] = await store.withOwner(owner, (tx) => Promise.all([tx`SELECT current_user AS role, current_setting('app.current_user', true) AS owner, current_setting('plan_cache_mode') AS plans`]))
      t.same(eager, { role: 'awareness_rls', owner, plans: 'auto' }, 'the first statement already runs as the owner, under RLS')
      const [custom] = await store.withOwner(owner, (tx) => tx`SELECT current_setting('plan_cache_mode') AS plans`, { customPlans: true })
      t.equal(custom.plans, 'force_custom_plan', 'customPlans switches the transaction to custom plans')
      await t.rejects(store.withOwner(owner, (tx) => Promise.all([tx`SELECT 1/0`])), /division by zero/, 'a failing statement still fails the transaction')
    })
  })
}

t.test('the embedded data directory is private (audit M7)', async (t) => {
  const parent = mkdtempSync(join(tmpdir(), 'awareness-private-'))
  t.teardown(() => rmSync(parent, { recursive: true, force: true }))
  const dir = join(parent, 'data')
  const { Store } = await import('../store/index.js')
  const store = await Store.open({ databaseUrl: '', dataDir: dir, dimensions: 8 })
  await store.close()
  // Before the fix: ./data was 0755, and PGlite's 900 files 0666: any local user could read every owner's notes.
  mkdirSync(join(dir, 'loose'), { mode: 0o755 })
  writeFileSync(join(dir, 'loose', 'file'), 'x', { mode: 0o666 })
  chmodSync(join(dir, 'loose', 'file'), 0o666)
  chmodSync(dir, 0o755)
  const again = await Store.open({ databaseUrl: '', dataDir: dir, dimensions: 8 })
  await again.close()
  const modes = new Map<string, number>()
  const walk = (path: string): void => {
    modes.set(path, statSync(path).mode & 0o777)
    if (statSync(path).isDirectory()) for (const name of readdirSync(path)) walk(join(path, name))
  }
  walk(dir)
  const open = [...modes].filter(([path, mode]) => mode !== (statSync(path).isDirectory() ? 0o700 : 0o600))
  t.same(open, [], `every one of ${modes.size} paths is 0700 (directories) or 0600 (files), opened twice`)
})
