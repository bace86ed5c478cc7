/**
 * Which embedding provider a database gets and keeps: the built-in sentence model by default for a new
 * embedded database, the recorded provider on later starts, and `awareness reembed` to switch providers
 * (and vector size) with progress, on both backends.
 */
import t, { type Test } from 'tap'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { chooseEmbedding } from '../app/embedding-choice.js'
import { HASH_MODEL, LOCAL_DIMENSIONS, LOCAL_MODEL, creationProvider, loadConfig } from '../core/config.js'
import { Store, storeOptions } from '../store/index.js'
import { insertEntry } from '../store/queries/entries.js'
import { upsertEmbeddings } from '../store/queries/embeddings.js'
import { backends, createDatabase, type Backend } from './helpers.js'
import { cli } from './fixtures/cli.js'

t.test('a new database is created for the named provider, or for the local model when embedded', async (t) => {
  t.equal(creationProvider(loadConfig({})), 'local', 'embedded, nothing named: the built-in model')
  t.equal(creationProvider(loadConfig({ AWARENESS_DATABASE_URL: 'postgres://h/db' })), '', 'PostgreSQL, nothing named: none')
  t.equal(creationProvider(loadConfig({ AWARENESS_EMBEDDING_PROVIDER: 'hash' })), 'hash')
  t.equal(creationProvider(loadConfig({ AWARENESS_EMBEDDING_PROVIDER: 'none' })), '', "'none' opts out on the embedded database too")
  t.equal(chooseEmbedding(loadConfig({ AWARENESS_EMBEDDING_PROVIDER: 'none' }), { embeddingProvider: 'local', vectorDimensions: 512 }).config.embedding.provider, '', 'and on a database created for local')
  t.equal(storeOptions(loadConfig({}), () => undefined).dimensions, LOCAL_DIMENSIONS)
  t.equal(storeOptions(loadConfig({ AWARENESS_EMBEDDING_PROVIDER: 'hash', AWARENESS_EMBEDDING_DIMENSIONS: '256' }), () => undefined).dimensions, 256)
  t.throws(() => loadConfig({ AWARENESS_EMBEDDING_PROVIDER: 'local', AWARENESS_EMBEDDING_DIMENSIONS: '768' }), /makes 512-dimensional vectors/)
})

t.test('a start without a named provider uses the one the database records', async (t) => {
  const unnamed = loadConfig({})
  const space = (embeddingProvider: string | undefined, vectorDimensions = 768) => ({ embeddingProvider, vectorDimensions })
  const local = chooseEmbedding(unnamed, space('local', 512)).config.embedding
  t.same([local.provider, local.model, local.dimensions], ['local', LOCAL_MODEL, LOCAL_DIMENSIONS])
  const hash = chooseEmbedding(unnamed, space('hash', 384)).config.embedding
  t.same([hash.provider, hash.model, hash.dimensions], ['hash', HASH_MODEL, 384], 'hash at the recorded size')
  const older = chooseEmbedding(unnamed, space(undefined))
  t.equal(older.config.embedding.provider, '', 'an older database without a record stays lexical')
  t.match(older.warning, /awareness reembed --provider local/, 'and the start log says how to change that')
  t.equal(chooseEmbedding(unnamed, space('')).config.embedding.provider, '')
  const remote = chooseEmbedding(unnamed, space('ollama'))
  t.equal(remote.config.embedding.provider, '')
  t.match(remote.warning, /embedded with the ollama provider/, 'a remote provider needs its settings: said once at start')
  const named = loadConfig({ AWARENESS_EMBEDDING_PROVIDER: 'hash' })
  t.equal(chooseEmbedding(named, space('local', 512)).config, named, 'a named provider always wins')
})

/** A fresh database of `backend` created for the hash provider (768 dimensions), with three notes embedded. */
async function hashDatabase(tt: Test, backend: Backend): Promise<{ env: Record<string, string>; open: () => Promise<Store> }> {
  let env: Record<string, string>
  if (backend === 'postgres') {
    const db = await createDatabase('reembed')
    tt.teardown(db.drop)
    env = { AWARENESS_DATABASE_URL: db.url }
  } else {
    const dir = mkdtempSync(join(tmpdir(), 'awareness-reembed-'))
    tt.teardown(() => rmSync(dir, { recursive: true, force: true }))
    env = { AWARENESS_DATA_DIR: dir }
  }
  const open = () => Store.open(storeOptions(loadConfig({ ...env, AWARENESS_EMBEDDING_PROVIDER: 'hash' }), () => undefined))
  const store = await open()
  try {
    t.equal(store.embeddingProvider, 'hash')
    for (const owner of ['alice', 'bob']) {
      await store.withOwner(owner, async (tx) => {
        for (const d of ['watering the tomatoes', 'the garage code changed']) {
          const e = await insertEntry(tx, owner, { type: 'note', source: 's', tags: [], data: { description: `${owner}: ${d}` } })
          await upsertEmbeddings(tx, store.vectorMode, owner, HASH_MODEL, [{ entryId: e.id, textHash: 'x', vector: new Array(768).fill(1 / Math.sqrt(768)) }])
        }
      })
    }
  } finally {
    await store.close()
  }
  return { env, open: () => Store.open({ ...storeOptions(loadConfig(env), () => undefined) }) }
}

const reembed = (args: string[], env: Record<string, string>) => cli('main', ['reembed', ...args], env)

for (const backend of backends()) {
  t.test(`reembed switches a hash database to the local model, every owner, with progress, on ${backend}`, async (t) => {
    const { env, open } = await hashDatabase(t, backend)
    const refused = await reembed([], env)
    t.equal(refused.code, 2, 'no provider named: a usage error')
    t.match(refused.stderr, /name a provider/)
    const r = await reembed(['--provider', 'local'], env)
    t.equal(r.code, 0, r.stderr)
    t.match(r.stdout, /Dropped 4 embeddings; the database now holds 512-dimensional vectors of local/)
    t.match(r.stdout, /alice: 2 embedded, 0 to go\n/)
    t.match(r.stdout, /bob: 2 embedded, 0 to go\n/)
    t.match(r.stdout, /Re-embedding complete/)
    const store = await open()
    t.teardown(() => store.close())
    t.same([store.embeddingProvider, store.vectorDimensions], ['local', LOCAL_DIMENSIONS], 'the database records its new space')
    const models = await store.sql`SELECT model, count(*)::int AS n FROM embeddings GROUP BY model`
    t.same(models.map((m) => [m.model, m.n]), [[LOCAL_MODEL, 4]], 'only local vectors remain, one per entry')
    t.equal(chooseEmbedding(loadConfig(env), store).config.embedding.provider, 'local', 'the next start uses it without being told')
  })
}
