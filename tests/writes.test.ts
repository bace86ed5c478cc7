/**
 * add_context, learn_pattern, set_preference through real MCP clients of both protocol eras, on every
 * backend (mcp-surface.md §3.19–§3.21, §2.10, §2.11, §2.16, checklist §10), plus the bad-input matrix.
 */
import t from 'tap'
import type { Store } from '../store/index.js'
import { backends, call, clientV1, clientV2, snapshot, startServer, type McpClient } from './helpers.js'

const DAY = 86_400_000
const NASTY = `'; DROP TABLE entries; -- %s {} \\ "quoted" $1 ' OR '1'='1 \\x00 /* */`
const BIG = 'x'.repeat(1024 * 1024)

/** Every column of every row of the owner (plus its cleanup-candidate mark): any change shows. */
async function state(store: Store, owner: string): Promise<string> {
  const [row] = await store.withOwner(owner, (tx) => tx`
    SELECT md5(coalesce(string_agg(concat_ws('|', id, type, source, created, updated, expires, deleted, tags::text, data::text, logical_key, language::text), ',' ORDER BY id), '')) AS h
    FROM entries WHERE owner_id = ${owner}`)
  const marks = await store.system((tx) => tx`SELECT count(*)::int AS n FROM owner_settings WHERE owner_id = ${owner}`)
  return `${await snapshot(store, owner)}|${row.h as string}|${marks[0].n as number}`
}

function recorder(): { schedule(owner: string, id: string): void; ids: string[] } {
  const ids: string[] = []
  return { ids, schedule: (_owner, id) => void ids.push(id) }
}

const clients = [
  ['2025-era', clientV1],
  ['2026-era', clientV2],
] as const

