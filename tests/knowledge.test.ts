/**
 * remember, get_knowledge, get_stats, get_tags through real MCP clients of both protocol eras, on every
 * backend (mcp-surface.md §3.4, §3.6, §3.7, §3.18, checklist §10).
 */
import t from 'tap'
import { backends, call, clientV1, clientV2, snapshot, startServer } from './helpers.js'

for (const backend of backends()) {
  t.test(`knowledge tools on ${backend}`, async (t) => {
    t.test('remember stores a note and returns only status and id (2025-era client)', async (t) => {
      const srv = await startServer(t, { backend })
      const c = await clientV1(t, srv.url)
      const r = await call(c, 'remember', { source: 'personal', tags: ['family'], description: 'Sentinel-desc-91 is my sister', content: { born: 1990 }, language: 'en' })
      t.equal(r.isError, false)
      t.same(Object.keys(r.body).sort(), ['id', 'status'])
      t.match(r.body.id, /^[0-9a-f-]{36}$/)
      const k = await call(c, 'get_knowledge', {})
      t.equal(k.body.entries.length, 1)
      const e = k.body.entries[0]
      t.equal(e.data.content, JSON.stringify({ born: 1990 }), 'object content stored as JSON text')
      t.equal(e.data.content_type, 'text/plain')
      t.equal(e.data.learned_from, 'conversation')
      t.equal(e.language, 'english')
      t.equal(e.updated, null)
    })

    t.test('remember without content stores neither content nor content_type', async (t) => {
      const srv = await startServer(t, { backend })
      const c = await clientV2(t, srv.url)
      await call(c, 'remember', { source: 's', tags: [], description: 'plain fact' })
      const e = (await call(c, 'get_knowledge', {})).body.entries[0]
      t.notOk('content' in e.data)
      t.notOk('content_type' in e.data)
      t.notOk('language' in e, 'language omitted when simple')
    })

    t.test('logical_key upsert: created, then updated in place with a changelog; identical re-send writes nothing', async (t) => {
      const srv = await startServer(t, { backend })
      const c = await clientV2(t, srv.url)
      const a = await call(c, 'remember', { source: 'proj', tags: ['x'], description: 'v1', logical_key: 'doc' })
      t.same(a.body.action, 'created')
      const b = await call(c, 'remember', { source: 'proj', tags: ['x'], description: 'v2', logical_key: 'doc' })
      t.same(b.body, { status: 'ok', id: a.body.id, action: 'updated' })
      const c2 = await call(c, 'remember', { source: 'proj', tags: ['x'], description: 'v2', logical_key: 'doc' })
      t.equal(c2.body.action, 'updated')
      const d = await call(c, 'remember', { source: 'proj', tags: ['x'], description: 'v2', logical_key: 'doc', content: 'now with content' })
      t.equal(d.body.id, a.body.id)
      const k = await call(c, 'get_knowledge', { include_history: 'true' })
      t.equal(k.body.entries.length, 1)
      const log = k.body.entries[0].data.changelog
      t.equal(log.length, 2, 'one record per real change, none for the identical re-send')
      t.same(log[0].changed, { description: 'v1' })
      t.same(log[1].changed, { content: null, content_type: null }, 'previously absent fields recorded as null and persisted (D5)')
      t.equal(k.body.entries[0].data.content, 'now with content')
      const other = await call(c, 'remember', { source: 'other', tags: [], description: 'v1', logical_key: 'doc' })
      t.not(other.body.id, a.body.id, 'same key in another source is a separate entry')
      t.same((await call(c, 'remember', { source: 'proj', tags: [], description: 'k', logical_key: '' })).body.action, undefined, '"" means no key (D21)')
    })

    t.test('logical_key held by another type is a clean error and changes nothing (D7)', async (t) => {
      const srv = await startServer(t, { backend })
      const c = await clientV1(t, srv.url)
      const first = await call(c, 'remember', { source: 's', tags: [], description: 'note', logical_key: 'k' })
      await srv.store.withOwner(srv.owner, (tx) => tx`UPDATE entries SET type = 'record' WHERE id = ${first.body.id}`)
      const before = await snapshot(srv.store, srv.owner)
      const r = await call(c, 'remember', { source: 's', tags: [], description: 'overwrite?', logical_key: 'k' })
      t.equal(r.isError, true)
      t.equal(r.body.error.code, 'invalid_parameter')
      t.equal(r.body.error.param, 'logical_key')
      t.equal(r.body.error.existing_type, 'record')
      t.equal(r.body.error.existing_id, first.body.id)
      t.equal(await snapshot(srv.store, srv.owner), before)
    })

    t.test('get_knowledge filters, ordering, pagination and read logging', async (t) => {
      const srv = await startServer(t, { backend })
      const c = await clientV2(t, srv.url)
      const ids: string[] = []
      for (let i = 0; i < 5; i++) ids.push((await call(c, 'remember', { source: i % 2 ? 'odd' : 'even', tags: i < 3 ? ['a', 'b'] : ['a'], description: `n${i}` })).body.id)
      const all = await call(c, 'get_knowledge', { limit: 2 })
      t.same(all.body.entries.map((e: { id: string }) => e.id), [ids[4], ids[3]], 'newest first')
      t.equal(all.body.has_more, true)
      t.equal(all.body.limit, 2)
      const last = await call(c, 'get_knowledge', { limit: 2, offset: 4 })
      t.same(last.body.entries.map((e: { id: string }) => e.id), [ids[0]])
      t.equal(last.body.has_more, false)
      t.equal((await call(c, 'get_knowledge', { tags: ['a', 'b'] })).body.entries.length, 3, 'tags AND')
      t.equal((await call(c, 'get_knowledge', { source: 'odd' })).body.entries.length, 2)
      t.equal((await call(c, 'get_knowledge', { source: '' })).body.entries.length, 0, '"" matches only global entries')
      const zero = await call(c, 'get_knowledge', { limit: 0 })
      t.same(zero.body.entries, [])
      t.equal(zero.body.has_more, true)
      const list = await call(c, 'get_knowledge', { mode: 'list', limit: '1' })
      t.notOk('data' in list.body.entries[0])
      t.equal(list.body.entries[0].description, 'n4')
      t.ok(list.body.entries[0].read_count >= 2, 'read count includes this very call')
      await srv.reads.flush()
      const reads = await srv.store.withOwner(srv.owner, (tx) => tx`SELECT tool_used, platform FROM reads WHERE entry_id = ${ids[4]}`)
      t.ok(reads.length >= 2)
      t.equal(reads[0].tool_used, 'get_knowledge')
      t.equal(reads[0].platform, null)
      const future = await call(c, 'get_knowledge', { since: '2999-01-01' })
      t.same(future.body.entries, [])
      const past = await call(c, 'get_knowledge', { until: '2000-01-01T00:00:00Z' })
      t.same(past.body.entries, [])
      t.equal((await call(c, 'get_knowledge', { created_after: '2000-01-01', created_before: '2999-12-31 23:59' })).body.entries.length, 5)
    })

    t.test('get_knowledge type scope, language filter and history modes', async (t) => {
      const srv = await startServer(t, { backend })
      const c = await clientV1(t, srv.url)
      await call(c, 'remember', { source: 's', tags: [], description: 'Les serveurs redémarrent chaque nuit à trois heures', language: 'fr' })
      await call(c, 'remember', { source: 's', tags: [], description: 'v1', logical_key: 'k' })
      await call(c, 'remember', { source: 's', tags: [], description: 'v2', logical_key: 'k' })
      await srv.store.withOwner(srv.owner, (tx) => tx`INSERT INTO entries (id, owner_id, type, source, created, tags, data) VALUES (gen_random_uuid()::text, ${srv.owner}, 'record', 's', now(), '[]', '{}')`)
      t.equal((await call(c, 'get_knowledge', {})).body.entries.length, 2, 'records are not knowledge by default')
      t.equal((await call(c, 'get_knowledge', { entry_type: 'record' })).body.entries.length, 1)
      const fr = await call(c, 'get_knowledge', { language: ' FR ' })
      t.equal(fr.body.entries.length, 1)
      t.equal(fr.body.entries[0].language, 'french')
      t.equal((await call(c, 'get_knowledge', { language: 'simple' })).body.entries.length, 1)
      const stripped = await call(c, 'get_knowledge', {})
      t.ok(stripped.body.entries.every((e: { data: object }) => !('changelog' in e.data)), 'changelog stripped by default')
      const only = await call(c, 'get_knowledge', { include_history: 'only' })
      t.equal(only.body.entries.length, 1)
      t.equal(only.body.entries[0].data.changelog.length, 1)
      t.equal((await call(c, 'get_knowledge', { include_history: true })).body.entries.filter((e: { data: object }) => 'changelog' in e.data).length, 1, 'boolean accepted')
    })

    t.test('expired entries are hidden unless include_expired (decision 7)', async (t) => {
      const srv = await startServer(t, { backend })
      const c = await clientV2(t, srv.url)
      const r = await call(c, 'remember', { source: 's', tags: [], description: 'stale' })
      await srv.store.withOwner(srv.owner, (tx) => tx`UPDATE entries SET expires = now() - interval '1 minute' WHERE id = ${r.body.id}`)
      t.equal((await call(c, 'get_knowledge', {})).body.entries.length, 0)
      t.equal((await call(c, 'get_knowledge', { include_expired: true })).body.entries.length, 1)
    })

    t.test('bad input answers the envelope and changes nothing', async (t) => {
      const srv = await startServer(t, { backend })
      const c = await clientV1(t, srv.url)
      await call(c, 'remember', { source: 's', tags: [], description: 'keep' })
      const before = await snapshot(srv.store, srv.owner)
      const cases: [string, Record<string, unknown>, string, string?][] = [
        ['remember', { tags: [], description: 'no source' }, 'source'],
        ['remember', { source: 's', tags: 'not-json', description: 'd' }, 'tags'],
        ['remember', { source: 7, tags: [], description: 'd' }, 'source'],
        ['remember', { source: 's', tags: [], description: 'nul \u0000 inside' }, 'description'],
        ['remember', { source: 's', tags: ['a\u0000'], description: 'd' }, 'tags'],
        ['remember', { source: 's', tags: [], description: 'd', content: { k: 'nul \u0000' } }, 'content'],
        ['get_knowledge', { limit: -1 }, 'limit'],
        ['get_knowledge', { offset: -3 }, 'offset'],
        ['get_knowledge', { since: '' }, 'since'],
        ['get_knowledge', { since: 'not-a-date' }, 'since'],
        ['get_knowledge', { until: '2026-13-45' }, 'until'],
        ['get_knowledge', { created_after: '2026-02-30' }, 'created_after'],
        ['get_knowledge', { entry_type: 'notes' }, 'entry_type', 'note'],
        ['get_knowledge', { entry_type: 'Note' }, 'entry_type', 'note'],
        ['get_knowledge', { entry_type: 'xyz' }, 'entry_type'],
        ['get_knowledge', { language: 'xx' }, 'language'],
      ]
      for (const [tool, args, param, suggestion] of cases) {
        const r = await call(c, tool, args)
        t.equal(r.isError, true, `${tool} ${JSON.stringify(args)} is an error`)
        t.equal(r.body.status, 'error')
        t.equal(r.body.error.code, 'invalid_parameter')
        t.equal(r.body.error.param, param)
        t.equal(r.body.error.retryable, false)
        if (suggestion !== undefined) t.equal(r.body.error.suggestion, suggestion)
      }
      const bogus = await call(c, 'get_knowledge', { entry_type: 'bogus' })
      t.same(bogus.body.error.valid, ['alert', 'context', 'intention', 'note', 'pattern', 'preference', 'record', 'schema', 'status', 'suppression'])
      t.notOk('suggestion' in bogus.body.error, 'absent fields are omitted, never null')
      t.match((await call(c, 'get_knowledge', { since: 'bad' })).body.error.help_url, /ISO_8601/)
      t.match((await call(c, 'get_knowledge', { language: 'xx' })).body.error.message, /Unknown language code/)
      t.equal(await snapshot(srv.store, srv.owner), before)
    })

    t.test('SQL metacharacters and a 1 MiB string are stored verbatim', async (t) => {
      const srv = await startServer(t, { backend })
      const c = await clientV2(t, srv.url)
      const nasty = `'; DROP TABLE entries; -- %s {} \\ "quoted" $1`
      const big = 'x'.repeat(1024 * 1024)
      await call(c, 'remember', { source: nasty, tags: [nasty], description: nasty, content: big })
      const e = (await call(c, 'get_knowledge', { source: nasty, tags: [nasty] })).body.entries[0]
      t.equal(e.source, nasty)
      t.same(e.tags, [nasty])
      t.equal(e.data.description, nasty)
      t.equal(e.data.content.length, big.length)
    })

    t.test('get_stats and get_tags', async (t) => {
      const srv = await startServer(t, { backend })
      const c = await clientV1(t, srv.url)
      const empty = await call(c, 'get_stats')
      t.same(empty.body, { entries: { alert: 0, context: 0, intention: 0, note: 0, pattern: 0, preference: 0, record: 0, schema: 0, status: 0, suppression: 0 }, sources: [], total: 0 })
      t.same((await call(c, 'get_tags')).body, [])
      await call(c, 'remember', { source: 'nas', tags: ['infra', 'b'], description: 'one' })
      await call(c, 'remember', { source: 'personal', tags: ['infra', 'a'], description: 'two' })
      const trashed = await call(c, 'remember', { source: 'zzz', tags: ['gone'], description: 'three' })
      await srv.store.withOwner(srv.owner, (tx) => tx`UPDATE entries SET deleted = now() WHERE id = ${trashed.body.id}`)
      const stats = await call(c, 'get_stats')
      t.equal(stats.body.entries.note, 2)
      t.equal(stats.body.total, 2)
      t.same(stats.body.sources, ['nas', 'personal'])
      t.same((await call(c, 'get_tags')).body, [
        { tag: 'infra', count: 2 },
        { tag: 'a', count: 1 },
        { tag: 'b', count: 1 },
      ])
    })

    t.test('owners never see each other', async (t) => {
      const alice = await startServer(t, { backend })
      const bob = await startServer(t, { backend })
      const a = await clientV1(t, alice.url)
      const b = await clientV2(t, bob.url)
      await call(a, 'remember', { source: 'secret', tags: ['private'], description: 'alice only' })
      t.same((await call(b, 'get_knowledge', {})).body.entries, [])
      t.equal((await call(b, 'get_stats')).body.total, 0)
      t.same((await call(b, 'get_tags')).body, [])
      t.equal((await call(a, 'get_knowledge', {})).body.entries.length, 1)
    })
  })
}
