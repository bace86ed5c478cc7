/**
 * acted_on, get_reads, get_actions, get_unread, get_activity, get_related through real MCP clients of both
 * protocol eras, on every backend (mcp-surface.md §3.9–§3.13, §3.25; D4, D12, D14; checklist §10).
 */
import t from 'tap'
import { randomUUID } from 'node:crypto'
import { Writable } from 'node:stream'
import pino from 'pino'
import { backends, call, clientV1, clientV2, snapshot, startServer, uniqueOwner, type McpClient, type TestServer } from './helpers.js'

const NASTY = `'; DROP TABLE actions; -- %s {} \\ "quoted" $1 \u00e9`
const BIG = 'x'.repeat(1024 * 1024)

type Row = Record<string, unknown>
const ids = (rows: Row[]) => rows.map((r) => r.id)
const entryIds = (rows: Row[]) => rows.map((r) => r.entry_id)

async function note(c: McpClient, description: string, tags: string[] = [], source = 's'): Promise<string> {
  const r = await call(c, 'remember', { source, tags, description, language: 'en' })
  if (r.isError) throw new Error(JSON.stringify(r.body))
  return r.body.id as string
}

/** Direct inserts for tests that need a particular timestamp, platform or data shape. */
const addRead = (srv: TestServer, entryId: string, at: string, platform: string | null = null, tool = 'get_knowledge') =>
  srv.store.withOwner(srv.owner, (tx) => tx`INSERT INTO reads (owner_id, entry_id, "timestamp", platform, tool_used) VALUES (${srv.owner}, ${entryId}, ${new Date(at)}, ${platform}, ${tool})`)
const addAction = (srv: TestServer, entryId: string, at: string, action: string, platform: string | null = null, tags: string[] = []) =>
  srv.store.withOwner(srv.owner, (tx) => tx`INSERT INTO actions (owner_id, entry_id, "timestamp", platform, action, tags) VALUES (${srv.owner}, ${entryId}, ${new Date(at)}, ${platform}, ${action}, ${tx.json(tags)})`)
const setData = (srv: TestServer, id: string, key: string, value: unknown) =>
  srv.store.withOwner(srv.owner, (tx) => tx`UPDATE entries SET data = jsonb_set(data, ${[key]}::text[], ${tx.json(value as never)}) WHERE id = ${id}`)
const setColumn = (srv: TestServer, id: string, column: 'created' | 'updated' | 'deleted' | 'expires', at: string) =>
  srv.store.withOwner(srv.owner, (tx) => tx`UPDATE entries SET ${tx(column)} = ${new Date(at)} WHERE id = ${id}`)
const countReads = async (srv: TestServer, tool?: string) => {
  await srv.reads.flush()
  return (await srv.store.withOwner(srv.owner, (tx) => tx`SELECT count(*)::int AS n FROM reads WHERE owner_id = ${srv.owner} AND (${tool ?? null}::text IS NULL OR tool_used = ${tool ?? null})`))[0].n as number
}