for (const backend of backends()) {
  t.test(`write tools on ${backend}`, async (t) => {
    for (const [era, connect] of clients) {
      t.test(`add_context (${era} client)`, async (t) => {
        const embed = recorder()
        const srv = await startServer(t, { backend, embed })
        const c = await connect(t, srv.url)
        const before = Date.now()
        const r = await call(c, 'add_context', { source: 'personal', tags: ['trip'], description: 'Sentinel-ctx-1 travelling this week', language: 'en' })
        t.equal(r.isError, false)
        t.same(Object.keys(r.body).sort(), ['expires', 'id', 'status'], 'only server-generated fields (§2.16)')
        t.equal(r.body.status, 'ok')
        const expires = Date.parse(r.body.expires)
        t.ok(expires >= before + 30 * DAY - 1000 && expires <= Date.now() + 30 * DAY + 1000, 'default expiry now + 30 days')
        const seven = await call(c, 'add_context', { source: 'personal', tags: [], description: 'short', expires_days: '7' })
        t.ok(Math.abs(Date.parse(seven.body.expires) - (Date.now() + 7 * DAY)) < 5000, 'expires_days as a digit string is coerced')
        const k = await call(c, 'get_knowledge', { entry_type: 'context' })
        t.equal(k.body.entries.length, 2)
        const e = k.body.entries.find((x: { id: string }) => x.id === r.body.id)
        t.same(e.data, { description: 'Sentinel-ctx-1 travelling this week' }, 'data holds the description only (no learned_from)')
        t.same(e.tags, ['trip'])
        t.equal(e.source, 'personal')
        t.equal(e.language, 'english')
        t.equal(e.updated, null)
        t.equal(Date.parse(e.expires), expires, 'stored expiry equals the answered one')
        t.same(embed.ids, [r.body.id, seven.body.id], 'an embedding is scheduled per write')
        const zero = await call(c, 'add_context', { source: 's', tags: [], description: 'd', expires_days: 0 })
        t.equal(zero.isError, true)
        t.equal(zero.body.error.code, 'invalid_parameter')
        t.equal(zero.body.error.param, 'expires_days')
        t.equal(zero.body.error.value, 0)
        t.match(zero.body.error.message, /expires_days/)
      })

      t.test(`learn_pattern (${era} client)`, async (t) => {
        const embed = recorder()
        const srv = await startServer(t, { backend, embed })
        const c = await connect(t, srv.url)
        const r = await call(c, 'learn_pattern', { source: 'nas', tags: ['backup'], description: 'Sentinel-pat-1 backups on friday' })
        t.same(Object.keys(r.body).sort(), ['id', 'status'])
        const full = await call(c, 'learn_pattern', {
          source: '',
          tags: [],
          description: 'Nightly maintenance restarts the servers',
          conditions: '{"day_of_week":"friday","hour_range":[22,2],"custom":true}',
          effect: 'restart reboot',
          learned_from: 'cli',
          language: 'en',
        })
        const k = await call(c, 'get_knowledge', { entry_type: 'pattern' })
        const byId = new Map(k.body.entries.map((e: { id: string }) => [e.id, e]))
        const plain = byId.get(r.body.id) as { data: Record<string, unknown> }
        t.same(plain.data, { description: 'Sentinel-pat-1 backups on friday', conditions: {}, effect: '', learned_from: 'conversation' }, 'defaults')
        const rich = byId.get(full.body.id) as { data: Record<string, unknown>; source: string; language: string }
        t.same(rich.data.conditions, { day_of_week: 'friday', hour_range: [22, 2], custom: true }, 'conditions given as JSON text are parsed and stored whole')
        t.equal(rich.data.effect, 'restart reboot')
        t.equal(rich.data.learned_from, 'cli')
        t.equal(rich.source, '', 'global pattern')
        t.equal(rich.language, 'english')
        t.same(embed.ids, [r.body.id, full.body.id])
      })

      t.test(`set_preference (${era} client)`, async (t) => {
        const embed = recorder()
        const srv = await startServer(t, { backend, embed })
        const c = await connect(t, srv.url)
        const a = await call(c, 'set_preference', { key: 'alert_verbosity', value: 'Sentinel-value-1' })
        t.same(a.body, { status: 'ok', id: a.body.id, key: 'alert_verbosity', scope: 'global' }, 'value not echoed; default scope global')
        const b = await call(c, 'set_preference', { key: 'alert_verbosity', value: 'minimal' })
        t.equal(b.body.id, a.body.id, 'same key and scope: same entry')
        const other = await call(c, 'set_preference', { key: 'alert_verbosity', value: 'full', scope: 'work' })
        t.not(other.body.id, a.body.id, 'another scope is another entry')
        t.equal(other.body.scope, 'work')
        const k = await call(c, 'get_knowledge', { entry_type: 'preference' })
        t.equal(k.body.entries.length, 2)
        const g = k.body.entries.find((e: { id: string }) => e.id === a.body.id)
        t.same(g.data, { key: 'alert_verbosity', value: 'minimal', scope: 'global' }, 'latest value, no changelog')
        t.same(g.tags, [])
        t.equal(g.source, 'global', 'source = scope')
        t.not(g.updated, null, 'an overwrite sets updated')
        t.notOk('language' in g)
        t.equal(k.body.entries.find((e: { id: string }) => e.id === other.body.id).source, 'work')
        t.same(embed.ids, [], 'preferences are never embedded')
        const marks = () => srv.store.system((tx) => tx`SELECT count(*)::int AS n FROM owner_settings WHERE owner_id = ${srv.owner}`).then((r) => r[0].n)
        t.equal(await marks(), 0, 'an ordinary preference does not mark the owner for cleanup')
        await call(c, 'set_preference', { key: 'auto_cleanup', value: 'true' })
        t.equal(await marks(), 1, 'auto_cleanup lists the owner as a cleanup candidate')
        await call(c, 'set_preference', { key: 'auto_cleanup', value: 'false', scope: 'other' })
        t.equal(await marks(), 1, 'one row per owner')
      })
    }

    t.test('set_preference keeps what update_entry added and resets tags', async (t) => {
      const srv = await startServer(t, { backend })
      const c = await clientV1(t, srv.url)
      const a = await call(c, 'set_preference', { key: 'theme', value: 'dark' })
      await call(c, 'update_entry', { entry_id: a.body.id, tags: ['ui'], description: 'colour theme' })
      await call(c, 'set_preference', { key: 'theme', value: 'light' })
      const e = (await call(c, 'get_knowledge', { entry_type: 'preference', include_history: 'true' })).body.entries[0]
      t.equal(e.data.value, 'light')
      t.same(e.tags, [], 'tags reset to []')
      t.equal(e.data.description, 'colour theme')
      t.equal(e.data.changelog.length, 1, 'the upsert itself adds no changelog record')
    })

    t.test('concurrent set_preference calls for one key leave one entry', async (t) => {
      const srv = await startServer(t, { backend })
      const c1 = await clientV1(t, srv.url)
      const c2 = await clientV2(t, srv.url)
      // Without the advisory lock two transactions could both find no row and both insert.
      const answers = await Promise.all(Array.from({ length: 8 }, (_, i) => call(i % 2 ? c1 : c2, 'set_preference', { key: 'race', value: `v${i}` })))
      t.ok(answers.every((r) => !r.isError))
      t.equal(new Set(answers.map((r) => r.body.id)).size, 1, 'every call answered the same id')
      const rows = await srv.store.withOwner(srv.owner, (tx) => tx`SELECT count(*)::int AS n FROM entries WHERE owner_id = ${srv.owner} AND type = 'preference'`)
      t.equal(rows[0].n, 1)
    })

    t.test('unsupported-language alert is raised by add_context and learn_pattern, not by set_preference', async (t) => {
      const srv = await startServer(t, { backend })
      const c = await clientV2(t, srv.url)
      const japanese = '東京の事務所は来週の月曜日から金曜日まで改装工事のため閉鎖されます。'
      const r = await call(c, 'add_context', { source: 's', tags: [], description: japanese })
      t.equal(r.isError, false)
      await call(c, 'learn_pattern', { source: 's', tags: [], description: japanese })
      await call(c, 'set_preference', { key: 'note', value: japanese })
      const alerts = await srv.store.withOwner(srv.owner, (tx) => tx`SELECT data FROM entries WHERE owner_id = ${srv.owner} AND type = 'alert'`)
      t.equal(alerts.length, 1, 'one alert per language')
      t.equal(alerts[0].data.alert_id, 'unsupported-language-ja')
      const ctx = (await call(c, 'get_knowledge', { entry_type: 'context' })).body.entries[0]
      t.notOk('language' in ctx, 'stored with the simple fallback')
    })

    t.test('write responses never echo caller payload (§2.16)', async (t) => {
      const srv = await startServer(t, { backend })
      const c = await clientV1(t, srv.url)
      const s = (n: string) => `Sentinel-${n}-7f3a`
      const answers = [
        [await call(c, 'add_context', { source: s('src'), tags: [s('tag')], description: s('desc'), language: s('lang') }), []],
        [await call(c, 'learn_pattern', { source: s('src'), tags: [s('tag')], description: s('desc'), conditions: { k: s('cond') }, effect: s('eff'), learned_from: s('lf'), language: s('lang') }), []],
        [await call(c, 'set_preference', { key: s('key'), value: s('value'), scope: s('scope') }), ['key', 'scope']],
      ] as const
      for (const [r, handles] of answers) {
        t.equal(r.isError, false)
        const rest = Object.fromEntries(Object.entries(r.body).filter(([k]) => !(handles as readonly string[]).includes(k)))
        t.notMatch(JSON.stringify(rest), /Sentinel-/, `no sentinel outside the handles: ${JSON.stringify(r.body)}`)
      }
    })

    t.test('SQL metacharacters are stored and returned verbatim in every string argument', async (t) => {
      const srv = await startServer(t, { backend })
      const c = await clientV2(t, srv.url)
      await call(c, 'add_context', { source: NASTY, tags: [NASTY], description: NASTY, language: NASTY })
      await call(c, 'learn_pattern', { source: NASTY, tags: [NASTY], description: NASTY, conditions: { [NASTY]: NASTY }, effect: NASTY, learned_from: NASTY, language: NASTY })
      const p = await call(c, 'set_preference', { key: NASTY, value: NASTY, scope: NASTY })
      t.equal(p.body.key, NASTY)
      t.equal(p.body.scope, NASTY)
      t.equal((await call(c, 'set_preference', { key: NASTY, value: 'again', scope: NASTY })).body.id, p.body.id, 'the upsert matches metacharacter keys exactly')
      for (const type of ['context', 'pattern', 'preference']) {
        const [e] = (await call(c, 'get_knowledge', { entry_type: type, source: NASTY, tags: type === 'preference' ? undefined : [NASTY] })).body.entries
        t.equal(e.source, NASTY, type)
        if (type !== 'preference') {
          t.same(e.tags, [NASTY])
          t.equal(e.data.description, NASTY)
        }
        if (type === 'pattern') {
          t.same(e.data.conditions, { [NASTY]: NASTY })
          t.equal(e.data.effect, NASTY)
          t.equal(e.data.learned_from, NASTY)
        }
        if (type === 'preference') t.same(e.data, { key: NASTY, value: 'again', scope: NASTY })
      }
    })

    t.test('1 MiB strings: free text is stored whole, indexed keys are refused cleanly', async (t) => {
      const srv = await startServer(t, { backend })
      const c = await clientV1(t, srv.url)
      const ctx = await call(c, 'add_context', { source: 's', tags: [BIG], description: BIG })
      t.equal(ctx.isError, false)
      const pat = await call(c, 'learn_pattern', { source: 's', tags: [], description: 'd', effect: BIG, learned_from: BIG, conditions: { big: BIG } })
      t.equal(pat.isError, false)
      const pref = await call(c, 'set_preference', { key: BIG, value: BIG })
      t.equal(pref.isError, false)
      t.equal(pref.body.key.length, BIG.length, 'the key handle is echoed whole')
      const k = await call(c, 'get_knowledge', {})
      t.equal(k.body.entries.length, 3)
      for (const e of k.body.entries) {
        if (e.type === 'context') t.equal(e.data.description.length, BIG.length)
        if (e.type === 'pattern') t.equal(e.data.effect.length + e.data.learned_from.length + e.data.conditions.big.length, 3 * BIG.length)
        if (e.type === 'preference') t.equal(e.data.value.length, BIG.length)
      }
      const before = await state(srv.store, srv.owner)
      for (const [tool, args, param] of [
        ['add_context', { source: BIG, tags: [], description: 'd' }, 'source'],
        ['learn_pattern', { source: BIG, tags: [], description: 'd' }, 'source'],
        ['set_preference', { key: 'k', value: 'v', scope: BIG }, 'scope'],
      ] as const) {
        const r = await call(c, tool, args)
        t.equal(r.isError, true, `${tool} ${param}`)
        t.equal(r.body.error.code, 'invalid_parameter')
        t.equal(r.body.error.param, param)
        t.match(r.body.error.message, /too long/)
      }
      t.equal(await state(srv.store, srv.owner), before)
    })

    t.test('bad input answers the envelope and changes nothing, for either owner', async (t) => {
      const alice = await startServer(t, { backend })
      const bob = await startServer(t, { backend })
      const a = await clientV1(t, alice.url)
      const b = await clientV2(t, bob.url)
      await call(a, 'set_preference', { key: 'k', value: 'alice' })
      await call(b, 'set_preference', { key: 'k', value: 'bob' })
      await call(b, 'add_context', { source: 's', tags: [], description: 'bob context' })
      const before = [await state(alice.store, alice.owner), await state(bob.store, bob.owner)]
      const cases: [string, Record<string, unknown>, string][] = [
        ['add_context', { tags: [], description: 'd' }, 'source'],
        ['add_context', { source: 's', description: 'd' }, 'tags'],
        ['add_context', { source: 's', tags: [] }, 'description'],
        ['add_context', { source: 1, tags: [], description: 'd' }, 'source'],
        ['add_context', { source: 's', tags: 'nope', description: 'd' }, 'tags'],
        ['add_context', { source: 's', tags: [1], description: 'd' }, 'tags'],
        ['add_context', { source: 's', tags: [], description: { a: 1 } }, 'description'],
        ['add_context', { source: 's', tags: [], description: 'd', expires_days: 'soon' }, 'expires_days'],
        ['add_context', { source: 's', tags: [], description: 'd', expires_days: 1.5 }, 'expires_days'],
        ['add_context', { source: 's', tags: [], description: 'd', expires_days: -3 }, 'expires_days'],
        ['add_context', { source: 's', tags: [], description: 'd', expires_days: 99999999 }, 'expires_days'],
        ['add_context', { source: 's', tags: [], description: 'd', language: 5 }, 'language'],
        ['learn_pattern', { source: 's', tags: [] }, 'description'],
        ['learn_pattern', { source: 's', description: 'd' }, 'tags'],
        ['learn_pattern', { source: 's', tags: [], description: 'd', conditions: [1, 2] }, 'conditions'],
        ['learn_pattern', { source: 's', tags: [], description: 'd', conditions: 'not json' }, 'conditions'],
        ['learn_pattern', { source: 's', tags: [], description: 'd', effect: 3 }, 'effect'],
        ['learn_pattern', { source: 's', tags: [], description: 'd', learned_from: false }, 'learned_from'],
        ['learn_pattern', { source: null, tags: [], description: 'd' }, 'source'],
        ['set_preference', { value: 'v' }, 'key'],
        ['set_preference', { key: 'k' }, 'value'],
        ['set_preference', { key: 'k', value: 42 }, 'value'],
        ['set_preference', { key: 'k', value: true }, 'value'],
        ['set_preference', { key: ['k'], value: 'v' }, 'key'],
        ['set_preference', { key: 'k', value: 'v', scope: 7 }, 'scope'],
        // PostgreSQL cannot store U+0000: refused as arguments, before anything is written.
        ['add_context', { source: 's\u0000', tags: [], description: 'd' }, 'source'],
        ['add_context', { source: 's', tags: ['\u0000'], description: 'd' }, 'tags'],
        ['add_context', { source: 's', tags: [], description: 'nul \u0000' }, 'description'],
        ['learn_pattern', { source: 's', tags: [], description: 'd', conditions: { k: '\u0000' } }, 'conditions'],
        ['learn_pattern', { source: 's', tags: [], description: 'd', effect: '\u0000' }, 'effect'],
        ['set_preference', { key: '\u0000', value: 'v' }, 'key'],
        ['set_preference', { key: 'k', value: 'v\u0000' }, 'value'],
      ]
      for (const [tool, args, param] of cases) {
        const r = await call(a, tool, args)
        t.equal(r.isError, true, `${tool} ${JSON.stringify(args)} is an error`)
        t.equal(r.body.status, 'error')
        t.equal(r.body.error.code, 'invalid_parameter')
        t.equal(r.body.error.param, param, `${tool} names ${param}`)
        t.equal(r.body.error.retryable, false)
      }
      t.equal(await state(alice.store, alice.owner), before[0], 'nothing changed for the caller')
      t.equal(await state(bob.store, bob.owner), before[1], 'nothing changed for the other owner')
      // Bob's key and scope from Alice's side: a separate entry of Alice's, Bob's untouched.
      await call(a, 'set_preference', { key: 'k', value: 'alice again' })
      t.equal(await state(bob.store, bob.owner), before[1], "the other owner's data is untouched")
      t.not(await state(alice.store, alice.owner), before[0], 'the valid call did change alice')
      const bobPref = (await call(b, 'get_knowledge', { entry_type: 'preference' })).body.entries[0]
      t.equal(bobPref.data.value, 'bob')
    })

    t.test('unknown tool names fail', async (t) => {
      const srv = await startServer(t, { backend })
      const c: McpClient = await clientV1(t, srv.url)
      const r = await c.callTool({ name: 'add_contexts', arguments: {} }).then((x) => x as { isError?: boolean }, () => ({ isError: true }))
      t.equal(r.isError, true)
    })
  })
}
