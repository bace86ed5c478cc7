/**
 * remind, update_intention, get_intentions and their firing by the briefing, through real MCP clients of
 * both protocol eras, on every backend (mcp-surface.md §3.8, §3.23, §3.24, §4.1; D12, D20;
 * data-and-engine.md §8.5, §9.4, §12.29; checklist §10).
 */
import t from 'tap'
import type { EmbedScheduler } from '../core/ports.js'
import { backends, call, clientV1, clientV2, snapshot, startServer } from './helpers.js'

const PAST = '2020-01-01T08:00:00+02:00'
const FUTURE = '2999-01-01T00:00:00Z'

for (const backend of backends()) {
  t.test(`intention tools on ${backend}`, async (t) => {
    t.test('remind stores every key, normalises deliver_at to UTC and schedules an embedding (D20)', async (t) => {
      const scheduled: string[] = []
      const embed: EmbedScheduler = { schedule: (_owner, id) => void scheduled.push(id) }
      const srv = await startServer(t, { backend, embed })
      const c = await clientV1(t, srv.url)
      const r = await call(c, 'remind', { goal: 'Sentinel-goal call the plumber', source: 'home', tags: ['house'], deliver_at: PAST, language: 'en' })
      t.same(r.body, { status: 'ok', id: r.body.id, state: 'pending' })
      t.same(scheduled, [r.body.id])
      const open = await call(c, 'remind', { goal: 'Buy milk', source: 'home', tags: [], urgency: 'high', constraints: 'before 6pm', recurrence: 'weekly', learned_from: 'phone' })
      const list = (await call(c, 'get_intentions', {})).body
      t.same(list.entries.map((e: { id: string }) => e.id), [open.body.id, r.body.id], 'newest first')
      t.same(list.entries[1].data, {
        goal: 'Sentinel-goal call the plumber',
        state: 'pending',
        deliver_at: '2020-01-01T06:00:00.000Z',
        constraints: null,
        urgency: 'normal',
        recurrence: null,
        learned_from: 'conversation',
      })
      t.equal(list.entries[1].language, 'english', 'language from the explicit code')
      t.same(list.entries[0].data, { goal: 'Buy milk', state: 'pending', deliver_at: null, constraints: 'before 6pm', urgency: 'high', recurrence: 'weekly', learned_from: 'phone' })
    })

    t.test('update_intention: any state to any state, changelog, reason kept; get_intentions filters', async (t) => {
      const srv = await startServer(t, { backend })
      const c = await clientV2(t, srv.url)
      const id = (await call(c, 'remind', { goal: 'g', source: 'work', tags: ['a', 'b'] })).body.id
      const other = (await call(c, 'remind', { goal: 'other', source: 'home', tags: ['a'] })).body.id
      const r = await call(c, 'update_intention', { entry_id: id, state: 'active', reason: 'Sentinel-reason started' })
      t.same(r.body, { status: 'ok', id })
      await call(c, 'update_intention', { entry_id: id, state: 'snoozed' })
      await call(c, 'update_intention', { entry_id: id, state: 'snoozed', reason: 'later' })
      await call(c, 'update_intention', { entry_id: id, state: 'pending' })
      const [e] = (await call(c, 'get_intentions', { state: 'pending', source: 'work' })).body.entries
      t.equal(e.id, id)
      t.equal(e.data.state, 'pending')
      t.equal(e.data.state_reason, 'later', 'no new reason keeps the old one')
      t.same(e.data.changelog.map((x: { changed: unknown }) => x.changed), [
        { state: 'pending' },
        { state: 'active', state_reason: 'Sentinel-reason started' },
        { state: 'snoozed', state_reason: 'Sentinel-reason started' },
        { state: 'snoozed', state_reason: 'later' },
      ], 'a record per transition, also when the state does not change')
      t.ok(e.data.changelog.every((x: { updated: string }) => !Number.isNaN(Date.parse(x.updated))))
      t.ok(e.updated !== null)
      t.same((await call(c, 'get_intentions', { state: 'snoozed' })).body.entries, [])
      t.same((await call(c, 'get_intentions', { tags: ['a', 'b'] })).body.entries.map((x: { id: string }) => x.id), [id], 'tags AND')
      t.equal((await call(c, 'get_intentions', { source: '' })).body.entries.length, 2, '"" = no filter')
      const list = await call(c, 'get_intentions', { mode: 'list', limit: '1' })
      t.same(Object.keys(list.body.entries[0]).sort(), ['created', 'description', 'goal', 'id', 'source', 'state', 'tags', 'type', 'updated'])
      t.same({ ...list.body, entries: [] }, { entries: [], limit: 1, offset: 0, has_more: true })
      t.equal((await call(c, 'get_intentions', { limit: 0 })).body.has_more, true)
      t.equal(other.length, 36)
    })

    t.test('a due intention fires exactly once across 10 concurrent briefings', async (t) => {
      const srv = await startServer(t, { backend })
      const c = await clientV1(t, srv.url)
      const c2 = await clientV2(t, srv.url)
      const due = (await call(c, 'remind', { goal: 'Water the plants', source: 'home', tags: ['garden'], deliver_at: PAST })).body.id
      await call(c, 'remind', { goal: 'later', source: 'home', tags: [], deliver_at: FUTURE })
      await call(c, 'remind', { goal: 'open-ended', source: 'home', tags: [] })
      const briefings = await Promise.all(Array.from({ length: 10 }, (_, i) => call(i % 2 ? c : c2, 'get_briefing', {})))
      const firing = briefings.filter((b) => b.body.fired_intentions !== undefined)
      t.equal(firing.length, 1, 'exactly one briefing lists it')
      const [b] = firing
      t.match(b.body.fired_intentions, [{ id: due, goal: 'Water the plants', source: 'home', tags: ['garden'] }])
      t.equal(b.body.evaluation.intentions_fired, 1)
      t.equal(b.body.attention_needed, true)
      t.equal(b.body.pending_intentions, 2, 'pending ones not fired by this call')
      t.equal(b.body.summary, '1 intention ready.')
      t.equal(b.body.suggested_mention, 'INTENTION: Water the plants')
      for (const other of briefings.filter((x) => x !== b)) {
        t.equal(other.body.attention_needed, false)
        t.equal(other.body.evaluation.intentions_fired, 0)
      }
      const [e] = (await call(c, 'get_intentions', { state: 'fired' })).body.entries
      t.equal(e.id, due)
      t.equal(e.data.state_reason, 'Delivered via briefing')
      t.equal(e.data.changelog.length, 1, 'one firing record')
      t.same(e.data.changelog[0].changed, { state: 'pending' })
      t.notOk('fired_intentions' in (await call(c2, 'get_briefing', {})).body, 'not listed on the next call')
      await call(c, 'update_intention', { entry_id: due, state: 'pending', reason: 'again please' })
      const again = (await call(c, 'get_briefing', {})).body
      t.same(again.fired_intentions.map((f: { id: string }) => f.id), [due], 'set back to pending, it fires again')
      const [e2] = (await call(c, 'get_intentions', { state: 'fired' })).body.entries
      t.same(e2.data.changelog.at(-1).changed, { state: 'pending', state_reason: 'again please' })
      t.equal(e2.data.state_reason, 'Delivered via briefing')
    })

    t.test('several due intentions, 10 concurrent briefings: each delivered once, earliest first, no error', async (t) => {
      const srv = await startServer(t, { backend })
      const c = await clientV2(t, srv.url)
      const made: string[] = []
      for (let i = 5; i >= 1; i--) made.push((await call(c, 'remind', { goal: `g${i}`, source: 's', tags: [], deliver_at: `2020-01-0${i}T00:00:00+01:00` })).body.id)
      const briefings = await Promise.all(Array.from({ length: 10 }, () => call(c, 'get_briefing', {})))
      t.ok(briefings.every((b) => !b.isError), 'no briefing failed (no deadlock)')
      const delivered = briefings.flatMap((b) => (b.body.fired_intentions ?? []).map((f: { id: string }) => f.id))
      t.same([...delivered].sort(), [...made].sort(), 'every intention delivered exactly once')
      const first = briefings.find((b) => b.body.fired_intentions?.length === 5)
      if (first) t.same(first.body.fired_intentions.map((f: { goal: string }) => f.goal), ['g1', 'g2', 'g3', 'g4', 'g5'], 'earliest due first')
    })

    t.test('a malformed deliver_at never breaks the briefing and never fires (§12.29)', async (t) => {
      const srv = await startServer(t, { backend })
      const c = await clientV2(t, srv.url)
      const bad = ['garbage', '2026-02-30T10:00:00Z', '2026-13-01', '', '2026-04-16T10:00:00+23:00', '0000-01-01', '12345']
      const made: string[] = []
      for (const value of bad) {
        const id = (await call(c, 'remind', { goal: `bad ${value}`, source: 's', tags: [] })).body.id
        made.push(id)
        await srv.store.withOwner(srv.owner, (tx) => tx`UPDATE entries SET data = data || ${tx.json({ deliver_at: value })} WHERE id = ${id}`)
      }
      const numeric = (await call(c, 'remind', { goal: 'numeric', source: 's', tags: [] })).body.id
      await srv.store.withOwner(srv.owner, (tx) => tx`UPDATE entries SET data = data || '{"deliver_at": 5}' WHERE id = ${numeric}`)
      const good = (await call(c, 'remind', { goal: 'good', source: 's', tags: [] })).body.id
      // Reference-era values: an offset, no zone (UTC), date only.
      const legacy = ['2020-01-01T10:00:00+05:30', '2020-01-01 10:00', '2020-01-01']
      for (const value of legacy) {
        const id = (await call(c, 'remind', { goal: `legacy ${value}`, source: 's', tags: [] })).body.id
        made.push(id)
        await srv.store.withOwner(srv.owner, (tx) => tx`UPDATE entries SET data = data || ${tx.json({ deliver_at: value })} WHERE id = ${id}`)
      }
      await srv.store.withOwner(srv.owner, (tx) => tx`UPDATE entries SET data = data || ${tx.json({ deliver_at: new Date(Date.now() - 1000).toISOString() })} WHERE id = ${good}`)
      const b = await call(c, 'get_briefing', {})
      t.equal(b.isError, false)
      t.same(b.body.fired_intentions.map((f: { id: string }) => f.id).sort(), [good, ...made.slice(-3)].sort(), 'only well-formed due values fire')
      t.equal(b.body.pending_intentions, bad.length + 1, 'malformed ones stay pending and are counted')
    })

    t.test('bad input answers the envelope and changes nothing for either owner', async (t) => {
      const srv = await startServer(t, { backend })
      const bob = await startServer(t, { backend })
      const c = await clientV1(t, srv.url)
      const cb = await clientV2(t, bob.url)
      const mine = (await call(c, 'remind', { goal: 'mine', source: 's', tags: [] })).body.id
      const note = (await call(c, 'remember', { source: 's', tags: [], description: 'a note' })).body.id
      const bobs = (await call(cb, 'remind', { goal: 'bobs', source: 's', tags: [] })).body.id
      const before = [await snapshot(srv.store, srv.owner), await snapshot(bob.store, bob.owner)]
      const big = 'z'.repeat(1024 * 1024)
      const cases: [string, Record<string, unknown>, string, string, string?][] = [
        ['remind', { source: 's', tags: [] }, 'invalid_parameter', 'goal'],
        ['remind', { goal: 'g', source: 's' }, 'invalid_parameter', 'tags'],
        ['remind', { goal: 'g', source: 's', tags: [], urgency: 'urgent' }, 'invalid_parameter', 'urgency'],
        ['remind', { goal: 'g', source: 's', tags: [], urgency: 'hihg' }, 'invalid_parameter', 'urgency', 'high'],
        ['remind', { goal: 'g', source: 's', tags: [], urgency: 'bogus', deliver_at: 'bad' }, 'invalid_parameter', 'urgency'],
        ['remind', { goal: 'g', source: 's', tags: [], deliver_at: '' }, 'invalid_parameter', 'deliver_at'],
        ['remind', { goal: 'g', source: 's', tags: [], deliver_at: 'tomorrow' }, 'invalid_parameter', 'deliver_at'],
        ['remind', { goal: 'g', source: 's', tags: [], deliver_at: '2026-02-30' }, 'invalid_parameter', 'deliver_at'],
        ['remind', { goal: 'g', source: 's', tags: [], deliver_at: big }, 'invalid_parameter', 'deliver_at'],
        ['remind', { goal: 'g', source: 's', tags: [], deliver_at: 1700000000 }, 'invalid_parameter', 'deliver_at'],
        ['remind', { goal: ['g'], source: 's', tags: [] }, 'invalid_parameter', 'goal'],
        ['remind', { goal: 'g', source: big, tags: [] }, 'invalid_parameter', 'source'],
        ['update_intention', { state: 'active' }, 'invalid_parameter', 'entry_id'],
        ['update_intention', { entry_id: mine }, 'invalid_parameter', 'state'],
        ['update_intention', { entry_id: mine, state: 'done' }, 'invalid_parameter', 'state'],
        ['update_intention', { entry_id: mine, state: 'Active' }, 'invalid_parameter', 'state', 'active'],
        ['update_intention', { entry_id: 'no-such-id', state: 'bogus' }, 'invalid_parameter', 'state'],
        ['update_intention', { entry_id: mine, state: big }, 'invalid_parameter', 'state'],
        ['update_intention', { entry_id: 'no-such-id', state: 'active' }, 'not_found', 'entry_id'],
        ['update_intention', { entry_id: `'; DROP TABLE entries; --`, state: 'active' }, 'not_found', 'entry_id'],
        ['update_intention', { entry_id: bobs, state: 'active' }, 'not_found', 'entry_id'],
        ['update_intention', { entry_id: note, state: 'active' }, 'not_found', 'entry_id'],
        ['update_intention', { entry_id: mine, state: 'active', reason: 7 }, 'invalid_parameter', 'reason'],
        ['get_intentions', { state: 'bogus' }, 'invalid_parameter', 'state'],
        ['get_intentions', { state: 'complete' }, 'invalid_parameter', 'state', 'completed'],
        ['get_intentions', { state: '' }, 'invalid_parameter', 'state'],
        ['get_intentions', { limit: -1 }, 'invalid_parameter', 'limit'],
        ['get_intentions', { limit: 'many' }, 'invalid_parameter', 'limit'],
        ['get_intentions', { tags: 'a' }, 'invalid_parameter', 'tags'],
      ]
      for (const [tool, args, code, param, suggestion] of cases) {
        const r = await call(c, tool, args)
        const label = `${tool} ${JSON.stringify(args).slice(0, 80)}`
        t.equal(r.isError, true, `${label} is an error`)
        t.equal(r.body.status, 'error', label)
        t.equal(r.body.error.code, code, label)
        t.equal(r.body.error.param, param, label)
        t.equal(r.body.error.retryable, false, label)
        if (suggestion !== undefined) t.equal(r.body.error.suggestion, suggestion, label)
      }
      const state = await call(c, 'update_intention', { entry_id: mine, state: 'bogus' })
      t.same(state.body.error.valid, ['active', 'cancelled', 'completed', 'fired', 'pending', 'snoozed'])
      const missing = await call(c, 'update_intention', { entry_id: bobs, state: 'active' })
      t.match(missing.body.error.message, /Intention not found/)
      t.equal(missing.body.error.value, bobs)
      t.match((await call(c, 'get_intentions', { limit: -1 })).body.error.message, 'limit must be non-negative')
      t.match((await call(c, 'remind', { goal: 'g', source: 's', tags: [], deliver_at: '' })).body.error.help_url, /ISO_8601/)
      t.equal(await snapshot(srv.store, srv.owner), before[0], 'owner unchanged')
      t.equal(await snapshot(bob.store, bob.owner), before[1], 'the other owner unchanged')
      t.equal((await call(cb, 'get_intentions', {})).body.entries[0].data.state, 'pending')
    })

    t.test('SQL metacharacters and 1 MiB strings are stored verbatim', async (t) => {
      const srv = await startServer(t, { backend })
      const c = await clientV1(t, srv.url)
      const nasty = `'; DROP TABLE entries; -- %s {} \\ "quoted" $1 ?`
      const big = 'w'.repeat(1024 * 1024)
      const started = Date.now()
      const r = await call(c, 'remind', { goal: big, source: nasty, tags: [nasty], constraints: nasty, recurrence: big })
      t.equal(r.isError, false)
      t.ok(Date.now() - started < 10_000, 'a huge goal does not stall the write')
      const [e] = (await call(c, 'get_intentions', { source: nasty, tags: [nasty] })).body.entries
      t.equal(e.data.goal.length, big.length)
      t.equal(e.data.constraints, nasty)
      t.equal(e.data.recurrence.length, big.length)
      await call(c, 'update_intention', { entry_id: e.id, state: 'active', reason: big })
      const [u] = (await call(c, 'get_intentions', { state: 'active' })).body.entries
      t.equal(u.data.state_reason.length, big.length)
    })

    t.test("another owner's intentions never fire or show in this owner's briefing", async (t) => {
      const alice = await startServer(t, { backend })
      const bob = await startServer(t, { backend })
      const a = await clientV1(t, alice.url)
      const b = await clientV2(t, bob.url)
      await call(a, 'remind', { goal: 'alice due', source: 's', tags: [], deliver_at: PAST })
      const bb = (await call(b, 'get_briefing', {})).body
      t.notOk('fired_intentions' in bb)
      t.equal(bb.pending_intentions, 0)
      t.same((await call(b, 'get_intentions', {})).body.entries, [])
      t.equal((await call(a, 'get_briefing', {})).body.fired_intentions.length, 1)
    })
  })
}
