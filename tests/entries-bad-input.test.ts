/**
 * update_entry, delete_entry, restore_entry, get_deleted with hostile input: SQL metacharacters and 1 MiB
 * strings stored verbatim, and the bad-input matrix answering the envelope while nothing changes, for either
 * of two owners over one store (mcp-surface.md §2.3, §2.4).
 */
import t from 'tap'
import { randomUUID } from 'node:crypto'
import { backends, call, clientV1, clientV2, startServer, type McpClient } from './helpers.js'
import { BIG, NASTY, row, state } from './entries-fixtures.js'

for (const backend of backends()) {
  t.test(`data-management tools with hostile input on ${backend}`, async (t) => {
    t.test('SQL metacharacters and 1 MiB strings', async (t) => {
      const srv = await startServer(t, { backend })
      const c = await clientV1(t, srv.url)
      const n = await call(c, 'remember', { source: 's', tags: [], description: 'd', logical_key: NASTY })
      await call(c, 'update_entry', { entry_id: n.body.id, description: NASTY, tags: [NASTY], source: NASTY, content: NASTY, content_type: NASTY })
      const [e] = (await call(c, 'get_knowledge', { source: NASTY, tags: [NASTY] })).body.entries
      for (const v of [e.source, e.tags[0], e.data.description, e.data.content, e.data.content_type, e.logical_key]) t.equal(v, NASTY)
      t.equal((await call(c, 'delete_entry', { source: NASTY })).body.would_trash, 1)
      t.equal((await call(c, 'delete_entry', { tags: [NASTY] })).body.would_trash, 1)
      t.equal((await call(c, 'delete_entry', { tags: [NASTY], confirm: true })).body.trashed, 1)
      const r = await call(c, 'restore_entry', { tags: [NASTY] })
      t.same(r.body, { status: 'ok', restored: 1, tags: [NASTY] })
      t.same((await call(c, 'delete_entry', { entry_id: NASTY })).body.entry_id, NASTY)
      t.same((await call(c, 'restore_entry', { entry_id: NASTY })).body, { status: 'not_found', restored: 0, entry_id: NASTY })
      await call(c, 'update_entry', { entry_id: n.body.id, description: BIG, content: BIG })
      const big = (await row(srv.store, srv.owner, n.body.id)).data as Record<string, string>
      t.equal(big.description.length, BIG.length)
      t.equal(big.content.length, BIG.length)
      const before = await state(srv.store, srv.owner)
      const long = await call(c, 'update_entry', { entry_id: n.body.id, source: BIG })
      t.equal(long.body.error.code, 'invalid_parameter')
      t.equal(long.body.error.param, 'source')
      t.equal((await call(c, 'delete_entry', { entry_id: BIG })).body.status, 'acknowledged')
      t.equal((await call(c, 'delete_entry', { source: BIG, confirm: true })).body.trashed, 0)
      t.equal((await call(c, 'delete_entry', { tags: [BIG], confirm: true })).body.trashed, 0)
      t.equal((await call(c, 'restore_entry', { entry_id: BIG })).body.status, 'not_found')
      t.equal((await call(c, 'restore_entry', { tags: [BIG] })).body.restored, 0)
      t.equal((await call(c, 'get_deleted', { since: BIG })).body.error.param, 'since')
      t.equal((await call(c, 'update_entry', { entry_id: BIG, description: 'x' })).body.error.code, 'not_found')
      t.equal(await state(srv.store, srv.owner), before)
    })

    t.test('bad input answers the envelope and changes nothing, for either owner', async (t) => {
      const alice = await startServer(t, { backend })
      const bob = await startServer(t, { backend })
      const a: McpClient = await clientV2(t, alice.url)
      const b: McpClient = await clientV1(t, bob.url)
      const mine = await call(a, 'remember', { source: 's', tags: ['t'], description: 'alice' })
      const bobNote = await call(b, 'remember', { source: 's', tags: ['t'], description: 'bob' })
      const bobTrashed = await call(b, 'remember', { source: 's', tags: ['t'], description: 'bob trashed' })
      await call(b, 'delete_entry', { entry_id: bobTrashed.body.id })
      const before = [await state(alice.store, alice.owner), await state(bob.store, bob.owner)]
      const unknown = randomUUID()
      const cases: [string, Record<string, unknown>, string, string | undefined][] = [
        ['update_entry', { description: 'no id' }, 'invalid_parameter', 'entry_id'],
        ['update_entry', { entry_id: 12, description: 'x' }, 'invalid_parameter', 'entry_id'],
        ['update_entry', { entry_id: mine.body.id, description: 5 }, 'invalid_parameter', 'description'],
        ['update_entry', { entry_id: mine.body.id, tags: 'x' }, 'invalid_parameter', 'tags'],
        ['update_entry', { entry_id: mine.body.id, tags: [null] }, 'invalid_parameter', 'tags'],
        ['update_entry', { entry_id: mine.body.id, source: false }, 'invalid_parameter', 'source'],
        ['update_entry', { entry_id: mine.body.id, content_type: {} }, 'invalid_parameter', 'content_type'],
        ['update_entry', { entry_id: mine.body.id, language: 3 }, 'invalid_parameter', 'language'],
        ['update_entry', { entry_id: mine.body.id, language: 'Englsh' }, 'invalid_parameter', 'language'],
        ['update_entry', { entry_id: mine.body.id }, 'invalid_parameter', 'content'],
        ['update_entry', { entry_id: unknown, description: 'x' }, 'not_found', 'entry_id'],
        ['update_entry', { entry_id: bobNote.body.id, description: 'x' }, 'not_found', 'entry_id'],
        ['update_entry', { entry_id: bobTrashed.body.id, description: 'x' }, 'not_found', 'entry_id'],
        ['delete_entry', {}, 'invalid_parameter', undefined],
        ['delete_entry', { entry_id: '', tags: [], source: '' }, 'invalid_parameter', undefined],
        ['delete_entry', { entry_id: 1 }, 'invalid_parameter', 'entry_id'],
        ['delete_entry', { tags: 'a' }, 'invalid_parameter', 'tags'],
        ['delete_entry', { source: ['s'] }, 'invalid_parameter', 'source'],
        ['delete_entry', { source: 's', confirm: 'yes' }, 'invalid_parameter', 'confirm'],
        ['delete_entry', { source: 's', entry_type: 'notes', confirm: true }, 'invalid_parameter', 'entry_type'],
        ['delete_entry', { source: 's', entry_type: 'bogus' }, 'invalid_parameter', 'entry_type'],
        ['restore_entry', {}, 'invalid_parameter', undefined],
        ['restore_entry', { entry_id: '', tags: [] }, 'invalid_parameter', undefined],
        ['restore_entry', { entry_id: 7 }, 'invalid_parameter', 'entry_id'],
        ['restore_entry', { tags: '["a", 1]' }, 'invalid_parameter', 'tags'],
        ['get_deleted', { limit: -1 }, 'invalid_parameter', 'limit'],
        ['get_deleted', { offset: -1 }, 'invalid_parameter', 'offset'],
        ['get_deleted', { limit: -1, offset: -1 }, 'invalid_parameter', 'limit'],
        ['get_deleted', { limit: 'ten' }, 'invalid_parameter', 'limit'],
        ['get_deleted', { since: '' }, 'invalid_parameter', 'since'],
        ['get_deleted', { since: 'not-a-date' }, 'invalid_parameter', 'since'],
        ['get_deleted', { since: '2026-13-45' }, 'invalid_parameter', 'since'],
        ['get_deleted', { mode: 1 }, 'invalid_parameter', 'mode'],
        ['update_entry', { entry_id: mine.body.id, description: '\u0000' }, 'invalid_parameter', 'description'],
        ['update_entry', { entry_id: mine.body.id, content: { k: '\u0000' } }, 'invalid_parameter', 'content'],
        ['update_entry', { entry_id: mine.body.id, content: '\u0000' }, 'invalid_parameter', 'content'],
        ['update_entry', { entry_id: mine.body.id, tags: ['\u0000'] }, 'invalid_parameter', 'tags'],
        ['delete_entry', { entry_id: '\u0000' }, 'invalid_parameter', 'entry_id'],
        ['delete_entry', { source: '\u0000' }, 'invalid_parameter', 'source'],
        ['restore_entry', { tags: ['\u0000'] }, 'invalid_parameter', 'tags'],
        ['get_deleted', { since: '\u0000' }, 'invalid_parameter', 'since'],
      ]
      for (const [tool, args, code, param] of cases) {
        const r = await call(a, tool, args)
        t.equal(r.isError, true, `${tool} ${JSON.stringify(args)} is an error`)
        t.equal(r.body.status, 'error')
        t.equal(r.body.error.code, code, `${tool} ${JSON.stringify(args)} → ${code}`)
        t.equal(r.body.error.param, param)
        t.equal(r.body.error.retryable, false)
      }
      const none = await call(a, 'delete_entry', {})
      t.match(none.body.error.message, /Provide entry_id, tags, or source/)
      t.notOk('param' in none.body.error)
      const bogus = await call(a, 'delete_entry', { source: 's', entry_type: 'Note' })
      t.equal(bogus.body.error.suggestion, 'note')
      t.same(bogus.body.error.valid, ['alert', 'context', 'intention', 'note', 'pattern', 'preference', 'record', 'schema', 'status', 'suppression'])
      t.equal((await call(a, 'get_deleted', { since: 'nope' })).body.error.help_url, 'https://en.wikipedia.org/wiki/ISO_8601')
      t.match((await call(a, 'restore_entry', {})).body.error.message, /Provide entry_id or tags/)
      // Non-error answers that must not change anything either: ids of the other owner.
      t.equal((await call(a, 'delete_entry', { entry_id: bobNote.body.id })).body.status, 'acknowledged')
      t.same((await call(a, 'restore_entry', { entry_id: bobTrashed.body.id })).body, { status: 'not_found', restored: 0, entry_id: bobTrashed.body.id })
      t.equal((await call(a, 'delete_entry', { tags: ['t'] })).body.would_trash, 1, "bulk dry runs count only the caller's entries")
      t.equal((await call(a, 'restore_entry', { tags: ['t'] })).body.restored, 0, "the other owner's trash is out of reach")
      t.equal(await state(alice.store, alice.owner), before[0], 'nothing changed for the caller')
      t.equal(await state(bob.store, bob.owner), before[1], 'nothing changed for the other owner')
    })
  })
}