for (const backend of backends()) {
  t.test(`activity tools on ${backend}`, async (t) => {
    t.test('acted_on records an action, answers only its handles, copies tags (2025-era client)', async (t) => {
      const srv = await startServer(t, { backend })
      const c = await clientV1(t, srv.url)
      const id = await note(c, 'the NAS backs up nightly', ['infra', 'nas'])
      const before = Date.now()
      const r = await call(c, 'acted_on', { entry_id: id, action: 'opened issue #24', platform: 'claude-code', detail: 'https://example.test/pr/1' })
      const after = Date.now()
      t.equal(r.isError, false)
      t.same(Object.keys(r.body).sort(), ['action', 'entry_id', 'id', 'status', 'timestamp'], 'no platform, detail or tags echoed')
      t.equal(r.body.status, 'ok')
      t.ok(Number.isInteger(r.body.id), 'integer action id')
      t.equal(r.body.entry_id, id)
      t.equal(r.body.action, 'opened issue #24')
      const stamp = Date.parse(r.body.timestamp)
      t.ok(stamp >= before && stamp <= after, 'timestamp is the application clock at the call')
      const actions = await call(c, 'get_actions', {})
      t.same(actions.body, {
        entries: [{ id: r.body.id, entry_id: id, timestamp: actions.body.entries[0].timestamp, platform: 'claude-code', action: 'opened issue #24', detail: 'https://example.test/pr/1', tags: ['infra', 'nas'] }],
        limit: 100,
        offset: 0,
        has_more: false,
      })
      t.equal(Date.parse(actions.body.entries[0].timestamp), stamp)

      const explicit = await call(c, 'acted_on', { entry_id: id, action: 'tagged', tags: ['deploy'] })
      const empty = await call(c, 'acted_on', { entry_id: id, action: 'untagged', tags: [] })
      const coerced = await call(c, 'acted_on', { entry_id: id, action: 'coerced', tags: '["z","y"]' })
      t.ok(explicit.body.id > r.body.id && empty.body.id > explicit.body.id, 'ids increase')
      const byAction = new Map((await call(c, 'get_actions', {})).body.entries.map((a: Row) => [a.action, a]))
      t.same((byAction.get('tagged') as Row).tags, ['deploy'])
      t.same((byAction.get('untagged') as Row).tags, [], 'an explicit [] is kept, not replaced by the entry tags')
      t.same((byAction.get('coerced') as Row).tags, ['z', 'y'], 'JSON text accepted for tags')
      t.equal((byAction.get('tagged') as Row).platform, null)
      t.equal((byAction.get('tagged') as Row).detail, null)
      t.equal(coerced.isError, false)

      const k = await call(c, 'get_knowledge', { include_history: 'true' })
      t.equal(k.body.entries[0].updated, null, 'the entry itself is not modified')
      t.notOk('changelog' in k.body.entries[0].data)
    })

    t.test('acted_on on a missing, trashed or foreign entry is a not_found envelope and writes nothing (D4)', async (t) => {
      const srv = await startServer(t, { backend })
      const other = await startServer(t, { backend })
      const c = await clientV2(t, srv.url)
      const foreign = await note(await clientV1(t, other.url), 'not yours')
      const trashed = await note(c, 'gone')
      await setColumn(srv, trashed, 'deleted', new Date().toISOString())
      const before = [await snapshot(srv.store, srv.owner), await snapshot(srv.store, other.owner)]
      for (const missing of [randomUUID(), trashed, foreign]) {
        const r = await call(c, 'acted_on', { entry_id: missing, action: 'x', tags: ['t'] })
        t.equal(r.isError, true)
        t.equal(r.body.status, 'error')
        t.same(r.body.error, { code: 'not_found', message: r.body.error.message, retryable: false, param: 'entry_id', value: missing })
        t.match(r.body.error.message, /not found/)
      }
      t.same([await snapshot(srv.store, srv.owner), await snapshot(srv.store, other.owner)], before)
    })

    t.test('get_reads: reads logged by get_knowledge, filters, order, limit (2026-era client)', async (t) => {
      const srv = await startServer(t, { backend })
      const c = await clientV2(t, srv.url)
      const a = await note(c, 'alpha', [], 'src-a')
      const b = await note(c, 'beta', [], 'src-b')
      await call(c, 'get_knowledge', {})
      const all = await call(c, 'get_reads', {})
      t.equal(all.isError, false)
      t.same(Object.keys(all.body).sort(), ['entries', 'has_more', 'limit', 'offset'])
      t.equal(all.body.limit, 100)
      t.equal(all.body.offset, 0)
      t.equal(all.body.has_more, false)
      t.equal(all.body.entries.length, 2)
      for (const row of all.body.entries) {
        t.same(Object.keys(row).sort(), ['entry_id', 'id', 'platform', 'timestamp', 'tool_used'])
        t.ok(Number.isInteger(row.id))
        t.equal(row.tool_used, 'get_knowledge')
        t.equal(row.platform, null)
      }
      t.same(new Set(entryIds(all.body.entries)), new Set([a, b]))
      t.same(entryIds((await call(c, 'get_reads', { entry_id: a })).body.entries), [a])
      t.equal((await call(c, 'get_reads', { entry_id: '' })).body.entries.length, 2, 'entry_id "" = no filter')
      t.same((await call(c, 'get_reads', { entry_id: randomUUID() })).body.entries, [], 'an unknown id simply matches nothing')
      t.same((await call(c, 'get_reads', { platform: 'claude-code' })).body.entries, [], 'tool reads have no platform')
      t.equal((await call(c, 'get_reads', { platform: '' })).body.entries.length, 2, 'platform "" = no filter')

      await addRead(srv, a, '2020-01-01T00:00:00Z', 'web')
      await addRead(srv, a, '2020-06-01T00:00:00Z')
      await addRead(srv, b, '2020-03-01T00:00:00Z')
      const web = await call(c, 'get_reads', { platform: 'web' })
      t.same(entryIds(web.body.entries), [a])
      t.equal(web.body.entries[0].platform, 'web')
      const ordered = (await call(c, 'get_reads', {})).body.entries.map((r: Row) => Date.parse(r.timestamp as string))
      t.same(ordered, [...ordered].sort((x: number, y: number) => y - x), 'newest first')
      t.equal(ordered.length, 5)
      t.same(ordered.slice(2), [Date.parse('2020-06-01T00:00:00Z'), Date.parse('2020-03-01T00:00:00Z'), Date.parse('2020-01-01T00:00:00Z')])
      t.equal((await call(c, 'get_reads', { since: '2020-03-01' })).body.entries.length, 4, 'since is inclusive')
      t.equal((await call(c, 'get_reads', { since: '2020-03-01T00:00:00.001Z' })).body.entries.length, 3)
      t.equal((await call(c, 'get_reads', { since: '2020-02-01T00:00:00+01:00', entry_id: a })).body.entries.length, 2, 'filters combine')

      const one = await call(c, 'get_reads', { limit: 1 })
      t.equal(one.body.entries.length, 1)
      t.equal(one.body.has_more, true)
      t.equal(one.body.limit, 1)
      const zero = await call(c, 'get_reads', { limit: '0' })
      t.same(zero.body, { entries: [], limit: 0, offset: 0, has_more: true })
      t.equal((await call(c, 'get_reads', { limit: 5 })).body.has_more, false)

      await setColumn(srv, a, 'deleted', new Date().toISOString())
      t.equal((await call(c, 'get_reads', { entry_id: a })).body.entries.length, 3, 'reads survive while the entry is in the trash')
    })

    t.test('get_actions: tags AND, entry, platform and since filters, newest first', async (t) => {
      const srv = await startServer(t, { backend })
      const c = await clientV1(t, srv.url)
      const e1 = await note(c, 'one', ['a', 'b'])
      const e2 = await note(c, 'two', ['a'])
      await call(c, 'acted_on', { entry_id: e1, action: 'first', platform: 'p1' })
      await call(c, 'acted_on', { entry_id: e1, action: 'second', platform: 'p2' })
      await call(c, 'acted_on', { entry_id: e2, action: 'third', platform: 'p1' })
      const actions = (args: Row) => call(c, 'get_actions', args).then((r) => r.body.entries.map((a: Row) => a.action))
      t.same(await actions({}), ['third', 'second', 'first'], 'newest first (id breaks equal timestamps)')
      t.same(await actions({ tags: ['a', 'b'] }), ['second', 'first'], 'every listed tag must be on the action')
      t.same(await actions({ tags: ['a'] }), ['third', 'second', 'first'])
      t.same(await actions({ tags: ['b', 'zzz'] }), [])
      t.same(await actions({ tags: [] }), ['third', 'second', 'first'], '[] = no tag filter')
      t.same(await actions({ tags: ['B'] }), [], 'exact, case-sensitive')
      t.same(await actions({ entry_id: e2 }), ['third'])
      t.same(await actions({ entry_id: '' }), ['third', 'second', 'first'])
      t.same(await actions({ platform: 'p1' }), ['third', 'first'])
      t.same(await actions({ platform: '' }), ['third', 'second', 'first'])
      t.same(await actions({ platform: 'p1', tags: ['b'] }), ['first'])
      await addAction(srv, e2, '2021-05-05T12:00:00Z', 'old', 'p1', ['a'])
      await addAction(srv, e2, '2021-05-04T12:00:00Z', 'older', 'p1', ['a'])
      t.same(await actions({ entry_id: e2 }), ['third', 'old', 'older'])
      t.same(await actions({ since: '2021-05-05T12:00:00Z', entry_id: e2 }), ['third', 'old'], 'since is inclusive')
      t.same(await actions({ since: '2022-01-01' }), ['third', 'second', 'first'])
      const page = await call(c, 'get_actions', { limit: 2 })
      t.same(page.body.entries.map((a: Row) => a.action), ['third', 'second'])
      t.equal(page.body.has_more, true)
      t.equal(page.body.offset, 0)
    })

    t.test('get_unread: never-read entries as list items, newest created first; since; limit; no read logging', async (t) => {
      const srv = await startServer(t, { backend })
      const c = await clientV2(t, srv.url)
      const n0 = await note(c, 'zero', ['t'], 'zero')
      const n1 = await note(c, 'one', [], 'one')
      const n2 = await note(c, 'two', [], 'two')
      await setColumn(srv, n0, 'created', '2024-01-01T00:00:00Z')
      await setColumn(srv, n1, 'created', '2024-01-02T00:00:00Z')
      await setColumn(srv, n2, 'created', '2024-01-03T00:00:00Z')
      const all = await call(c, 'get_unread', {})
      t.same(ids(all.body.entries), [n2, n1, n0])
      t.same(Object.keys(all.body).sort(), ['entries', 'has_more', 'limit', 'offset'])
      t.equal(all.body.offset, 0)
      t.same(Object.keys(all.body.entries[2]).sort(), ['created', 'description', 'id', 'source', 'tags', 'type', 'updated'], 'list serialisation')
      t.equal(all.body.entries[2].description, 'zero')
      t.same(all.body.entries[2].tags, ['t'])
      t.equal(await countReads(srv), 0, 'get_unread itself logs no read')

      await call(c, 'get_knowledge', { source: 'one' })
      t.same(ids((await call(c, 'get_unread', {})).body.entries), [n2, n0], 'a read entry is no longer unread')
      const limited = await call(c, 'get_unread', { limit: 1 })
      t.same(ids(limited.body.entries), [n2])
      t.equal(limited.body.has_more, true)
      t.equal(limited.body.limit, 1)

      await addRead(srv, n0, '2020-01-01T00:00:00Z')
      t.same(ids((await call(c, 'get_unread', {})).body.entries), [n2])
      t.same(ids((await call(c, 'get_unread', { since: '2021-01-01' })).body.entries), [n2, n0], 'reads before since do not count')
      t.same(ids((await call(c, 'get_unread', { since: '2020-01-01T00:00:00Z' })).body.entries), [n2], 'since is inclusive')

      const record = (await srv.store.withOwner(srv.owner, (tx) => tx`INSERT INTO entries (id, owner_id, type, source, created, tags, data) VALUES (gen_random_uuid()::text, ${srv.owner}, 'intention', 'r', '2024-01-04T00:00:00Z', '[]', '{"goal": "call mum", "state": "pending"}') RETURNING id`))[0].id as string
      await setColumn(srv, n2, 'expires', '2024-02-01T00:00:00Z')
      const mixed = (await call(c, 'get_unread', {})).body.entries
      t.same(ids(mixed), [record, n2], 'every type, expired entries included')
      t.equal(mixed[0].goal, 'call mum')
      t.equal(mixed[0].state, 'pending')
      await setColumn(srv, n2, 'deleted', new Date().toISOString())
      t.same(ids((await call(c, 'get_unread', {})).body.entries), [record], 'trashed entries excluded')
      t.equal(await countReads(srv), 2, 'still only the reads we made')
    })

    t.test('get_activity: reads and actions merged newest first; limit on the merged feed; filters', async (t) => {
      const srv = await startServer(t, { backend })
      const c = await clientV1(t, srv.url)
      const a = await note(c, 'alpha', ['x'])
      await call(c, 'get_knowledge', {})
      const acted = await call(c, 'acted_on', { entry_id: a, action: 'deployed', platform: 'cli', detail: 'v1.2' })
      const live = (await call(c, 'get_activity', {})).body
      t.same(live.entries[0], { event_type: 'action', entry_id: a, timestamp: acted.body.timestamp, platform: 'cli', action: 'deployed', detail: 'v1.2', tags: ['x'] })
      t.same(live.entries[1], { event_type: 'read', entry_id: a, timestamp: live.entries[1].timestamp, platform: null, action: null, detail: 'get_knowledge', tags: [] })
      t.same([live.limit, live.offset, live.has_more, live.entries.length], [100, 0, false, 2])

      const b = await note(c, 'beta')
      await addRead(srv, b, '2021-01-01T00:00:01Z')
      await addAction(srv, b, '2021-01-01T00:00:02Z', 'x1', 'cli', ['t'])
      await addRead(srv, b, '2021-01-01T00:00:03Z', null, 'search')
      await addAction(srv, b, '2021-01-01T00:00:04Z', 'x2', 'web')
      await addRead(srv, b, '2021-01-01T00:00:05Z', 'web')
      const feed = (args: Row) => call(c, 'get_activity', args).then((r) => r.body)
      const label = (e: Row) => (e.event_type === 'read' ? `read@${String(e.timestamp).slice(17, 19)}` : e.action)
      const old = await feed({ since: '2021-01-01', limit: 10 })
      t.same(old.entries.filter((e: Row) => e.entry_id === b).map(label), ['read@05', 'x2', 'read@03', 'x1', 'read@01'])
      const times = old.entries.map((e: Row) => Date.parse(e.timestamp as string))
      t.same(times, [...times].sort((x: number, y: number) => y - x), 'newest first overall')
      const cut = await feed({ since: '2021-01-01', until: 'ignored', limit: 3 })
      t.equal(cut.entries.length, 3, 'limit applies to the merged feed')
      t.equal(cut.has_more, true)
      t.same(cut.entries.map((e: Row) => e.event_type), ['action', 'read', 'read'], 'the three newest across both tables')
      const two = await feed({ since: '2021-01-01', limit: 2 })
      t.same(two.entries.map((e: Row) => [e.event_type, e.entry_id]), [['action', a], ['read', a]], 'each side contributes its newest rows')
      t.same((await feed({ platform: 'cli' })).entries.map(label), ['deployed', 'x1'], 'platform matches actions (tool reads have none)')
      t.same((await feed({ platform: 'web' })).entries.map(label), ['read@05', 'x2'])
      t.equal((await feed({ platform: '' })).entries.length, 7, 'platform "" = no filter')
      const since = await feed({ since: '2021-01-01T00:00:03Z' })
      t.same(since.entries.filter((e: Row) => e.entry_id === b).map(label), ['read@05', 'x2', 'read@03'], 'since is inclusive')
      t.same(await feed({ limit: 0 }), { entries: [], limit: 0, offset: 0, has_more: true })
      t.same((await feed({ since: '2999-01-01' })).entries, [])
    })

    t.test('get_related: forward then reverse, de-duplicated, self and non-array links ignored, reads logged (D14)', async (t) => {
      const srv = await startServer(t, { backend })
      const c = await clientV2(t, srv.url)
      const [a, b, cc, d, e, f, g, trashed] = [
        await note(c, 'a'), await note(c, 'b'), await note(c, 'c'), await note(c, 'd'),
        await note(c, 'e'), await note(c, 'f'), await note(c, 'g'), await note(c, 'trashed'),
      ]
      await setColumn(srv, trashed, 'deleted', new Date().toISOString())
      await setData(srv, a, 'related_ids', [b, cc, a, 42, null, { id: d }, trashed, randomUUID(), b])
      await setData(srv, b, 'related_ids', [a])
      await setData(srv, d, 'related_ids', [a, d])
      await setData(srv, e, 'related_ids', a)
      await setData(srv, f, 'related_ids', { x: a })
      await setData(srv, trashed, 'related_ids', [a])
      await setData(srv, cc, 'changelog', [{ updated: '2024-01-01T00:00:00Z', changed: { description: 'old' } }])
      await setColumn(srv, b, 'created', '2024-01-01T00:00:00Z')
      await setColumn(srv, cc, 'created', '2024-01-02T00:00:00Z')

      const related = await call(c, 'get_related', { entry_id: a })
      t.equal(related.isError, false)
      t.ok(Array.isArray(related.body), 'a bare array')
      t.same(ids(related.body), [cc, b, d], 'forward by activity time (c newer than b), then reverse; b once; no self, trashed, unknown or non-string ids')
      t.same(related.body[0].data.changelog, [{ updated: '2024-01-01T00:00:00Z', changed: { description: 'old' } }], 'full mode: data as stored')
      t.equal(related.body[0].data.description, 'c')
      const list = await call(c, 'get_related', { entry_id: a, mode: 'list' })
      t.same(ids(list.body), [cc, b, d])
      t.ok(list.body.every((x: Row) => !('data' in x)), 'list mode has no data')
      t.equal(list.body[0].description, 'c')

      await srv.reads.flush()
      const logged = await srv.store.withOwner(srv.owner, (tx) => tx`SELECT entry_id, platform FROM reads WHERE tool_used = 'get_related' ORDER BY id`)
      t.same(logged.map((r) => r.entry_id), [cc, b, d, cc, b, d], 'every returned entry logged per call')
      t.ok(logged.every((r) => r.platform === null))

      t.same((await call(c, 'get_related', { entry_id: d })).body.map((x: Row) => x.id), [a], 'self-reference excluded')
      t.same((await call(c, 'get_related', { entry_id: e })).body, [], 'a string related_ids is not iterated')
      // An entry whose id is one character: iterating a string related_ids character by character would find it.
      const short = 'q'
      await srv.store.withOwner(srv.owner, (tx) => tx`INSERT INTO entries (id, owner_id, type, source, created, tags, data) VALUES (${short}, ${srv.owner}, 'note', 's', now(), '[]', '{"description": "short"}')`)
      await setData(srv, e, 'related_ids', short)
      t.same((await call(c, 'get_related', { entry_id: e })).body, [], 'forward: a string is not a list of ids')
      t.same((await call(c, 'get_related', { entry_id: short })).body, [], 'reverse: a string equal to the id is not a reference')
      t.same((await call(c, 'get_related', { entry_id: f })).body, [], 'an object related_ids is ignored')
      t.same((await call(c, 'get_related', { entry_id: g })).body, [], 'no relations')
      const readsBefore = await countReads(srv, 'get_related')
      await call(c, 'get_related', { entry_id: g })
      t.equal(await countReads(srv, 'get_related'), readsBefore, 'nothing returned, nothing logged')

      await setData(srv, g, 'related_ids', [b])
      await setColumn(srv, a, 'updated', '2023-01-01T00:00:00Z')
      await setColumn(srv, g, 'updated', '2030-01-01T00:00:00Z')
      t.same(ids((await call(c, 'get_related', { entry_id: b })).body), [a, g], 'forward (a) before reverse (g) whatever their times')
      const [x, y, z] = [await note(c, 'x'), await note(c, 'y'), await note(c, 'z')]
      await setData(srv, y, 'related_ids', [x])
      await setData(srv, z, 'related_ids', [x, x])
      await setColumn(srv, y, 'created', '2024-05-01T00:00:00Z')
      await setColumn(srv, z, 'created', '2024-04-01T00:00:00Z')
      t.same(ids((await call(c, 'get_related', { entry_id: x })).body), [y, z], 'reverse links by activity time')
      await setColumn(srv, z, 'updated', '2025-01-01T00:00:00Z')
      t.same(ids((await call(c, 'get_related', { entry_id: x })).body), [z, y], 'activity time is updated when set')

      for (const missing of [randomUUID(), trashed]) {
        const r = await call(c, 'get_related', { entry_id: missing })
        t.equal(r.isError, true)
        t.same(r.body, { status: 'error', error: { code: 'not_found', message: `Entry not found: '${missing}'`, retryable: false, param: 'entry_id', value: missing } })
      }
    })

    t.test('a failing read log never fails get_related; the failure is logged as a warning', async (t) => {
      const lines: Record<string, unknown>[] = []
      const stream = new Writable({
        write(chunk, _enc, done) {
          for (const line of String(chunk).split('\n')) if (line.trim() !== '') lines.push(JSON.parse(line))
          done()
        },
      })
      const srv = await startServer(t, { backend, owner: uniqueOwner('failreads'), logger: pino({ level: 'warn' }, stream) })
      const c = await clientV1(t, srv.url)
      const [a, b] = [await note(c, 'a'), await note(c, 'b')]
      await setData(srv, a, 'related_ids', [b])
      // Fixed DDL, no caller data: reads of owners named failreads-* are refused by the database.
      await srv.store.system(async (tx) => {
        await tx.unsafe(`CREATE OR REPLACE FUNCTION test_refuse_reads() RETURNS trigger LANGUAGE plpgsql AS $$
          BEGIN IF NEW.owner_id LIKE 'failreads-%' THEN RAISE EXCEPTION 'reads refused'; END IF; RETURN NEW; END $$`)
        await tx.unsafe(`CREATE TRIGGER test_refuse_reads BEFORE INSERT ON reads FOR EACH ROW EXECUTE FUNCTION test_refuse_reads()`)
      })
      t.teardown(() => srv.store.system((tx) => tx.unsafe(`DROP TRIGGER IF EXISTS test_refuse_reads ON reads; DROP FUNCTION IF EXISTS test_refuse_reads()`)))
      const r = await call(c, 'get_related', { entry_id: a })
      t.equal(r.isError, false)
      t.same(ids(r.body), [b], 'the answer is complete')
      t.equal(await countReads(srv), 0, 'nothing was logged')
      t.ok(lines.some((l) => l.level === 40 && /read logging failed/.test(String(l.msg))), 'a warning was logged')
    })

    t.test('bad input answers the §2.4 envelope and changes nothing for either owner', async (t) => {
      const srv = await startServer(t, { backend })
      const other = await startServer(t, { backend })
      for (const era of ['2025', '2026'] as const) {
        const c = era === '2025' ? await clientV1(t, srv.url) : await clientV2(t, srv.url)
        const mine = await note(c, 'mine', ['m'])
        await call(c, 'get_knowledge', {})
        await call(c, 'acted_on', { entry_id: mine, action: 'seed' })
        const theirs = await note(await clientV1(t, other.url), 'theirs')
        const before = [await snapshot(srv.store, srv.owner), await snapshot(srv.store, other.owner)]
        const bad = ['', 'not-a-date', 'bad', 'nope', '2026-13-45', '2026-99-99', '2026-02-30', BIG]
        const cases: [string, Row, string, string][] = [
          ['acted_on', {}, 'invalid_parameter', 'entry_id'],
          ['acted_on', { entry_id: mine }, 'invalid_parameter', 'action'],
          ['acted_on', { action: 'x' }, 'invalid_parameter', 'entry_id'],
          ['acted_on', { entry_id: null, action: 'x' }, 'invalid_parameter', 'entry_id'],
          ['acted_on', { entry_id: 5, action: 'x' }, 'invalid_parameter', 'entry_id'],
          ['acted_on', { entry_id: mine, action: true }, 'invalid_parameter', 'action'],
          ['acted_on', { entry_id: mine, action: ['x'] }, 'invalid_parameter', 'action'],
          ['acted_on', { entry_id: mine, action: 'x', platform: 7 }, 'invalid_parameter', 'platform'],
          ['acted_on', { entry_id: mine, action: 'x', detail: {} }, 'invalid_parameter', 'detail'],
          ['acted_on', { entry_id: mine, action: 'x', tags: 'not-json' }, 'invalid_parameter', 'tags'],
          ['acted_on', { entry_id: mine, action: 'x', tags: [1, 2] }, 'invalid_parameter', 'tags'],
          ['acted_on', { entry_id: mine, action: 'x', tags: '{"a":1}' }, 'invalid_parameter', 'tags'],
          ['acted_on', { entry_id: randomUUID(), action: 'x' }, 'not_found', 'entry_id'],
          ['acted_on', { entry_id: theirs, action: 'x' }, 'not_found', 'entry_id'],
          ['acted_on', { entry_id: NASTY, action: NASTY, platform: NASTY, detail: NASTY, tags: [NASTY] }, 'not_found', 'entry_id'],
          ['acted_on', { entry_id: BIG, action: BIG, detail: BIG }, 'not_found', 'entry_id'],
          ['acted_on', { entry_id: '', action: 'x' }, 'not_found', 'entry_id'],
          ['get_related', {}, 'invalid_parameter', 'entry_id'],
          ['get_related', { entry_id: 5 }, 'invalid_parameter', 'entry_id'],
          ['get_related', { entry_id: mine, mode: 3 }, 'invalid_parameter', 'mode'],
          ['get_related', { entry_id: randomUUID() }, 'not_found', 'entry_id'],
          ['get_related', { entry_id: theirs }, 'not_found', 'entry_id'],
          ['get_related', { entry_id: NASTY, mode: NASTY }, 'not_found', 'entry_id'],
          ['get_related', { entry_id: BIG }, 'not_found', 'entry_id'],
          ['get_related', { entry_id: '' }, 'not_found', 'entry_id'],
        ]
        for (const tool of ['get_reads', 'get_actions', 'get_unread', 'get_activity']) {
          cases.push([tool, { limit: -1 }, 'invalid_parameter', 'limit'], [tool, { limit: '-5' }, 'invalid_parameter', 'limit'])
          cases.push([tool, { limit: 'ten' }, 'invalid_parameter', 'limit'], [tool, { limit: 1.5 }, 'invalid_parameter', 'limit'])
          cases.push([tool, { since: 20260101 }, 'invalid_parameter', 'since'], [tool, { since: ['2026-01-01'] }, 'invalid_parameter', 'since'])
          for (const since of bad) cases.push([tool, { since }, 'invalid_parameter', 'since'])
        }
        for (const tool of ['get_reads', 'get_actions']) cases.push([tool, { entry_id: 5 }, 'invalid_parameter', 'entry_id'], [tool, { platform: false }, 'invalid_parameter', 'platform'])
        cases.push(['get_activity', { platform: 1 }, 'invalid_parameter', 'platform'], ['get_actions', { tags: [null] }, 'invalid_parameter', 'tags'], ['get_actions', { tags: 'a' }, 'invalid_parameter', 'tags'])
        for (const [tool, args, code, param] of cases) {
          const what = `${era}: ${tool} ${JSON.stringify(args).slice(0, 80)}`
          const r = await call(c, tool, args)
          t.equal(r.isError, true, `${what} is an error`)
          t.equal(r.body.status, 'error', what)
          t.equal(r.body.error.code, code, what)
          t.equal(r.body.error.param, param, what)
          t.equal(r.body.error.retryable, false, what)
          t.equal(typeof r.body.error.message, 'string', what)
          if (code === 'not_found' || 'since' in args) t.same(r.body.error.value, args[param], `${what}: value echoed verbatim`)
          for (const [k, v] of Object.entries(r.body.error)) if (k !== 'value') t.not(v, null, `${what}: ${k} never null`)
        }
        const negative = await call(c, 'get_unread', { limit: -1 })
        t.equal(negative.body.error.message, 'limit must be non-negative')
        t.equal(negative.body.error.value, -1)
        const empty = await call(c, 'get_activity', { since: '' })
        t.match(empty.body.error.help_url, /ISO_8601/)
        t.match(empty.body.error.message, /ISO 8601/)
        t.match((await call(c, 'get_reads', { since: 'nope' })).body.error.message, /since.*nope.*ISO 8601/)
        t.same([await snapshot(srv.store, srv.owner), await snapshot(srv.store, other.owner)], before, `${era}: nothing changed for either owner`)
      }
    })

    t.test('SQL metacharacters and 1 MiB strings are stored and returned verbatim; filters match them exactly', async (t) => {
      const srv = await startServer(t, { backend })
      const c = await clientV2(t, srv.url)
      const id = await note(c, NASTY, [NASTY])
      const r = await call(c, 'acted_on', { entry_id: id, action: NASTY, platform: NASTY, detail: NASTY, tags: [NASTY, 'plain'] })
      t.equal(r.isError, false)
      t.equal(r.body.action, NASTY)
      const big = await call(c, 'acted_on', { entry_id: id, action: BIG, platform: BIG, detail: BIG })
      t.equal(big.body.action, BIG, 'the action handle is echoed verbatim')
      const byPlatform = await call(c, 'get_actions', { platform: NASTY, tags: [NASTY] })
      t.equal(byPlatform.body.entries.length, 1)
      t.same(byPlatform.body.entries[0], { id: r.body.id, entry_id: id, timestamp: r.body.timestamp, platform: NASTY, action: NASTY, detail: NASTY, tags: [NASTY, 'plain'] })
      const bigRow = (await call(c, 'get_actions', { platform: BIG })).body.entries
      t.equal(bigRow.length, 1)
      t.equal(bigRow[0].detail, BIG)
      t.same(bigRow[0].tags, [NASTY], 'default tags copied from the entry')
      t.same((await call(c, 'get_actions', { tags: [BIG] })).body.entries, [])
      const feed = (await call(c, 'get_activity', { platform: NASTY })).body.entries
      t.same(feed, [{ event_type: 'action', entry_id: id, timestamp: r.body.timestamp, platform: NASTY, action: NASTY, detail: NASTY, tags: [NASTY, 'plain'] }])
      t.same((await call(c, 'get_reads', { entry_id: NASTY, platform: NASTY })).body.entries, [])
      t.same((await call(c, 'get_reads', { entry_id: BIG, platform: BIG })).body.entries, [])
      t.same((await call(c, 'get_activity', { platform: BIG })).body.entries.length, 1)
      const target = await note(c, 'target')
      await setData(srv, id, 'related_ids', [target, NASTY, BIG])
      t.same(ids((await call(c, 'get_related', { entry_id: id })).body), [target])
      t.same(ids((await call(c, 'get_related', { entry_id: target })).body), [id])
      t.equal((await call(c, 'get_unread', {})).body.entries.length, 0, 'tables intact, both entries read by get_related')
    })

    t.test('owners never see each other\'s reads, actions, unread entries, activity or relations', async (t) => {
      const alice = await startServer(t, { backend })
      const bob = await startServer(t, { backend })
      const a = await clientV1(t, alice.url)
      const b = await clientV2(t, bob.url)
      const a1 = await note(a, 'alice one', ['private'])
      const a2 = await note(a, 'alice two')
      await call(a, 'get_knowledge', {})
      await call(a, 'acted_on', { entry_id: a1, action: 'secret action', platform: 'cli' })
      const b1 = await note(b, 'bob one')
      await setData(bob, b1, 'related_ids', [a1])
      await setData(alice, a2, 'related_ids', [b1, a1])
      const aliceBefore = await snapshot(alice.store, alice.owner)

      t.same((await call(b, 'get_reads', {})).body.entries, [])
      t.same((await call(b, 'get_reads', { entry_id: a1 })).body.entries, [])
      t.same((await call(b, 'get_actions', {})).body.entries, [])
      t.same((await call(b, 'get_actions', { entry_id: a1, platform: 'cli' })).body.entries, [])
      t.same((await call(b, 'get_activity', {})).body.entries, [])
      t.same(ids((await call(b, 'get_unread', {})).body.entries), [b1], 'only bob\'s own entry')
      t.same((await call(b, 'get_related', { entry_id: b1 })).body, [], 'neither alice\'s target nor alice\'s referrer')
      t.equal((await call(b, 'get_related', { entry_id: a1 })).body.error.code, 'not_found')
      t.equal((await call(b, 'acted_on', { entry_id: a1, action: 'steal' })).body.error.code, 'not_found')
      t.equal(await snapshot(alice.store, alice.owner), aliceBefore, 'bob changed nothing of alice\'s')

      t.same(ids((await call(a, 'get_related', { entry_id: a2 })).body), [a1], 'alice sees her own link, not bob\'s entry')
      t.same(ids((await call(a, 'get_related', { entry_id: a1 })).body), [a2], 'bob\'s reference to a1 is invisible to alice')
      t.equal((await call(a, 'get_actions', {})).body.entries.length, 1)
      t.same((await call(b, 'get_reads', {})).body.entries, [], 'bob\'s get_related logged only into bob\'s (empty) history')
    })
  })
}
