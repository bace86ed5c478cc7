/**
 * register_schema and create_record through real MCP clients of both protocol eras, on every backend
 * (mcp-surface.md §3.26, §3.27, §4.4, D6–D8, D10, D21, checklist §10), plus the bad-input matrix.
 */
import t from 'tap'
import { randomUUID } from 'node:crypto'
import type { Store } from '../store/index.js'
import { backends, call, clientV1, clientV2, snapshot, startServer } from './helpers.js'

const NASTY = `'; DROP TABLE entries; -- %s {} \\ "quoted" $1 ' OR '1'='1 /* */`
const BIG = 'x'.repeat(1024 * 1024)

const PERSON = {
  type: 'object',
  properties: { name: { type: 'string' }, age: { type: 'integer' } },
  required: ['name'],
}

async function state(store: Store, owner: string): Promise<string> {
  const [row] = await store.withOwner(owner, (tx) => tx`
    SELECT md5(coalesce(string_agg(concat_ws('|', id, type, source, created, updated, expires, deleted, tags::text, data::text, logical_key, language::text), ',' ORDER BY id), '')) AS h
    FROM entries WHERE owner_id = ${owner}`)
  return `${await snapshot(store, owner)}|${row.h as string}`
}

/** Operators seed `_system` schemas outside MCP; the tests do it with a raw insert. */
async function seedSystemSchema(store: Store, family: string, version: string, schema: object): Promise<string> {
  const id = randomUUID()
  await store.system((tx) => tx`
    INSERT INTO entries (id, owner_id, type, source, created, tags, data, logical_key)
    VALUES (${id}, '_system', 'schema', 'system', now(), '[]',
            ${tx.json({ family, version, schema, description: 'seeded', learned_from: 'cli-bootstrap' } as never)}, ${`${family}:${version}`})`)
  return id
}

const family = () => `schema:t-${randomUUID().slice(0, 8)}`

function recorder(): { schedule(owner: string, id: string): void; ids: string[] } {
  const ids: string[] = []
  return { ids, schedule: (_owner, id) => void ids.push(id) }
}

