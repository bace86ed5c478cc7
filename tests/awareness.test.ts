/**
 * report_status, report_alert, suppress_alert, get_briefing, get_alerts, get_status, get_suppressions
 * through real MCP clients of both protocol eras, on every backend (mcp-surface.md §3.1–§3.3, §3.5,
 * §3.16, §3.17, §3.22, §4.2, §4.3, §4.6, decisions 8 and 9, checklist §10).
 */
import t from 'tap'
import type { Tx } from '../store/index.js'
import { runBriefing } from '../domain/briefing/run.js'
import { backends, call, clientV1, clientV2, snapshot, startServer, type McpClient } from './helpers.js'

const alertArgs = (over: Record<string, unknown> = {}) => ({ source: 'nas', tags: ['infra'], alert_id: 'disk-full', level: 'warning', alert_type: 'threshold', message: 'Disk 91% full', ...over })
const ids = (body: { entries: { id: string }[] }) => body.entries.map((e) => e.id)

for (const backend of backends()) {
  t.test(`awareness tools on ${backend}`, async (t) => {
    t.test('report_status replaces the source status; get_status returns it (2025-era client)', async (t) => {
      const srv = await startServer(t, { backend })
      const c = await clientV1(t, srv.url)
      const first = await call(c, 'report_status', { source: 'nas', tags: ['infra'], metrics: { cpu: 45, 'Sentinel-m': 'x' }, inventory: { disks: 4 } })
      t.equal(first.isError, false)
      t.same(Object.keys(first.body).sort(), ['id', 'source', 'status'], 'nothing echoed but the source handle')
      t.equal(first.body.source, 'nas')
      const st = await call(c, 'get_status', { source: 'nas' })
      t.same(st.body.data, { metrics: { cpu: 45, 'Sentinel-m': 'x' }, ttl_sec: 120, inventory: { disks: 4 } })
      t.equal(st.body.id, first.body.id)
      t.equal(st.body.updated, null)
      const second = await call(c, 'report_status', { source: 'nas', tags: [], metrics: '{"cpu": 50}', inventory: {}, ttl_sec: '30' })
      t.not(second.body.id, first.body.id, 'a new id on every report')
      const again = await call(c, 'get_status', { source: 'nas' })
      t.same(again.body.data, { metrics: { cpu: 50 }, ttl_sec: 30 }, 'empty inventory is not stored; JSON text and digit strings coerced')
      const rows = await srv.store.withOwner(srv.owner, (tx) => tx`SELECT id FROM entries WHERE owner_id = ${srv.owner} AND type = 'status'`)
      t.same(rows.map((r) => r.id), [second.body.id], 'the old status is removed for good')
    })

    t.test('10 concurrent reports of one source leave exactly one status', async (t) => {
      const srv = await startServer(t, { backend })
      const c = await clientV2(t, srv.url)
      await Promise.all(Array.from({ length: 10 }, (_, i) => call(c, 'report_status', { source: 'race', tags: [], metrics: { i } })))
      const [row] = await srv.store.withOwner(srv.owner, (tx) => tx`SELECT count(*)::int AS n FROM entries WHERE owner_id = ${srv.owner} AND type = 'status'`)
      t.equal(row.n, 1)
    })

    t.test('get_status: unknown source is not_found; a stale status is returned unchanged', async (t) => {
      const srv = await startServer(t, { backend })
      const c = await clientV2(t, srv.url)
      const miss = await call(c, 'get_status', { source: 'nowhere' })
      t.equal(miss.isError, true)
      t.same(miss.body, { status: 'error', error: { code: 'not_found', message: "No status found for source: 'nowhere'", retryable: false, param: 'source', value: 'nowhere' } })
      await call(c, 'report_status', { source: 'old', tags: [], metrics: { up: true }, ttl_sec: 0 })
      await new Promise((r) => setTimeout(r, 1100))
      const stale = await call(c, 'get_status', { source: 'old' })
      t.equal(stale.isError, false)
      t.same(stale.body.data, { metrics: { up: true }, ttl_sec: 0 })
    })

    t.test('report_alert: upsert by (source, alert_id), merge, resolve and re-open', async (t) => {
      const srv = await startServer(t, { backend })
      const c = await clientV1(t, srv.url)
      const a = await call(c, 'report_alert', alertArgs({ details: { pct: 91 }, diagnostics: { top: ['a'] }, message: 'Sentinel-msg-1' }))
      t.same(a.body, { status: 'ok', id: a.body.id, action: 'reported', alert_id: 'disk-full' })
      const b = await call(c, 'report_alert', alertArgs({ level: 'critical', tags: ['new'], details: {} }))
      t.equal(b.body.id, a.body.id, 'same entry')
      const [row] = (await call(c, 'get_alerts', {})).body.entries
      t.equal(row.id, a.body.id)
      t.same(row.tags, ['new'], 'tags replaced')
      t.same(row.data, { alert_id: 'disk-full', level: 'critical', alert_type: 'threshold', message: 'Disk 91% full', resolved: false, details: { pct: 91 }, diagnostics: { top: ['a'] } }, 'details/diagnostics kept when omitted or empty')
      t.ok(row.updated !== null)
      const other = await call(c, 'report_alert', alertArgs({ source: 'ci' }))
      t.not(other.body.id, a.body.id, 'same alert_id under another source is another alert')
      const r = await call(c, 'report_alert', alertArgs({ resolved: 'true' }))
      t.same(r.body, { status: 'ok', id: a.body.id, action: 'resolved', alert_id: 'disk-full' })
      t.same(ids((await call(c, 'get_alerts', {})).body), [other.body.id], 'resolved alerts are not active')
      const reopened = await call(c, 'report_alert', alertArgs({ resolved: false }))
      t.equal(reopened.body.id, a.body.id, 're-opened in place')
      t.equal((await call(c, 'get_alerts', { source: 'nas' })).body.entries.length, 1)
    })

    t.test('4 concurrent reports of one alert leave one entry', async (t) => {
      const srv = await startServer(t, { backend })
      const c = await clientV2(t, srv.url)
      const answers = await Promise.all(Array.from({ length: 4 }, (_, i) => call(c, 'report_alert', alertArgs({ message: `m${i}` }))))
      t.equal(new Set(answers.map((x) => x.body.id)).size, 1)
      const [row] = await srv.store.withOwner(srv.owner, (tx) => tx`SELECT count(*)::int AS n FROM entries WHERE owner_id = ${srv.owner} AND type = 'alert'`)
      t.equal(row.n, 1)
    })

    t.test('get_alerts: envelope, filters, list mode, pagination and read logging', async (t) => {
      const srv = await startServer(t, { backend })
      const c = await clientV2(t, srv.url)
      t.same((await call(c, 'get_alerts', {})).body, { entries: [], limit: 100, offset: 0, has_more: false })
      const made: string[] = []
      for (const [source, id] of [['nas', 'a1'], ['ci', 'a2'], ['nas', 'a3']]) made.push((await call(c, 'report_alert', alertArgs({ source, alert_id: id, message: `msg ${id}` }))).body.id)
      await srv.store.withOwner(srv.owner, (tx) => tx`UPDATE entries SET created = created - interval '2 days' WHERE id = ${made[0]}`)
      t.same(ids((await call(c, 'get_alerts', {})).body), [made[2], made[1], made[0]], 'newest first')
      t.same(ids((await call(c, 'get_alerts', { source: 'nas' })).body), [made[2], made[0]])
      t.equal((await call(c, 'get_alerts', { source: '' })).body.entries.length, 3, '"" = no filter')
      const since = new Date(Date.now() - 86_400_000).toISOString()
      t.same(ids((await call(c, 'get_alerts', { since })).body), [made[2], made[1]])
      const p = await call(c, 'get_alerts', { limit: 1, offset: 1 })
      t.same(p.body, { entries: p.body.entries, limit: 1, offset: 1, has_more: true })
      t.same(ids(p.body), [made[1]])
      const list = await call(c, 'get_alerts', { mode: 'list', limit: 1 })
      t.notOk('data' in list.body.entries[0])
      t.equal(list.body.entries[0].description, 'msg a3', 'description falls back to the message')
      await srv.reads.flush()
      const reads = await srv.store.withOwner(srv.owner, (tx) => tx`SELECT entry_id, tool_used, platform FROM reads WHERE owner_id = ${srv.owner} AND entry_id = ${made[1]}`)
      t.equal(reads.length, 4, 'one read per listing that returned it (not the has_more probe)')
      t.ok(reads.every((r) => r.tool_used === 'get_alerts' && r.platform === null))
    })

    t.test('suppress_alert and get_suppressions', async (t) => {
      const srv = await startServer(t, { backend })
      const c = await clientV1(t, srv.url)
      t.same((await call(c, 'get_suppressions', {})).body, [])
      const before = Date.now()
      const s = await call(c, 'suppress_alert', { tags: ['Sentinel-tag'], reason: 'Sentinel-reason' })
      t.same(Object.keys(s.body).sort(), ['expires', 'id', 'status'])
      const expires = Date.parse(s.body.expires)
      t.ok(Math.abs(expires - (before + 3_600_000)) < 60_000, 'default 60 minutes')
      const scoped = await call(c, 'suppress_alert', { source: 'nas', metric: 'disk_pct', level: 'critical', duration_minutes: '5', escalation_override: false })
      const old = await call(c, 'suppress_alert', { source: 'nas' })
      await srv.store.withOwner(srv.owner, (tx) => tx`UPDATE entries SET expires = now() - interval '1 second' WHERE id = ${old.body.id}`)
      const list = (await call(c, 'get_suppressions', {})).body
      t.same(list.map((e: { id: string }) => e.id), [scoped.body.id, s.body.id], 'bare array, newest first, expired excluded')
      const global = list[1]
      t.equal(global.source, '', 'no source = global')
      t.same(global.tags, ['Sentinel-tag'])
      t.same(global.data, { metric: null, suppress_level: 'warning', escalation_override: true, reason: 'Sentinel-reason' }, 'tags only on the envelope')
      t.same(list[0].data, { metric: 'disk_pct', suppress_level: 'critical', escalation_override: false, reason: '' })
    })

    t.test('briefing flow: report → shown; suppress → gone; escalation → back; resolve → gone (2026 client)', async (t) => {
      const srv = await startServer(t, { backend })
      const c = await clientV2(t, srv.url)
      const empty = (await call(c, 'get_briefing', {})).body
      t.equal(empty.attention_needed, false)
      t.equal(empty.active_alerts, 0)
      t.equal(empty.summary, 'All clear across 0 sources.')
      t.notOk('suggested_mention' in empty)
      await call(c, 'report_status', { source: 'nas', tags: [], metrics: { cpu: 1 } })
      await call(c, 'report_alert', alertArgs())
      let b = (await call(c, 'get_briefing', {})).body
      t.equal(b.attention_needed, true)
      t.equal(b.active_alerts, 1)
      t.match(b.sources.nas, { status: 'warning', headline: 'Disk 91% full', drill_down: 'awareness://alerts/nas' })
      t.equal(b.suggested_mention, 'FYI: Disk 91% full')
      t.equal(b.summary, '1 warning on nas.')
      await call(c, 'suppress_alert', { source: 'nas', reason: 'maintenance' })
      b = (await call(c, 'get_briefing', {})).body
      t.equal(b.attention_needed, false, 'suppressed')
      t.equal(b.sources.nas.status, 'ok')
      t.equal(b.evaluation.suppressed, 1)
      t.equal(b.active_suppressions, 1)
      t.equal((await call(c, 'get_alerts', {})).body.entries.length, 1, 'get_alerts still lists a suppressed alert')
      await call(c, 'report_alert', alertArgs({ level: 'critical', message: 'Disk 99% full' }))
      b = (await call(c, 'get_briefing', {})).body
      t.equal(b.sources.nas.status, 'critical', 'a critical breaks through a warning suppression with override')
      t.equal(b.suggested_mention, 'CRITICAL: Disk 99% full')
      await call(c, 'suppress_alert', { level: 'critical' })
      b = (await call(c, 'get_briefing', {})).body
      t.equal(b.sources.nas.status, 'ok', 'any matching suppression that holds it hides it (decision 8)')
      t.equal(b.active_suppressions, 2)
      await srv.store.withOwner(srv.owner, (tx) => tx`UPDATE entries SET expires = now() - interval '1 second' WHERE type = 'suppression' AND owner_id = ${srv.owner}`)
      t.equal((await call(c, 'get_briefing', {})).body.sources.nas.status, 'critical', 'expired suppressions stop at once')
      await call(c, 'report_alert', alertArgs({ resolved: true }))
      b = (await call(c, 'get_briefing', {})).body
      t.same(b.sources.nas, { status: 'ok', last_report: b.sources.nas.last_report })
      t.equal(b.summary, 'All clear across 1 source.')
    })

    t.test('briefing: stale source, sources without status, info alerts, patterns in the owner timezone', async (t) => {
      const srv = await startServer(t, { backend })
      const c = await clientV1(t, srv.url)
      await call(c, 'report_status', { source: 'edge', tags: [], metrics: {}, ttl_sec: 0 })
      await call(c, 'report_alert', alertArgs({ source: 'edge', level: 'critical' }))
      await call(c, 'report_alert', alertArgs({ source: 'garage', alert_id: 'door', message: 'Garage door open' }))
      await new Promise((r) => setTimeout(r, 1100))
      let b = (await call(c, 'get_briefing', {})).body
      t.match(b.sources.edge, { status: 'stale', drill_down: 'awareness://status/edge', headline: /^edge has not reported in \d+s$/ })
      t.equal(b.evaluation.stale_sources, 1)
      t.equal(b.evaluation.alerts_checked, 1, "a stale source's alerts are not evaluated")
      t.match(b.sources.garage, { status: 'warning', last_report: null, headline: 'Garage door open' }, 'decision 9')
      t.equal(b.summary, '1 warning on garage. edge stale.')
      // Pattern conditions use users.timezone: pick a zone whose weekday differs from UTC's right now.
      const now = new Date()
      const weekday = (tz: string) => new Intl.DateTimeFormat('en-US', { weekday: 'long', timeZone: tz }).format(now).toLowerCase()
      const tz = now.getUTCHours() >= 10 ? 'Pacific/Kiritimati' : 'Pacific/Pago_Pago' // UTC+14 / UTC-11
      t.not(weekday(tz), weekday('UTC'))
      await srv.store.system((tx) => tx`INSERT INTO users (id, timezone) VALUES (${srv.owner}, ${tz})`)
      await srv.store.withOwner(srv.owner, (tx: Tx) =>
        tx`INSERT INTO entries (id, owner_id, type, source, created, tags, data) VALUES
          (gen_random_uuid()::text, ${srv.owner}, 'pattern', 'garage', now(), '[]', ${tx.json({ description: 'utc', conditions: { day_of_week: weekday('UTC') }, effect: 'door', learned_from: 't' })})`,
      )
      t.equal((await call(c, 'get_briefing', {})).body.sources.garage.status, 'warning', 'the UTC weekday does not hold in the owner timezone')
      await srv.store.withOwner(srv.owner, (tx: Tx) =>
        tx`INSERT INTO entries (id, owner_id, type, source, created, tags, data) VALUES
          (gen_random_uuid()::text, ${srv.owner}, 'pattern', '', now(), '[]', ${tx.json({ description: 'local', conditions: { day_of_week: weekday(tz) }, effect: 'garage', learned_from: 't' })})`,
      )
      b = (await call(c, 'get_briefing', {})).body
      t.equal(b.sources.garage.status, 'ok', 'a global pattern whose weekday holds in the owner timezone explains the alert')
      t.equal(b.evaluation.pattern_matched, 1)
      await srv.store.withOwner(srv.owner, (tx) => tx`UPDATE entries SET data = data || '{"level": "info"}' WHERE owner_id = ${srv.owner} AND type = 'alert' AND source = 'edge'`)
      await call(c, 'report_status', { source: 'edge', tags: [], metrics: {} })
      b = (await call(c, 'get_briefing', {})).body
      t.match(b.sources.edge, { status: 'ok', info: 'Disk 91% full' }, 'info alerts never demand attention')
      t.equal(b.attention_needed, false)
    })

    t.test('the briefing runs a fixed number of queries whatever the number of sources', async (t) => {
      const srv = await startServer(t, { backend })
      const c = await clientV2(t, srv.url)
      const count = async () => {
        let calls = 0
        const counting = Object.create(srv.store, {
          withOwner: {
            value: (owner: string, fn: (tx: Tx) => Promise<unknown>) =>
              srv.store.withOwner(owner, (tx) => fn(new Proxy(tx, { apply: (target, self, args) => (calls++, Reflect.apply(target, self, args)) }))),
          },
        })
        await runBriefing(counting, srv.owner)
        return calls
      }
      await call(c, 'report_status', { source: 's0', tags: [], metrics: {} })
      const one = await count()
      for (let i = 1; i < 20; i++) {
        await call(c, 'report_status', { source: `s${i}`, tags: [], metrics: {} })
        await call(c, 'report_alert', alertArgs({ source: `s${i}` }))
        await call(c, 'suppress_alert', { source: `s${i}`, tags: ['x'] })
      }
      t.equal(await count(), one, `${one} tagged-template calls for 1 source and for 20`)
    })

    t.test('bad input answers the envelope and changes nothing for either owner', async (t) => {
      const srv = await startServer(t, { backend })
      const bob = await startServer(t, { backend })
      const c = await clientV1(t, srv.url)
      const cb = await clientV2(t, bob.url)
      await call(cb, 'report_status', { source: 'bobs-nas', tags: [], metrics: { secret: 1 } })
      await call(c, 'report_alert', alertArgs())
      const big = 'x'.repeat(1024 * 1024)
      const before = [await snapshot(srv.store, srv.owner), await snapshot(bob.store, bob.owner)]
      const cases: [string, Record<string, unknown>, string, string?][] = [
        ['report_status', { tags: [], metrics: {} }, 'source'],
        ['report_status', { source: 's', tags: [], metrics: [1, 2] }, 'metrics'],
        ['report_status', { source: 's', tags: [], metrics: 'not json' }, 'metrics'],
        ['report_status', { source: 's', tags: [], metrics: {}, ttl_sec: 1.5 }, 'ttl_sec'],
        ['report_status', { source: 's', tags: 'a', metrics: {} }, 'tags'],
        ['report_alert', alertArgs({ level: undefined }), 'level'],
        ['report_alert', alertArgs({ level: 'bogus', alert_type: 'bogus' }), 'level'],
        ['report_alert', alertArgs({ level: 'Warning' }), 'level', 'warning'],
        ['report_alert', alertArgs({ alert_type: 'treshold' }), 'alert_type', 'threshold'],
        ['report_alert', alertArgs({ level: big }), 'level'],
        ['report_alert', alertArgs({ resolved: 'yes' }), 'resolved'],
        ['report_alert', alertArgs({ details: 'x' }), 'details'],
        ['report_alert', alertArgs({ message: 42 }), 'message'],
        ['suppress_alert', { level: 'info' }, 'level'],
        ['suppress_alert', { level: 'bogus', duration_minutes: 0 }, 'level'],
        ['suppress_alert', { duration_minutes: 0 }, 'duration_minutes'],
        ['suppress_alert', { duration_minutes: -5 }, 'duration_minutes'],
        ['suppress_alert', { duration_minutes: 'soon' }, 'duration_minutes'],
        ['suppress_alert', { tags: [1, 2] }, 'tags'],
        ['suppress_alert', { duration_minutes: 10 ** 12 }, 'duration_minutes'],
        ['suppress_alert', { source: big }, 'source'],
        ['report_status', { source: big, tags: [], metrics: {} }, 'source'],
        ['report_alert', alertArgs({ source: big }), 'source'],
        ['get_alerts', { limit: -1 }, 'limit'],
        ['get_alerts', { limit: -1, offset: -1 }, 'limit'],
        ['get_alerts', { offset: -1 }, 'offset'],
        ['get_alerts', { since: '' }, 'since'],
        ['get_alerts', { since: 'not-a-date' }, 'since'],
        ['get_alerts', { since: '2026-13-45' }, 'since'],
        ['get_alerts', { since: big }, 'since'],
        ['get_alerts', { source: ['nas'] }, 'source'],
        ['get_status', {}, 'source'],
        ['get_status', { source: 5 }, 'source'],
      ]
      for (const [tool, args, param, suggestion] of cases) {
        const r = await call(c, tool, args)
        const label = `${tool} ${JSON.stringify(args).slice(0, 80)}`
        t.equal(r.isError, true, `${label} is an error`)
        t.equal(r.body.status, 'error', label)
        t.equal(r.body.error.code, 'invalid_parameter', label)
        t.equal(r.body.error.param, param, label)
        t.equal(r.body.error.retryable, false, label)
        if (suggestion !== undefined) t.equal(r.body.error.suggestion, suggestion, label)
      }
      const level = await call(c, 'report_alert', alertArgs({ level: 'bogus' }))
      t.same(level.body.error.valid, ['critical', 'warning'])
      t.equal(level.body.error.value, 'bogus')
      t.same((await call(c, 'report_alert', alertArgs({ alert_type: 'x' }))).body.error.valid, ['baseline', 'structural', 'threshold'])
      t.match((await call(c, 'suppress_alert', { duration_minutes: 0 })).body.error.message, /duration_minutes/)
      t.match((await call(c, 'get_alerts', { since: 'bad' })).body.error.help_url, /ISO_8601/)
      t.match((await call(c, 'get_alerts', { limit: -1 })).body.error.message, 'limit must be non-negative')
      const foreign = await call(c, 'get_status', { source: 'bobs-nas' })
      t.equal(foreign.body.error.code, 'not_found', "another owner's source does not exist for this one")
      t.same((await call(c, 'get_suppressions', {})).body, [])
      t.equal(await snapshot(srv.store, srv.owner), before[0], 'owner unchanged (failed reads log nothing either)')
      t.equal(await snapshot(bob.store, bob.owner), before[1], 'the other owner unchanged')
    })

    t.test('SQL metacharacters and 1 MiB strings are stored verbatim', async (t) => {
      const srv = await startServer(t, { backend })
      const c = await clientV2(t, srv.url)
      const nasty = `'; DROP TABLE entries; -- %s {} \\ "quoted" $1 ?`
      const big = 'y'.repeat(1024 * 1024)
      await call(c, 'report_status', { source: nasty, tags: [nasty, big], metrics: { [nasty]: nasty, big } })
      const st = (await call(c, 'get_status', { source: nasty })).body
      t.same(st.data.metrics, { [nasty]: nasty, big })
      t.same(st.tags, [nasty, big])
      const longId = await call(c, 'report_alert', alertArgs({ alert_id: big }))
      t.equal(longId.body.alert_id.length, big.length, 'a 1 MiB alert_id is a handle like any other')
      await call(c, 'report_alert', alertArgs({ source: nasty, alert_id: nasty, message: big }))
      const [a] = (await call(c, 'get_alerts', { source: nasty })).body.entries
      t.equal((await call(c, 'get_alerts', { source: 'nas' })).body.entries[0].data.alert_id, big)
      t.equal(a.data.alert_id, nasty)
      t.equal(a.data.message.length, big.length)
      await call(c, 'suppress_alert', { source: nasty, reason: big, tags: [nasty] })
      const [s] = (await call(c, 'get_suppressions', {})).body
      t.equal(s.source, nasty)
      t.equal(s.data.reason.length, big.length)
      const b = (await call(c, 'get_briefing', {})).body
      t.ok(JSON.stringify(b).length < 4000, 'a huge message does not blow the briefing budget')
    })

    t.test('owners never see each other', async (t) => {
      const alice = await startServer(t, { backend })
      const bob = await startServer(t, { backend })
      const a = await clientV1(t, alice.url)
      const b: McpClient = await clientV2(t, bob.url)
      await call(a, 'report_status', { source: 'nas', tags: [], metrics: {} })
      await call(a, 'report_alert', alertArgs())
      await call(a, 'suppress_alert', {})
      t.same((await call(b, 'get_alerts', {})).body.entries, [])
      t.same((await call(b, 'get_suppressions', {})).body, [])
      t.equal((await call(b, 'get_status', { source: 'nas' })).body.error.code, 'not_found')
      const bb = (await call(b, 'get_briefing', {})).body
      t.same(bb.sources, {})
      t.equal(bb.active_suppressions, 0)
      // Bob's alert with Alice's key is another alert, and Alice's is untouched.
      await call(b, 'report_alert', alertArgs({ level: 'critical' }))
      t.equal((await call(a, 'get_alerts', {})).body.entries[0].data.level, 'warning')
    })
  })
}
