/**
 * update_entry, delete_entry, restore_entry, get_deleted through real MCP clients of both protocol eras, on
 * every backend (mcp-surface.md §3.28–§3.31, §2.13, §2.14, D5, D9–D11, D22, checklist §10), plus the
 * bad-input matrix with two owners over one store.
 */
import t from 'tap'
import { randomUUID } from 'node:crypto'
import { backends, call, clientV1, clientV2, startServer } from './helpers.js'

import { DAY, family, insertRaw, recorder, row, state } from './entries-fixtures.js'

for (const backend of backends()) {
  t.test(`data-management tools on ${backend}`, async (t) => {
    for (const [era, connect] of [['2025-era', clientV1], ['2026-era', clientV2]] as const) {
      t.test(`update_entry edits in place with a changelog (${era} client)`, async (t) => {
        const embed = recorder()
        const srv = await startServer(t, { backend, embed })
        const c = await connect(t, srv.url)
        const n = await call(c, 'remember', { source: 'proj', tags: ['a'], description: 'v1' })
        embed.ids.length = 0
        const r = await call(c, 'update_entry', { entry_id: n.body.id, description: 'Sentinel-upd-v2' })
        t.same(Object.keys(r.body).sort(), ['id', 'status', 'updated'], 'no payload echoed (§2.16)')
        t.equal(r.body.id, n.body.id)
        t.ok(Math.abs(Date.parse(r.body.updated) - Date.now()) < 10_000)
        const tags = await call(c, 'update_entry', { entry_id: n.body.id, tags: ['b', 'c'], source: 'proj2' })
        const lang = await call(c, 'update_entry', { entry_id: n.body.id, language: ' FR ' })
        t.ok(Date.parse(lang.body.updated) >= Date.parse(tags.body.updated))
        const noop = await call(c, 'update_entry', { entry_id: n.body.id, description: 'Sentinel-upd-v2', tags: ['b', 'c'], language: 'fr' })
        t.equal(noop.body.updated, lang.body.updated, 'a no-op keeps updated')
        const [e] = (await call(c, 'get_knowledge', { include_history: 'true' })).body.entries
        t.equal(e.id, n.body.id)
        t.equal(e.data.description, 'Sentinel-upd-v2')
        t.same(e.tags, ['b', 'c'])
        t.equal(e.source, 'proj2')
        t.equal(e.language, 'french')
        t.same(
          e.data.changelog.map((x: { changed: unknown }) => x.changed),
          [{ description: 'v1' }, { tags: ['a'], source: 'proj' }, { language: 'simple' }],
          'one record per real change, previous values, none for the no-op',
        )
        t.equal(e.data.changelog[2].updated, lang.body.updated, 'the changelog time is the updated time')
        t.same(embed.ids, [n.body.id, n.body.id, n.body.id, n.body.id], 'embedding scheduled on every success, no-op included')
        const simple = await call(c, 'update_entry', { entry_id: n.body.id, language: 'simple' })
        t.equal(simple.isError, false, '"simple" is accepted')
        t.equal((await row(srv.store, srv.owner, n.body.id)).language, 'simple')
      })
    }

    t.test('update_entry D5: previously absent fields are persisted and recorded as null', async (t) => {
      const srv = await startServer(t, { backend })
      const c = await clientV1(t, srv.url)
      const n = await call(c, 'remember', { source: 's', tags: [], description: 'no content yet' })
      const r = await call(c, 'update_entry', { entry_id: n.body.id, content: { a: [1, 2] }, content_type: 'application/json' })
      t.not(r.body.updated, null)
      const data = (await row(srv.store, srv.owner, n.body.id)).data as Record<string, unknown>
      t.equal(data.content, '{"a":[1,2]}', 'non-record content is stored as its JSON text')
      t.equal(data.content_type, 'application/json')
      t.same((data.changelog as { changed: unknown }[])[0].changed, { content: null, content_type: null })
      await call(c, 'update_entry', { entry_id: n.body.id, content: 'text', description: '' })
      const after = (await row(srv.store, srv.owner, n.body.id)).data as Record<string, unknown>
      t.equal(after.content, 'text')
      t.equal(after.description, '', '"" is a description')
      const intention = await insertRaw(srv.store, srv.owner, 'intention', { goal: 'call mum', state: 'pending', deliver_at: null })
      await call(c, 'update_entry', { entry_id: intention, description: 'weekly call', tags: ['family'] })
      const i = await row(srv.store, srv.owner, intention)
      t.equal((i.data as Record<string, unknown>).description, 'weekly call')
      t.equal((i.data as Record<string, unknown>).state, 'pending', 'the state is not update_entry\'s')
      t.same(((i.data as Record<string, unknown>).changelog as { changed: unknown }[])[0].changed, { tags: [], description: null })
    })

    t.test('update_entry order of checks, immutable types and trashed entries', async (t) => {
      const embed = recorder()
      const srv = await startServer(t, { backend, embed })
      const c = await clientV2(t, srv.url)
      const f = family()
      const schema = await call(c, 'register_schema', { source: 's', tags: [], description: 'd', family: f, version: '1', schema: {} })
      const ids = {
        status: await insertRaw(srv.store, srv.owner, 'status', { metrics: { cpu: 1 }, ttl_sec: 120 }),
        alert: await insertRaw(srv.store, srv.owner, 'alert', { alert_id: 'a1', level: 'warning', alert_type: 'threshold', message: 'm', resolved: false }),
        suppression: await insertRaw(srv.store, srv.owner, 'suppression', { metric: null, suppress_level: 'warning', escalation_override: true, reason: '' }),
      }
      const trashed = await call(c, 'remember', { source: 's', tags: [], description: 'bin me' })
      await call(c, 'delete_entry', { entry_id: trashed.body.id })
      embed.ids.length = 0
      const before = await state(srv.store, srv.owner)
      const unknown = randomUUID()
      const none = await call(c, 'update_entry', { entry_id: unknown })
      t.equal(none.body.error.code, 'invalid_parameter', 'no fields is checked before the lookup')
      t.equal(none.body.error.param, 'content')
      t.match(none.body.error.message, /No fields to update/)
      t.match(none.body.error.message, /description, tags, source, content, content_type, language/)
      t.equal((await call(c, 'update_entry', { entry_id: unknown, language: '', content: null })).body.error.param, 'content', '"" language and null content are omitted')
      const xx = await call(c, 'update_entry', { entry_id: unknown, language: 'xx' })
      t.equal(xx.body.error.code, 'invalid_parameter', 'D11, before the lookup')
      t.equal(xx.body.error.param, 'language')
      t.equal(xx.body.error.value, 'xx')
      t.match(xx.body.error.message, /Unknown language code/)
      t.equal((await call(c, 'update_entry', { entry_id: schema.body.id, language: 'klingon' })).body.error.param, 'language')
      const missing = await call(c, 'update_entry', { entry_id: unknown, description: 'x' })
      t.equal(missing.body.error.code, 'not_found')
      t.equal(missing.body.error.param, 'entry_id')
      t.equal(missing.body.error.value, unknown)
      t.match(missing.body.error.message, /immutable/)
      t.match(missing.body.error.message, unknown)
      const bin = await call(c, 'update_entry', { entry_id: trashed.body.id, description: 'x' })
      t.equal(bin.body.error.code, 'not_found', 'a trashed entry is not found')
      for (const [type, id] of Object.entries(ids)) {
        const r = await call(c, 'update_entry', { entry_id: id, description: 'x', tags: ['t'] })
        t.equal(r.body.error.code, 'not_found', type)
        t.equal(r.body.error.param, 'entry_id')
        t.equal(r.body.error.value, id)
        t.match(r.body.error.message, /immutable/)
        t.match(r.body.error.message, id)
      }
      const imm = await call(c, 'update_entry', { entry_id: schema.body.id, tags: ['t'] })
      t.equal(imm.body.error.code, 'schema_immutable')
      t.match(imm.body.error.message, /new version/)
      t.equal(await state(srv.store, srv.owner), before, 'no failed call changed anything')
      t.same(embed.ids, [], 'failed calls schedule nothing')
    })

    t.test('update_entry on records: re-validation, native content, pinned schema gone', async (t) => {
      const srv = await startServer(t, { backend })
      const c = await clientV1(t, srv.url)
      const f = family()
      const schema = await call(c, 'register_schema', {
        source: 's',
        tags: [],
        description: 'd',
        family: f,
        version: '1',
        schema: { type: ['object', 'string', 'integer'], properties: { n: { type: 'integer' } }, required: ['n'] },
      })
      const rec = await call(c, 'create_record', { source: 's', tags: [], description: 'd', logical_key: 'k', schema_ref: f, schema_version: '1', content: { n: 1 } })
      const before = await state(srv.store, srv.owner)
      const invalid = await call(c, 'update_entry', { entry_id: rec.body.id, content: { n: 'one' } })
      t.equal(invalid.body.error.code, 'validation_failed')
      t.equal(invalid.body.error.schema_ref, f)
      t.equal(invalid.body.error.schema_version, '1')
      t.equal(invalid.body.error.validation_errors[0].path, '$.n')
      t.equal(invalid.body.error.validation_errors[0].validator, 'type')
      t.equal(await state(srv.store, srv.owner), before)
      await call(c, 'update_entry', { entry_id: rec.body.id, content: { n: 2 } })
      t.same((await row(srv.store, srv.owner, rec.body.id)).data, {
        schema_ref: f,
        schema_version: '1',
        content: { n: 2 },
        description: 'd',
        learned_from: 'conversation',
        changelog: [{ updated: ((await row(srv.store, srv.owner, rec.body.id)).data as { changelog: { updated: string }[] }).changelog[0].updated, changed: { content: { n: 1 } } }],
      })
      await call(c, 'update_entry', { entry_id: rec.body.id, content: '{"n": 3}' })
      t.same(((await row(srv.store, srv.owner, rec.body.id)).data as Record<string, unknown>).content, { n: 3 }, 'D10: JSON object text parsed')
      await call(c, 'update_entry', { entry_id: rec.body.id, content: '42' })
      t.equal(((await row(srv.store, srv.owner, rec.body.id)).data as Record<string, unknown>).content, '42', 'D10: "42" stays a string')
      await call(c, 'update_entry', { entry_id: rec.body.id, content: 7 })
      t.equal(((await row(srv.store, srv.owner, rec.body.id)).data as Record<string, unknown>).content, 7, 'an integer stays an integer')
      const bad = await call(c, 'update_entry', { entry_id: rec.body.id, content: 'not json {' })
      t.equal(bad.isError, false, 'a non-JSON string is just a string (no unstructured failure)')
      // The schema goes to the trash once its records allow it; then content can no longer change.
      await srv.store.withOwner(srv.owner, (tx) => tx`UPDATE entries SET deleted = now() WHERE id = ${schema.body.id}`)
      const gone = await call(c, 'update_entry', { entry_id: rec.body.id, content: { n: 4 } })
      t.equal(gone.body.error.code, 'schema_not_found')
      t.equal(gone.body.error.schema_ref, f)
      t.equal(gone.body.error.schema_version, '1')
      t.same(gone.body.error.searched_owners, [srv.owner, '_system'])
      const meta = await call(c, 'update_entry', { entry_id: rec.body.id, description: 'renamed', tags: ['x'], content_type: 'application/json', language: 'en' })
      t.equal(meta.isError, false, 'non-content updates skip re-validation')
    })

    t.test('update_entry moving onto a held (source, logical_key) is D22', async (t) => {
      const srv = await startServer(t, { backend })
      const c = await clientV2(t, srv.url)
      const a = await call(c, 'remember', { source: 'one', tags: [], description: 'a', logical_key: 'doc' })
      const b = await call(c, 'remember', { source: 'two', tags: [], description: 'b', logical_key: 'doc' })
      const before = await state(srv.store, srv.owner)
      const r = await call(c, 'update_entry', { entry_id: a.body.id, source: 'two', description: 'moved' })
      t.equal(r.isError, true)
      t.equal(r.body.error.code, 'invalid_parameter')
      t.equal(r.body.error.param, 'source')
      t.equal(r.body.error.value, 'two')
      t.equal(r.body.error.logical_key, 'doc')
      t.equal(r.body.error.existing_id, b.body.id)
      t.equal(await state(srv.store, srv.owner), before)
      const free = await call(c, 'update_entry', { entry_id: a.body.id, source: 'three' })
      t.equal(free.isError, false)
      t.equal((await call(c, 'remember', { source: 'one', tags: [], description: 'new', logical_key: 'doc' })).body.action, 'created', 'the old (source, key) is free')
    })

    for (const [era, connect] of [['2025-era', clientV1], ['2026-era', clientV2]] as const) {
      t.test(`delete_entry by id is IDOR-safe, and trash/restore round-trips (${era} client)`, async (t) => {
        const embed = recorder()
        const alice = await startServer(t, { backend, embed })
        const bob = await startServer(t, { backend })
        const a = await connect(t, alice.url)
        const b = await connect(t, bob.url)
        const ctx = await call(a, 'add_context', { source: 's', tags: ['trip'], description: 'away', expires_days: 3 })
        const note = await call(a, 'remember', { source: 's', tags: ['trip'], description: 'keyed', logical_key: 'k' })
        await call(a, 'update_entry', { entry_id: note.body.id, description: 'keyed v2' })
        const bobs = await call(b, 'remember', { source: 's', tags: [], description: 'bob' })
        const original = await row(alice.store, alice.owner, ctx.body.id)
        embed.ids.length = 0
        const hit = await call(a, 'delete_entry', { entry_id: ctx.body.id, confirm: false })
        t.equal(hit.isError, false)
        t.same(Object.keys(hit.body).sort(), ['entry_id', 'note', 'recoverable_days', 'status'])
        t.equal(hit.body.status, 'acknowledged')
        t.equal(hit.body.recoverable_days, 30)
        const unknownId = randomUUID()
        const miss = await call(a, 'delete_entry', { entry_id: unknownId })
        const foreign = await call(a, 'delete_entry', { entry_id: bobs.body.id })
        const again = await call(a, 'delete_entry', { entry_id: ctx.body.id })
        for (const r of [miss, foreign, again]) t.same({ ...r.body, entry_id: ctx.body.id }, hit.body, 'hit and miss answer identically')
        t.equal(miss.body.entry_id, unknownId)
        t.equal((await call(b, 'get_knowledge', {})).body.entries.length, 1, "bob's entry survived alice's delete")
        await call(a, 'delete_entry', { entry_id: note.body.id })

        const trashedRow = await row(alice.store, alice.owner, ctx.body.id)
        const deletedAt = (trashedRow.deleted as Date).getTime()
        t.equal((trashedRow.expires as Date).getTime(), deletedAt + 30 * DAY, 'expires = purge date')
        t.equal(trashedRow.updated, null, 'soft delete does not touch updated')
        t.same((await call(a, 'get_knowledge', { include_expired: true })).body.entries, [], 'trashed entries are invisible to reads')
        t.equal((await call(a, 'update_entry', { entry_id: note.body.id, description: 'x' })).body.error.code, 'not_found')
        const reuse = await call(a, 'remember', { source: 's', tags: [], description: 'reuse', logical_key: 'k' })
        t.equal(reuse.body.action, 'created', 'a trashed entry releases its logical_key')

        const listed = await call(a, 'get_deleted', {})
        t.same(listed.body.entries.map((e: { id: string }) => e.id), [note.body.id, ctx.body.id], 'newest deletion first')
        t.same(Object.keys(listed.body).sort(), ['entries', 'has_more', 'limit', 'offset'])
        t.equal(Date.parse(listed.body.entries[1].expires), deletedAt + 30 * DAY, 'full mode shows the purge date')
        t.ok(listed.body.entries[0].data.changelog, 'full mode keeps the changelog')
        const list = await call(a, 'get_deleted', { mode: 'list' })
        t.notOk('data' in list.body.entries[0])
        t.notOk('expires' in list.body.entries[0])
        t.equal(list.body.entries[0].description, 'keyed v2')
        t.same((await call(b, 'get_deleted', {})).body.entries, [], "another owner's trash is not listed")

        const foreignRestore = await call(b, 'restore_entry', { entry_id: ctx.body.id })
        t.equal(foreignRestore.isError, false)
        t.same(foreignRestore.body, { status: 'not_found', restored: 0, entry_id: ctx.body.id }, "another owner's trash is not found")
        const restored = await call(a, 'restore_entry', { entry_id: ctx.body.id })
        t.same(restored.body, { status: 'ok', restored: 1, entry_id: ctx.body.id })
        const back = await row(alice.store, alice.owner, ctx.body.id)
        t.equal(back.deleted, null)
        t.equal((back.expires as Date).getTime(), (original.expires as Date).getTime(), 'the remembered expiry comes back')
        t.same(back.data, original.data, 'no trash bookkeeping left in data')
        t.equal(back.updated, null, 'restore does not touch updated')
        t.same((await call(a, 'restore_entry', { entry_id: ctx.body.id })).body, { status: 'not_found', restored: 0, entry_id: ctx.body.id }, 'a live id is not found')
        const unknown = await call(a, 'restore_entry', { entry_id: 'no-such-id' })
        t.equal(unknown.isError, false)
        t.same(unknown.body, { status: 'not_found', restored: 0, entry_id: 'no-such-id' })
        t.equal((await call(a, 'get_knowledge', { entry_type: 'context' })).body.entries[0].id, ctx.body.id, 'visible again')
        t.same(embed.ids.filter((id) => id !== reuse.body.id), [], 'deletes and restores schedule no embedding')
        const noExpiry = await call(a, 'remember', { source: 's', tags: [], description: 'forever' })
        await call(a, 'delete_entry', { entry_id: noExpiry.body.id })
        await call(a, 'restore_entry', { entry_id: noExpiry.body.id })
        t.equal((await row(alice.store, alice.owner, noExpiry.body.id)).expires, null, 'no expiry before, none after')
      })
    }

    t.test('delete_entry bulk modes: dry runs, tags AND, source and type', async (t) => {
      const srv = await startServer(t, { backend })
      const c = await clientV1(t, srv.url)
      await call(c, 'remember', { source: 'nas', tags: ['a', 'b'], description: '1' })
      await call(c, 'remember', { source: 'nas', tags: ['a'], description: '2' })
      await call(c, 'learn_pattern', { source: 'nas', tags: ['a', 'b'], description: '3' })
      await call(c, 'remember', { source: 'other', tags: ['b'], description: '4' })
      const before = await state(srv.store, srv.owner)
      const dry = await call(c, 'delete_entry', { tags: ['a', 'b'], source: 'ignored', entry_type: 'bogus-but-ignored' })
      t.equal(dry.body.status, 'dry_run')
      t.equal(dry.body.would_trash, 2, 'tags are ANDed')
      t.same(dry.body.tags, ['a', 'b'])
      t.notOk('source' in dry.body, 'lower-precedence arguments are ignored, not echoed')
      t.match(dry.body.message, /confirm/)
      const bySource = await call(c, 'delete_entry', { source: 'nas', entry_type: 'note' })
      t.same(
        { ...bySource.body, message: undefined },
        { status: 'dry_run', would_trash: 2, source: 'nas', entry_type: 'note', message: undefined },
      )
      const allTypes = await call(c, 'delete_entry', { source: 'nas', entry_type: '' })
      t.equal(allTypes.body.would_trash, 3)
      t.equal(allTypes.body.entry_type, null, 'no type filter echoes null')
      t.equal(await state(srv.store, srv.owner), before, 'dry runs change nothing')
      const confirmed = await call(c, 'delete_entry', { source: 'nas', entry_type: 'note', confirm: 'true' })
      t.same(confirmed.body, { status: 'ok', trashed: 2, source: 'nas', entry_type: 'note', recoverable_days: 30 })
      t.equal((await call(c, 'get_knowledge', {})).body.entries.length, 2, 'the pattern of nas and the other source survive')
      const tags = await call(c, 'delete_entry', { tags: ['b'], confirm: true })
      t.same(tags.body, { status: 'ok', trashed: 2, tags: ['b'], recoverable_days: 30 })
      const zero = await call(c, 'delete_entry', { tags: ['b'], confirm: true })
      t.equal(zero.body.trashed, 0, 'trashing again matches nothing')
      const restored = await call(c, 'restore_entry', { tags: ['a', 'b'] })
      t.same(restored.body, { status: 'ok', restored: 2, tags: ['a', 'b'] }, 'restore by tags is ANDed too')
      t.same((await call(c, 'restore_entry', { tags: ['nothing-here'] })).body, { status: 'ok', restored: 0, tags: ['nothing-here'] })
      t.equal((await call(c, 'get_deleted', {})).body.entries.length, 2)
    })

    t.test('schema_in_use by id and for confirmed bulk deletes (D9)', async (t) => {
      const srv = await startServer(t, { backend })
      const c = await clientV2(t, srv.url)
      const f = family()
      const schema = await call(c, 'register_schema', { source: 'reg', tags: ['schemas'], description: 'd', family: f, version: '1', schema: {} })
      const records: string[] = []
      for (let i = 0; i < 12; i++) records.push((await call(c, 'create_record', { source: 'data', tags: [i < 2 ? 'first' : 'rest'], description: `r${i}`, logical_key: `k${i}`, schema_ref: f, schema_version: '1', content: i })).body.id)
      const before = await state(srv.store, srv.owner)
      const byId = await call(c, 'delete_entry', { entry_id: schema.body.id })
      t.equal(byId.isError, true)
      t.equal(byId.body.error.code, 'schema_in_use')
      t.same(byId.body.error.referencing_records, records.slice(0, 10), 'first ten, oldest first')
      t.equal(byId.body.error.total_count, 12)
      t.equal(byId.body.error.message, `Cannot delete schema ${f}:1: 12 record(s) reference it. Delete or move those records first.`)
      const dry = await call(c, 'delete_entry', { tags: ['schemas'] })
      t.equal(dry.body.would_trash, 1, 'dry runs only count')
      const bulk = await call(c, 'delete_entry', { source: 'reg', confirm: true })
      t.equal(bulk.body.error.code, 'schema_in_use', 'D9')
      t.equal(bulk.body.error.logical_key, `${f}:1`)
      t.equal(bulk.body.error.total_count, 12)
      t.equal(bulk.body.error.referencing_records.length, 10)
      t.equal(await state(srv.store, srv.owner), before, 'nothing trashed')
      await call(c, 'delete_entry', { tags: ['rest'], confirm: true })
      const partly = await call(c, 'delete_entry', { entry_id: schema.body.id })
      t.same(partly.body.error.referencing_records, records.slice(0, 2), 'trashed records no longer count')
      t.equal(partly.body.error.total_count, 2)
      // A bulk delete that takes the schema together with its last records is allowed.
      await srv.store.withOwner(srv.owner, (tx) => tx`UPDATE entries SET tags = '["together"]' WHERE id IN ${tx([schema.body.id, ...records.slice(0, 2)])}`)
      const together = await call(c, 'delete_entry', { tags: ['together'], confirm: true })
      t.equal(together.body.trashed, 3)
      const again = await call(c, 'register_schema', { source: 'reg', tags: [], description: 'd', family: f, version: '1', schema: {} })
      const lone = await call(c, 'delete_entry', { entry_id: again.body.id })
      t.equal(lone.body.status, 'acknowledged', 'an unreferenced schema is deleted')
    })

    t.test('restore D22: by id and by tags (all or nothing)', async (t) => {
      const srv = await startServer(t, { backend })
      const c = await clientV1(t, srv.url)
      const old = await call(c, 'remember', { source: 's', tags: ['grp'], description: 'old', logical_key: 'doc' })
      const plain = await call(c, 'remember', { source: 's', tags: ['grp'], description: 'plain' })
      await call(c, 'delete_entry', { tags: ['grp'], confirm: true })
      const holder = await call(c, 'remember', { source: 's', tags: [], description: 'new', logical_key: 'doc' })
      const before = await state(srv.store, srv.owner)
      const byId = await call(c, 'restore_entry', { entry_id: old.body.id })
      t.equal(byId.isError, true)
      t.equal(byId.body.error.code, 'invalid_parameter')
      t.equal(byId.body.error.param, 'entry_id')
      t.equal(byId.body.error.value, old.body.id)
      t.equal(byId.body.error.logical_key, 'doc')
      t.equal(byId.body.error.existing_id, holder.body.id)
      const byTags = await call(c, 'restore_entry', { tags: ['grp'] })
      t.equal(byTags.body.error.param, 'tags')
      t.same(byTags.body.error.value, ['grp'])
      t.equal(byTags.body.error.logical_key, 'doc')
      t.equal(byTags.body.error.existing_id, holder.body.id)
      t.equal(await state(srv.store, srv.owner), before, 'nothing restored, not even the unkeyed entry')
      // Two trashed entries that share a key conflict with each other.
      await call(c, 'delete_entry', { entry_id: holder.body.id })
      const twins = await call(c, 'restore_entry', { tags: [] })
      t.match(twins.body.error.message, /Provide entry_id or tags/, '[] counts as not provided')
      await srv.store.withOwner(srv.owner, (tx) => tx`UPDATE entries SET tags = '["grp"]' WHERE id = ${holder.body.id}`)
      const pair = await call(c, 'restore_entry', { tags: ['grp'] })
      t.equal(pair.body.error.code, 'invalid_parameter')
      t.equal(pair.body.error.logical_key, 'doc')
      t.ok([old.body.id, holder.body.id].includes(pair.body.error.existing_id))
      t.equal((await call(c, 'restore_entry', { entry_id: plain.body.id })).body.restored, 1)
      t.equal((await call(c, 'restore_entry', { entry_id: holder.body.id })).body.restored, 1)
    })

    t.test('restoring a schema version registered again under another source is refused (D8, D22)', async (t) => {
      const srv = await startServer(t, { backend })
      const c = await clientV2(t, srv.url)
      const f = family()
      const first = await call(c, 'register_schema', { source: 'a', tags: ['sch'], description: 'd', family: f, version: '1', schema: {} })
      await call(c, 'delete_entry', { entry_id: first.body.id })
      const second = await call(c, 'register_schema', { source: 'b', tags: [], description: 'd', family: f, version: '1', schema: {} })
      const before = await state(srv.store, srv.owner)
      const r = await call(c, 'restore_entry', { entry_id: first.body.id })
      t.equal(r.body.error.code, 'invalid_parameter')
      t.equal(r.body.error.param, 'entry_id')
      t.equal(r.body.error.logical_key, `${f}:1`)
      t.equal(r.body.error.existing_id, second.body.id)
      t.equal((await call(c, 'restore_entry', { tags: ['sch'] })).body.error.param, 'tags')
      t.equal(await state(srv.store, srv.owner), before)
      await call(c, 'delete_entry', { entry_id: second.body.id })
      t.equal((await call(c, 'restore_entry', { entry_id: first.body.id })).body.restored, 1, 'restorable once the other version is gone')
    })

    t.test('get_deleted: since, pagination and expired trash', async (t) => {
      const srv = await startServer(t, { backend })
      const c = await clientV2(t, srv.url)
      const ids: string[] = []
      for (let i = 0; i < 5; i++) ids.push((await call(c, 'remember', { source: 's', tags: [], description: `n${i}` })).body.id)
      for (const id of ids) await call(c, 'delete_entry', { entry_id: id })
      // The oldest deletion is long past its purge date: the trash still lists it (decision 7 is for reads).
      await srv.store.withOwner(srv.owner, (tx) => tx`UPDATE entries SET deleted = now() - interval '40 days', expires = now() - interval '10 days' WHERE id = ${ids[0]}`)
      const first = await call(c, 'get_deleted', { limit: 2 })
      const second = await call(c, 'get_deleted', { limit: '2', offset: '2' })
      const third = await call(c, 'get_deleted', { limit: 2, offset: 4 })
      t.equal(first.body.has_more, true)
      t.equal(third.body.has_more, false)
      const paged = [...first.body.entries, ...second.body.entries, ...third.body.entries].map((e: { id: string }) => e.id)
      t.same(paged, [ids[4], ids[3], ids[2], ids[1], ids[0]], 'no overlap, newest deletion first, expired trash included')
      t.same({ ...second.body, entries: [] }, { entries: [], limit: 2, offset: 2, has_more: true })
      const zero = await call(c, 'get_deleted', { limit: 0 })
      t.same(zero.body, { entries: [], limit: 0, offset: 0, has_more: true })
      const recent = await call(c, 'get_deleted', { since: new Date(Date.now() - DAY).toISOString() })
      t.equal(recent.body.entries.length, 4, 'since filters on the deletion time')
      t.equal((await call(c, 'get_deleted', { since: '2999-01-01' })).body.entries.length, 0)
    })
  })
}