for (const backend of backends()) {
  t.test(`record tools on ${backend}`, async (t) => {
    for (const [era, connect] of [['2025-era', clientV1], ['2026-era', clientV2]] as const) {
      t.test(`register_schema (${era} client)`, async (t) => {
        const embed = recorder()
        const srv = await startServer(t, { backend, embed })
        const c = await connect(t, srv.url)
        const f = family()
        const r = await call(c, 'register_schema', { source: 'crm', tags: ['people'], description: 'A person with a name and an age', family: f, version: '1.0', schema: PERSON, language: 'en' })
        t.equal(r.isError, false)
        t.same(r.body, { status: 'ok', id: r.body.id, logical_key: `${f}:1.0` })
        t.same(embed.ids, [r.body.id], 'embedding scheduled')
        const [e] = (await call(c, 'get_knowledge', { entry_type: 'schema' })).body.entries
        t.equal(e.id, r.body.id)
        t.same(e.data, { family: f, version: '1.0', schema: PERSON, description: 'A person with a name and an age', learned_from: 'conversation' })
        t.equal(e.logical_key, `${f}:1.0`)
        t.equal(e.language, 'english')
        t.same(e.tags, ['people'])

        const dup = await call(c, 'register_schema', { source: 'crm', tags: [], description: 'again', family: f, version: '1.0', schema: PERSON })
        t.equal(dup.isError, true)
        t.equal(dup.body.error.code, 'schema_already_exists')
        t.equal(dup.body.error.logical_key, `${f}:1.0`)
        t.equal(dup.body.error.existing_id, r.body.id)
        const elsewhere = await call(c, 'register_schema', { source: 'other-source', tags: [], description: 'again', family: f, version: '1.0', schema: PERSON })
        t.equal(elsewhere.body.error.code, 'schema_already_exists', 'D8: one per (owner, family:version) across sources')
        t.equal(elsewhere.body.error.existing_id, r.body.id)
        const v2 = await call(c, 'register_schema', { source: 'crm', tags: [], description: 'v2', family: f, version: '2.0', schema: '{"type":"object"}' })
        t.equal(v2.isError, false, 'another version is another schema; a JSON-text object is accepted')

        const bad = await call(c, 'register_schema', { source: 'crm', tags: [], description: 'd', family: f, version: '3', schema: { type: 'strng' } })
        t.equal(bad.body.error.code, 'invalid_schema')
        t.match(bad.body.error.message, /^Schema does not conform to JSON Schema Draft 2020-12: /)
        t.equal(bad.body.error.retryable, false)
        for (const [field, args] of [
          ['family', { family: '', version: '1' }],
          ['version', { family: f, version: '' }],
          ['family', { family: '', version: '', schema: { type: 'strng' } }],
        ] as const) {
          const r2 = await call(c, 'register_schema', { source: 's', tags: [], description: 'd', schema: PERSON, ...args })
          t.equal(r2.body.error.code, 'invalid_parameter', `empty ${field}`)
          t.equal(r2.body.error.param, field, 'family, then version, then the meta-schema')
        }
        const version = await call(c, 'register_schema', { source: 's', tags: [], description: 'd', family: f, version: '', schema: { type: 'strng' } })
        t.equal(version.body.error.param, 'version', 'version checked before the meta-schema')
      })

      t.test(`create_record upsert, validation and pin (${era} client)`, async (t) => {
        const embed = recorder()
        const srv = await startServer(t, { backend, embed })
        const c = await connect(t, srv.url)
        const f = family()
        await call(c, 'register_schema', { source: 'crm', tags: [], description: 'person', family: f, version: '1', schema: PERSON })
        await call(c, 'register_schema', { source: 'crm', tags: [], description: 'person v2', family: f, version: '2', schema: PERSON })
        embed.ids.length = 0
        const base = { source: 'crm', tags: ['p'], description: 'Ada', logical_key: 'ada', schema_ref: f, schema_version: '1' }
        const a = await call(c, 'create_record', { ...base, content: { name: 'Ada', age: 36 } })
        t.same(a.body, { status: 'ok', id: a.body.id, action: 'created' })
        const b = await call(c, 'create_record', { ...base, description: 'Ada Lovelace', content: { name: 'Ada', age: 37 } })
        t.same(b.body, { status: 'ok', id: a.body.id, action: 'updated' }, 'same id, no payload echoed')
        const same = await call(c, 'create_record', { ...base, description: 'Ada Lovelace', content: { age: 37, name: 'Ada' } })
        t.equal(same.body.action, 'updated', 'identical re-send (key order aside) is still "updated"')
        t.same(embed.ids, [a.body.id, a.body.id, a.body.id])
        const [rec] = (await call(c, 'get_knowledge', { entry_type: 'record', include_history: 'true' })).body.entries
        t.same(rec.data.content, { name: 'Ada', age: 37 }, 'content stored as native JSON')
        t.equal(rec.data.schema_ref, f)
        t.equal(rec.data.schema_version, '1')
        t.equal(rec.data.learned_from, 'conversation')
        t.equal(rec.logical_key, 'ada')
        t.equal(rec.data.changelog.length, 1, 'one record for the real change, none for the identical re-send')
        t.same(rec.data.changelog[0].changed, { description: 'Ada', content: { name: 'Ada', age: 36 } })

        const invalid = await call(c, 'create_record', { ...base, logical_key: 'bad', content: { age: 'thirty' } })
        t.equal(invalid.isError, true)
        t.equal(invalid.body.error.code, 'validation_failed')
        t.equal(invalid.body.error.message, `Record content does not conform to schema ${f}:1 (2 errors)`)
        t.equal(invalid.body.error.schema_ref, f)
        t.equal(invalid.body.error.schema_version, '1')
        t.same(
          invalid.body.error.validation_errors.map((e: Record<string, string>) => [e.path, e.validator, e.schema_path]),
          [
            ['$', 'required', '/required'],
            ['$.age', 'type', '/properties/age/type'],
          ],
        )
        t.notOk('truncated' in invalid.body.error)

        const pinned = await call(c, 'create_record', { ...base, schema_version: '2', content: { name: 'Ada' } })
        t.equal(pinned.body.error.code, 'record_schema_pin_immutable', 'D6')
        t.equal(pinned.body.error.param, 'schema_version')
        t.equal(pinned.body.error.value, '2')
        t.equal(pinned.body.error.pinned_schema_ref, f)
        t.equal(pinned.body.error.pinned_schema_version, '1')
        const other = family()
        await call(c, 'register_schema', { source: 'crm', tags: [], description: 'other', family: other, version: '1', schema: { type: 'object' } })
        const pinnedRef = await call(c, 'create_record', { ...base, schema_ref: other, content: 'not even valid for v1' })
        t.equal(pinnedRef.body.error.code, 'record_schema_pin_immutable', 'checked before content validation')
        t.equal(pinnedRef.body.error.param, 'schema_ref')
        t.equal(pinnedRef.body.error.value, other)
        const after = (await call(c, 'get_knowledge', { entry_type: 'record' })).body.entries
        t.equal(after.length, 1, 'failed calls left no record behind')
        t.same(after[0].data.content, { name: 'Ada', age: 37 })
      })
    }

    t.test('create_record content normalisation (D10) and native types', async (t) => {
      const srv = await startServer(t, { backend })
      const c = await clientV1(t, srv.url)
      const f = family()
      await call(c, 'register_schema', { source: 's', tags: [], description: 'anything', family: f, version: '1', schema: {} })
      const cases: [unknown, unknown][] = [
        ['{"a": 1}', { a: 1 }],
        [' [1, "two"]', [1, 'two']],
        ['42', '42'],
        ['plain text', 'plain text'],
        ['{broken', '{broken'],
        ['null', 'null'],
        [42, 42],
        [true, true],
        [null, null],
        [{ nested: { n: 1.5 } }, { nested: { n: 1.5 } }],
      ]
      for (const [i, [input, stored]] of cases.entries()) {
        const r = await call(c, 'create_record', { source: 's', tags: [], description: `case ${i}`, logical_key: `k${i}`, schema_ref: f, schema_version: '1', content: input })
        t.equal(r.isError, false, JSON.stringify(input))
        const [e] = (await call(c, 'get_knowledge', { entry_type: 'record', tags: [], source: 's', limit: 100 })).body.entries.filter((x: { id: string }) => x.id === r.body.id)
        t.same(e.data.content, stored, `${JSON.stringify(input)} stored as ${JSON.stringify(stored)}`)
        t.equal(typeof e.data.content, typeof stored)
      }
      // §2.15: a null content on the upsert path leaves the stored content alone.
      const keep = await call(c, 'create_record', { source: 's', tags: [], description: 'case 0', logical_key: 'k0', schema_ref: f, schema_version: '1', content: null })
      t.equal(keep.body.action, 'updated')
      const [k0] = (await call(c, 'get_knowledge', { entry_type: 'record' })).body.entries.filter((x: { logical_key: string }) => x.logical_key === 'k0')
      t.same(k0.data.content, { a: 1 })
    })

    t.test('resolution: own schema, then _system; never another owner (§4.4.2)', async (t) => {
      const alice = await startServer(t, { backend })
      const bob = await startServer(t, { backend })
      const a = await clientV1(t, alice.url)
      const b = await clientV2(t, bob.url)
      const shared = family()
      await seedSystemSchema(alice.store, shared, '1', { type: 'object', required: ['system'] })
      for (const [who, c] of [['alice', a], ['bob', b]] as const) {
        const ok = await call(c, 'create_record', { source: 's', tags: [], description: 'd', logical_key: 'k', schema_ref: shared, schema_version: '1', content: { system: who } })
        t.equal(ok.body.action, 'created', `${who} can use the _system schema`)
      }
      // Alice's own version of the same key overrides _system for her only.
      await call(a, 'register_schema', { source: 's', tags: [], description: 'mine', family: shared, version: '1', schema: { type: 'object', required: ['mine'] } })
      const mine = await call(a, 'create_record', { source: 's', tags: [], description: 'd', logical_key: 'k2', schema_ref: shared, schema_version: '1', content: { system: 1 } })
      t.equal(mine.body.error.code, 'validation_failed', "alice's schema wins over _system")
      t.equal(mine.body.error.validation_errors[0].validator, 'required')
      t.match(mine.body.error.validation_errors[0].message, /mine/)
      t.equal((await call(b, 'create_record', { source: 's', tags: [], description: 'd', logical_key: 'k2', schema_ref: shared, schema_version: '1', content: { system: 1 } })).isError, false, 'bob still resolves _system')
      // A schema only Alice has is invisible to Bob.
      const private_ = family()
      await call(a, 'register_schema', { source: 's', tags: [], description: 'private', family: private_, version: '1', schema: {} })
      const before = [await state(alice.store, alice.owner), await state(bob.store, bob.owner)]
      const missing = await call(b, 'create_record', { source: 's', tags: [], description: 'd', logical_key: 'k3', schema_ref: private_, schema_version: '1', content: {} })
      t.equal(missing.isError, true)
      t.equal(missing.body.error.code, 'schema_not_found')
      t.equal(missing.body.error.schema_ref, private_)
      t.equal(missing.body.error.schema_version, '1')
      t.same(missing.body.error.searched_owners, [bob.owner, '_system'])
      t.match(missing.body.error.message, `${private_}:1`)
      t.same(before, [await state(alice.store, alice.owner), await state(bob.store, bob.owner)], 'nothing changed for either owner')
      // _system schemas are never listed as the caller's own and cannot be deleted through MCP.
      t.equal((await call(b, 'get_knowledge', { entry_type: 'schema' })).body.entries.length, 0)
    })

    t.test('a trashed schema no longer resolves; the key is free again', async (t) => {
      const srv = await startServer(t, { backend })
      const c = await clientV1(t, srv.url)
      const f = family()
      const s = await call(c, 'register_schema', { source: 's', tags: [], description: 'd', family: f, version: '1', schema: {} })
      await call(c, 'delete_entry', { entry_id: s.body.id })
      const r = await call(c, 'create_record', { source: 's', tags: [], description: 'd', logical_key: 'k', schema_ref: f, schema_version: '1', content: 1 })
      t.equal(r.body.error.code, 'schema_not_found')
      const again = await call(c, 'register_schema', { source: 's', tags: [], description: 'd', family: f, version: '1', schema: {} })
      t.equal(again.isError, false, 'a trashed schema releases family:version')
    })

    t.test('key conflicts with other types (D7) and the empty key (D21)', async (t) => {
      const srv = await startServer(t, { backend })
      const c = await clientV2(t, srv.url)
      const f = family()
      await call(c, 'register_schema', { source: 's', tags: [], description: 'd', family: f, version: '1', schema: {} })
      const note = await call(c, 'remember', { source: 's', tags: [], description: 'a note', logical_key: 'taken' })
      const keyNote = await call(c, 'remember', { source: 'elsewhere', tags: [], description: 'a note', logical_key: `${f}:9` })
      const before = await state(srv.store, srv.owner)
      const r = await call(c, 'create_record', { source: 's', tags: [], description: 'd', logical_key: 'taken', schema_ref: f, schema_version: '1', content: {} })
      t.equal(r.body.error.code, 'invalid_parameter')
      t.equal(r.body.error.param, 'logical_key')
      t.equal(r.body.error.value, 'taken')
      t.equal(r.body.error.existing_type, 'note')
      t.equal(r.body.error.existing_id, note.body.id)
      const s = await call(c, 'register_schema', { source: 'elsewhere', tags: [], description: 'd', family: f, version: '9', schema: {} })
      t.equal(s.body.error.code, 'invalid_parameter', 'D7 for register_schema')
      t.equal(s.body.error.param, 'family')
      t.equal(s.body.error.logical_key, `${f}:9`)
      t.equal(s.body.error.existing_type, 'note')
      t.equal(s.body.error.existing_id, keyNote.body.id)
      const empty = await call(c, 'create_record', { source: 's', tags: [], description: 'd', logical_key: '', schema_ref: f, schema_version: '1', content: {} })
      t.equal(empty.body.error.code, 'invalid_parameter', 'D21')
      t.equal(empty.body.error.param, 'logical_key')
      t.equal(empty.body.error.value, '')
      t.equal(await state(srv.store, srv.owner), before)
      const n = await call(c, 'remember', { source: 's', tags: [], description: 'overwrite the record?', logical_key: 'rec' })
      t.equal(n.body.action, 'created')
    })

    t.test('more than 50 validation errors are truncated with the total', async (t) => {
      const srv = await startServer(t, { backend })
      const c = await clientV1(t, srv.url)
      const f = family()
      await call(c, 'register_schema', { source: 's', tags: [], description: 'd', family: f, version: '1', schema: { type: 'array', items: { type: 'integer' } } })
      const r = await call(c, 'create_record', { source: 's', tags: [], description: 'd', logical_key: 'k', schema_ref: f, schema_version: '1', content: Array.from({ length: 60 }, (_, i) => `s${i}`) })
      t.equal(r.body.error.code, 'validation_failed')
      t.equal(r.body.error.validation_errors.length, 50)
      t.equal(r.body.error.truncated, true)
      t.equal(r.body.error.total_errors, 60)
      t.match(r.body.error.message, /\(60 errors\)/)
      const paths = r.body.error.validation_errors.map((e: { path: string }) => e.path)
      t.same(paths, [...paths].sort(), 'sorted by path')
    })

    t.test('unsupported-language alert and language resolution', async (t) => {
      const srv = await startServer(t, { backend })
      const c = await clientV2(t, srv.url)
      const f = family()
      const japanese = '顧客の連絡先と契約の詳細をまとめた記録のためのスキーマです。'
      await call(c, 'register_schema', { source: 's', tags: [], description: japanese, family: f, version: '1', schema: {} })
      await call(c, 'create_record', { source: 's', tags: [], description: 'Les contrats des clients sont renouvelés chaque année', logical_key: 'k', schema_ref: f, schema_version: '1', content: {}, language: 'fr' })
      const alerts = await srv.store.withOwner(srv.owner, (tx) => tx`SELECT data->>'alert_id' AS id FROM entries WHERE owner_id = ${srv.owner} AND type = 'alert'`)
      t.same(alerts.map((r) => r.id), ['unsupported-language-ja'])
      t.equal((await call(c, 'get_knowledge', { entry_type: 'record' })).body.entries[0].language, 'french')
    })

    t.test('SQL metacharacters and 1 MiB strings', async (t) => {
      const srv = await startServer(t, { backend })
      const c = await clientV1(t, srv.url)
      const s = await call(c, 'register_schema', { source: NASTY, tags: [NASTY], description: NASTY, family: NASTY, version: NASTY, schema: { description: NASTY }, learned_from: NASTY, language: NASTY })
      t.equal(s.body.logical_key, `${NASTY}:${NASTY}`)
      const r = await call(c, 'create_record', { source: NASTY, tags: [NASTY], description: NASTY, logical_key: NASTY, schema_ref: NASTY, schema_version: NASTY, content: NASTY, learned_from: NASTY, language: NASTY })
      t.equal(r.body.action, 'created')
      t.equal((await call(c, 'create_record', { source: NASTY, tags: [NASTY], description: NASTY, logical_key: NASTY, schema_ref: NASTY, schema_version: NASTY, content: NASTY })).body.id, r.body.id)
      const [rec] = (await call(c, 'get_knowledge', { entry_type: 'record', source: NASTY, tags: [NASTY] })).body.entries
      for (const v of [rec.source, rec.tags[0], rec.logical_key, rec.data.description, rec.data.schema_ref, rec.data.schema_version, rec.data.content, rec.data.learned_from]) t.equal(v, NASTY)
      // Two 1 MiB strings per call: the request body limit is 4 MiB.
      const big = await call(c, 'create_record', { source: 's', tags: [BIG], description: BIG, logical_key: 'big', schema_ref: NASTY, schema_version: NASTY, content: 'short', learned_from: 'lf' })
      // Record content is bounded (256 KiB as JSON): at the limit it is stored, past it refused.
      const atLimit = 'x'.repeat(256 * 1024 - 2)
      t.equal((await call(c, 'create_record', { source: 's', tags: [BIG], description: BIG, logical_key: 'big', schema_ref: NASTY, schema_version: NASTY, content: BIG, learned_from: 'lf' })).body.error.param, 'content')
      t.equal((await call(c, 'create_record', { source: 's', tags: [BIG], description: BIG, logical_key: 'big', schema_ref: NASTY, schema_version: NASTY, content: atLimit, learned_from: 'lf' })).body.action, 'updated')
      t.equal(big.isError, false, '1 MiB free text is stored')
      const [b] = (await call(c, 'get_knowledge', { entry_type: 'record', source: 's' })).body.entries
      t.equal(b.data.content.length, atLimit.length)
      t.equal(b.data.description.length, BIG.length)
      const before = await state(srv.store, srv.owner)
      for (const [tool, args, param] of [
        ['register_schema', { source: BIG, tags: [], description: 'd', family: 'f', version: '1', schema: {} }, 'source'],
        ['register_schema', { source: 's', tags: [], description: 'd', family: BIG, version: '1', schema: {} }, 'family'],
        ['register_schema', { source: 's', tags: [], description: 'd', family: 'f', version: BIG, schema: {} }, 'version'],
        ['create_record', { source: BIG, tags: [], description: 'd', logical_key: 'k', schema_ref: NASTY, schema_version: NASTY, content: 1 }, 'source'],
        ['create_record', { source: 's', tags: [], description: 'd', logical_key: BIG, schema_ref: NASTY, schema_version: NASTY, content: 1 }, 'logical_key'],
      ] as const) {
        const e = await call(c, tool, args)
        t.equal(e.body.error.code, 'invalid_parameter', `${tool} ${param}`)
        t.equal(e.body.error.param, param)
      }
      const refBig = await call(c, 'create_record', { source: 's', tags: [], description: 'd', logical_key: 'k', schema_ref: BIG, schema_version: '1', content: 1 })
      t.equal(refBig.body.error.code, 'schema_not_found', 'a 1 MiB schema_ref is just not found')
      t.equal(await state(srv.store, srv.owner), before)
    })

    t.test('bad input answers the envelope and changes nothing, for either owner', async (t) => {
      const alice = await startServer(t, { backend })
      const bob = await startServer(t, { backend })
      const a = await clientV2(t, alice.url)
      const b = await clientV1(t, bob.url)
      const f = family()
      await call(a, 'register_schema', { source: 's', tags: [], description: 'd', family: f, version: '1', schema: PERSON })
      const bobs = family()
      await call(b, 'register_schema', { source: 's', tags: [], description: 'd', family: bobs, version: '1', schema: PERSON })
      await call(b, 'create_record', { source: 's', tags: [], description: 'd', logical_key: 'k', schema_ref: bobs, schema_version: '1', content: { name: 'bob' } })
      const before = [await state(alice.store, alice.owner), await state(bob.store, bob.owner)]
      const schemaArgs = { source: 's', tags: [], description: 'd', family: family(), version: '1', schema: PERSON }
      const recordArgs = { source: 's', tags: [], description: 'd', logical_key: 'k', schema_ref: f, schema_version: '1', content: { name: 'x' } }
      const drop = (o: Record<string, unknown>, k: string) => Object.fromEntries(Object.entries(o).filter(([key]) => key !== k))
      const cases: [string, Record<string, unknown>, string, string][] = []
      for (const k of ['source', 'tags', 'description', 'family', 'version', 'schema']) cases.push(['register_schema', drop(schemaArgs, k), 'invalid_parameter', k])
      for (const k of ['source', 'tags', 'description', 'logical_key', 'schema_ref', 'schema_version', 'content']) cases.push(['create_record', drop(recordArgs, k), 'invalid_parameter', k])
      cases.push(
        ['register_schema', { ...schemaArgs, schema: true }, 'invalid_parameter', 'schema'],
        ['register_schema', { ...schemaArgs, schema: [PERSON] }, 'invalid_parameter', 'schema'],
        ['register_schema', { ...schemaArgs, schema: 'not json' }, 'invalid_parameter', 'schema'],
        ['register_schema', { ...schemaArgs, family: 12 }, 'invalid_parameter', 'family'],
        ['register_schema', { ...schemaArgs, version: 1.0 }, 'invalid_parameter', 'version'],
        ['register_schema', { ...schemaArgs, tags: ['a', 2] }, 'invalid_parameter', 'tags'],
        ['register_schema', { ...schemaArgs, learned_from: {} }, 'invalid_parameter', 'learned_from'],
        ['register_schema', { ...schemaArgs, schema: { type: 'object', properties: { a: { minimum: 'zero' } } } }, 'invalid_schema', ''],
        ['register_schema', { ...schemaArgs, schema: { pattern: '([' } }, 'invalid_schema', ''],
        ['create_record', { ...recordArgs, logical_key: 5 }, 'invalid_parameter', 'logical_key'],
        ['create_record', { ...recordArgs, schema_version: 1 }, 'invalid_parameter', 'schema_version'],
        ['create_record', { ...recordArgs, tags: {} }, 'invalid_parameter', 'tags'],
        ['create_record', { ...recordArgs, description: null }, 'invalid_parameter', 'description'],
        ['create_record', { ...recordArgs, language: ['en'] }, 'invalid_parameter', 'language'],
        ['create_record', { ...recordArgs, schema_ref: 'schema:does-not-exist' }, 'schema_not_found', ''],
        ['create_record', { ...recordArgs, schema_ref: bobs }, 'schema_not_found', ''],
        ['create_record', { ...recordArgs, content: { name: 7 } }, 'validation_failed', ''],
        ['create_record', { ...recordArgs, content: '{"age": 1}' }, 'validation_failed', ''],
        ['create_record', { ...recordArgs, logical_key: '' }, 'invalid_parameter', 'logical_key'],
        ['register_schema', { ...schemaArgs, family: 'f\u0000' }, 'invalid_parameter', 'family'],
        ['register_schema', { ...schemaArgs, schema: { description: '\u0000' } }, 'invalid_parameter', 'schema'],
        ['create_record', { ...recordArgs, content: 'nul \u0000' }, 'invalid_parameter', 'content'],
        ['create_record', { ...recordArgs, content: { name: 'x', deep: ['\u0000'] } }, 'invalid_parameter', 'content'],
        ['create_record', { ...recordArgs, logical_key: '\u0000' }, 'invalid_parameter', 'logical_key'],
      )
      for (const [tool, args, code, param] of cases) {
        const r = await call(a, tool, args)
        t.equal(r.isError, true, `${tool} ${JSON.stringify(args).slice(0, 120)} is an error`)
        t.equal(r.body.status, 'error')
        t.equal(r.body.error.code, code, `${tool} ${param} → ${code}`)
        if (param !== '') t.equal(r.body.error.param, param)
        t.equal(typeof r.body.error.message, 'string')
        t.equal(r.body.error.retryable, false)
      }
      t.equal(await state(alice.store, alice.owner), before[0], 'nothing changed for the caller')
      t.equal(await state(bob.store, bob.owner), before[1], 'nothing changed for the other owner')
    })
  })
}
