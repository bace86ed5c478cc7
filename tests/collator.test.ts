import t from 'tap'
import {
  ALERT_ID_MAX_CHARS,
  BRIEFING_BUDGET_CHARS,
  HEADLINE_MAX_CHARS,
  HIDDEN_LISTED_MAX,
  SOURCES_LISTED_MAX,
  collateBriefing,
  isSuppressed,
  matchingPattern,
} from '../domain/briefing/collate.js'
import type { BriefingEntry, CollatorInput } from '../domain/briefing/collate.js'

// Thursday 2026-04-16, 10:00 UTC (12:00 in Paris).
const NOW = new Date('2026-04-16T10:00:00.000Z')
const ago = (sec: number): Date => new Date(NOW.getTime() - sec * 1000)
const later = (sec: number): Date => new Date(NOW.getTime() + sec * 1000)

let seq = 0
function entry(type: string, source: string, data: Record<string, unknown>, over: Partial<BriefingEntry> = {}): BriefingEntry {
  seq += 1
  return { id: `${type}-${seq}`, type, source, tags: [], created: ago(60), updated: null, expires: null, data, ...over }
}
const status = (source: string, over: Partial<BriefingEntry> = {}, ttl: number | null = 120) =>
  entry('status', source, { metrics: { cpu: 1 }, ttl_sec: ttl }, { created: ago(10), ...over })
const alert = (source: string, alertId: string, level: string | undefined, message: string, extra: Record<string, unknown> = {}, over: Partial<BriefingEntry> = {}) =>
  entry('alert', source, { alert_id: alertId, ...(level !== undefined && { level }), alert_type: 'threshold', message, resolved: false, ...extra }, over)
const suppression = (source: string, data: Record<string, unknown> = {}, over: Partial<BriefingEntry> = {}) =>
  entry('suppression', source, { metric: null, suppress_level: 'warning', escalation_override: true, reason: '', ...data }, { expires: later(3600), ...over })
const pattern = (source: string, effect: string, conditions: Record<string, unknown> = {}) =>
  entry('pattern', source, { description: 'learned', conditions, effect, learned_from: 'conversation' })
const intention = (goal: string, deliverAt: string, extra: Record<string, unknown> = {}) =>
  entry('intention', 'assistant', { goal, state: 'fired', deliver_at: deliverAt, urgency: 'normal', ...extra }, { tags: ['home'] })

function collate(input: Partial<CollatorInput> = {}) {
  return collateBriefing({
    now: NOW,
    timezone: 'UTC',
    statuses: [],
    alerts: [],
    suppressions: [],
    patterns: [],
    firedIntentions: [],
    pendingIntentions: 0,
    ...input,
  })
}

t.test('empty store: all clear, zero everything, no mention', async (t) => {
  const b = collate()
  t.same(b, {
    generated: NOW.toISOString(),
    staleness_sec: 0,
    sources: {},
    active_alerts: 0,
    active_suppressions: 0,
    upcoming: [],
    attention_needed: false,
    pending_intentions: 0,
    evaluation: {
      alerts_checked: 0,
      suppressed: 0,
      pattern_matched: 0,
      stale_sources: 0,
      surfaced: 0,
      intentions_pending: 0,
      intentions_fired: 0,
    },
    summary: 'All clear across 0 sources.',
  })
  t.notOk('suggested_mention' in b)
  t.notOk('fired_intentions' in b)
})

t.test('output keys come in the order of §8.6', async (t) => {
  const b = collate({ statuses: [status('nas')], alerts: [alert('nas', 'cpu', 'warning', 'CPU high')], firedIntentions: [intention('call mum', '2026-04-16T09:00:00Z')] })
  t.same(Object.keys(b), [
    'generated', 'staleness_sec', 'sources', 'active_alerts', 'active_suppressions', 'upcoming', 'attention_needed',
    'fired_intentions', 'pending_intentions', 'evaluation', 'summary', 'suggested_mention',
  ])
  t.same(Object.keys(b.evaluation), ['alerts_checked', 'suppressed', 'pattern_matched', 'stale_sources', 'surfaced', 'intentions_pending', 'intentions_fired'])
  t.same(Object.keys(b.sources.nas), ['status', 'last_report', 'headline', 'drill_down', 'reason'])
})

t.test('a surviving alert surfaces with headline, drill-down, reason and mention', async (t) => {
  const cases = [
    { level: 'warning', status: 'warning', mention: 'FYI: Disk 91% full', summary: '1 warning on nas.' },
    { level: 'critical', status: 'critical', mention: 'CRITICAL: Disk 91% full', summary: '1 critical on nas.' },
    { level: undefined, status: 'warning', mention: 'FYI: Disk 91% full', summary: '1 warning on nas.' },
  ]
  for (const c of cases) {
    t.test(`level ${c.level ?? '(missing)'}`, async (t) => {
      const st = status('nas')
      const b = collate({ statuses: [st], alerts: [alert('nas', 'disk-full', c.level, 'Disk 91% full')] })
      t.same(b.sources.nas, {
        status: c.status,
        last_report: st.created.toISOString(),
        headline: 'Disk 91% full',
        drill_down: 'awareness://alerts/nas',
        reason: `${c.level ?? 'warning'} alert 'disk-full' (threshold)`,
      })
      t.equal(b.active_alerts, 1)
      t.equal(b.evaluation.surfaced, 1)
      t.equal(b.evaluation.alerts_checked, 1)
      t.equal(b.attention_needed, true)
      t.equal(b.summary, c.summary)
      t.equal(b.suggested_mention, c.mention)
    })
  }
})

t.test('headline: highest severity wins, then the most recent; reason counts the others', async (t) => {
  const b = collate({
    statuses: [status('nas')],
    alerts: [
      alert('nas', 'old-crit', 'critical', 'older critical', {}, { created: ago(500) }),
      alert('nas', 'warn', 'warning', 'a warning', {}, { created: ago(10) }),
      alert('nas', 'new-crit', 'critical', 'newer critical', {}, { created: ago(900), updated: ago(5) }),
    ],
  })
  t.equal(b.sources.nas.status, 'critical')
  t.equal(b.sources.nas.headline, 'newer critical')
  t.equal(b.sources.nas.reason, "critical alert 'new-crit' (threshold) +2 more")
  t.equal(b.active_alerts, 3)
})

t.test('suppression rules (§8.3, decision 8)', async (t) => {
  const cases: Array<{ name: string; alert: BriefingEntry; suppressions: BriefingEntry[]; hidden: boolean; by?: number }> = [
    { name: 'override lets a critical through a warning suppression', alert: alert('nas', 'a', 'critical', 'm'), suppressions: [suppression('nas')], hidden: false },
    { name: 'a warning suppression hides a warning', alert: alert('nas', 'a', 'warning', 'm'), suppressions: [suppression('nas')], hidden: true, by: 0 },
    { name: 'without override a warning suppression hides a critical', alert: alert('nas', 'a', 'critical', 'm'), suppressions: [suppression('nas', { escalation_override: false })], hidden: true, by: 0 },
    { name: 'a critical suppression hides a critical', alert: alert('nas', 'a', 'critical', 'm'), suppressions: [suppression('nas', { suppress_level: 'critical' })], hidden: true, by: 0 },
    { name: 'a critical suppression hides a warning', alert: alert('nas', 'a', 'warning', 'm'), suppressions: [suppression('nas', { suppress_level: 'critical' })], hidden: true, by: 0 },
    { name: 'an info alert is hidden by any matching suppression', alert: alert('nas', 'a', 'info', 'm'), suppressions: [suppression('nas')], hidden: true, by: 0 },
    { name: 'an expired suppression is ignored', alert: alert('nas', 'a', 'warning', 'm'), suppressions: [suppression('nas', {}, { expires: ago(1) })], hidden: false },
    { name: 'a suppression expiring exactly now is ignored', alert: alert('nas', 'a', 'warning', 'm'), suppressions: [suppression('nas', {}, { expires: NOW })], hidden: false },
    { name: "another source's suppression does not apply", alert: alert('nas', 'a', 'warning', 'm'), suppressions: [suppression('ci')], hidden: false },
    { name: 'a global suppression applies to every source', alert: alert('nas', 'a', 'warning', 'm'), suppressions: [suppression('')], hidden: true, by: 0 },
    { name: 'metric mismatch does not match', alert: alert('nas', 'a', 'warning', 'm', { metric: 'cpu_pct' }), suppressions: [suppression('nas', { metric: 'disk_pct' })], hidden: false },
    { name: 'metric equality matches', alert: alert('nas', 'a', 'warning', 'm', { metric: 'disk_pct' }), suppressions: [suppression('nas', { metric: 'disk_pct' })], hidden: true, by: 0 },
    { name: 'an alert without metric never matches a metric suppression', alert: alert('nas', 'a', 'warning', 'm'), suppressions: [suppression('nas', { metric: 'disk_pct' })], hidden: false },
    { name: 'metric null does not crash tag matching', alert: alert('nas', 'a', 'warning', 'Disk full', { metric: null }), suppressions: [suppression('nas', {}, { tags: ['disk'] })], hidden: true, by: 0 },
    { name: 'tag overlap matches', alert: alert('nas', 'a', 'warning', 'm', {}, { tags: ['backup', 'nightly'] }), suppressions: [suppression('nas', {}, { tags: ['nightly'] })], hidden: true, by: 0 },
    { name: 'no tag overlap and no substring does not match', alert: alert('nas', 'a', 'warning', 'm', {}, { tags: ['backup'] }), suppressions: [suppression('nas', {}, { tags: ['gpu'] })], hidden: false },
    { name: 'a tag found in the message (case-insensitive) matches', alert: alert('nas', 'a', 'warning', 'RAID rebuild slow'), suppressions: [suppression('nas', {}, { tags: ['Raid'] })], hidden: true, by: 0 },
    { name: 'a tag found in the alert_id matches', alert: alert('nas', 'smart-errors', 'warning', 'm'), suppressions: [suppression('nas', {}, { tags: ['smart'] })], hidden: true, by: 0 },
    {
      name: 'the first matching suppression lets it through, the second hides it',
      alert: alert('nas', 'a', 'critical', 'm'),
      suppressions: [suppression('nas'), suppression('', { suppress_level: 'critical' })],
      hidden: true,
      by: 1,
    },
    {
      name: 'the same two suppressions in the other order',
      alert: alert('nas', 'a', 'critical', 'm'),
      suppressions: [suppression('', { suppress_level: 'critical' }), suppression('nas')],
      hidden: true,
      by: 0,
    },
  ]
  for (const c of cases) {
    t.test(c.name, async (t) => {
      const verdict = isSuppressed(c.alert, c.suppressions, NOW)
      t.equal(verdict.suppressed, c.hidden)
      t.equal(verdict.by, c.by === undefined ? undefined : c.suppressions[c.by].id)
      const b = collate({ statuses: [status('nas')], alerts: [c.alert], suppressions: c.suppressions })
      t.equal(b.evaluation.alerts_checked, 1)
      t.equal(b.evaluation.suppressed, c.hidden ? 1 : 0)
      if (c.hidden) {
        t.equal(b.sources.nas.status, 'ok')
        t.same(b.evaluation.hidden, [{ alert_id: String(c.alert.data.alert_id), source: 'nas', by: 'suppression', id: verdict.by }])
      } else {
        t.not(b.sources.nas.status, 'ok')
        t.notOk('hidden' in b.evaluation)
      }
    })
  }
})

t.test('active_suppressions counts the live ones', async (t) => {
  const b = collate({ suppressions: [suppression('nas'), suppression(''), suppression('ci', {}, { expires: ago(5) })] })
  t.equal(b.active_suppressions, 2)
})

t.test('pattern rules (§8.4)', async (t) => {
  const THU_22_30 = new Date('2026-04-16T22:30:00.000Z') // Friday 00:30 in Paris
  const cases: Array<{ name: string; alert?: BriefingEntry; effect: string; conditions?: Record<string, unknown>; now?: Date; tz?: string; source?: string; match: boolean }> = [
    { name: 'a shared word with the message', effect: 'backup makes disk busy', match: true },
    { name: 'only stop words shared', alert: alert('nas', 'x', 'warning', 'the job is on'), effect: 'ignore the noise on it', match: false },
    { name: 'em dash splits words', alert: alert('nas', 'x', 'warning', 'scrub running'), effect: 'monthly—scrub', match: true },
    { name: 'hyphen splits words (alert_id)', alert: alert('nas', 'disk-full', 'warning', 'm'), effect: 'full volume expected', match: true },
    { name: 'underscore does not split', alert: alert('nas', 'x', 'warning', 'm', { alert_type: 'baseline', metric: 'cpu_pct' }), effect: 'cpu spikes', match: false },
    { name: 'alert_type takes part', effect: 'threshold flapping', match: true },
    { name: 'empty effect never matches', effect: '', match: false },
    { name: 'effect of stop words only never matches', effect: 'ignore the', match: false },
    { name: 'day_of_week matches', effect: 'disk', conditions: { day_of_week: 'Thursday' }, match: true },
    { name: 'day_of_week mismatch', effect: 'disk', conditions: { day_of_week: 'sunday' }, match: false },
    { name: 'hour_range inside', effect: 'disk', conditions: { hour_range: [9, 17] }, match: true },
    { name: 'hour_range outside', effect: 'disk', conditions: { hour_range: [11, 17] }, match: false },
    { name: 'hour_range end is exclusive', effect: 'disk', conditions: { hour_range: [6, 10] }, match: false },
    { name: 'hour_range wraps midnight (morning side)', effect: 'disk', conditions: { hour_range: [22, 11] }, match: true },
    { name: 'hour_range wraps midnight (evening side)', effect: 'disk', conditions: { hour_range: [22, 6] }, now: THU_22_30, match: true },
    { name: 'hour_range wraps midnight (outside)', effect: 'disk', conditions: { hour_range: [22, 6] }, match: false },
    { name: 'hour_range [h, h] never matches', effect: 'disk', conditions: { hour_range: [10, 10] }, match: false },
    { name: 'hour_range of another shape is ignored', effect: 'disk', conditions: { hour_range: [9] }, match: true },
    { name: 'unknown condition keys are ignored', effect: 'disk', conditions: { moon: 'full' }, match: true },
    { name: 'all conditions must hold', effect: 'disk', conditions: { day_of_week: 'thursday', hour_range: [0, 6] }, match: false },
    { name: "another source's pattern does not apply", effect: 'disk', source: 'ci', match: false },
    { name: 'a global pattern applies', effect: 'disk', source: '', match: true },
    { name: 'friday in Paris, not in UTC: Paris', effect: 'disk', conditions: { day_of_week: 'friday', hour_range: [0, 1] }, now: THU_22_30, tz: 'Europe/Paris', match: true },
    { name: 'friday in Paris, not in UTC: UTC', effect: 'disk', conditions: { day_of_week: 'friday', hour_range: [0, 1] }, now: THU_22_30, tz: 'UTC', match: false },
    { name: 'an invalid timezone falls back to UTC', effect: 'disk', conditions: { day_of_week: 'thursday', hour_range: [22, 23] }, now: THU_22_30, tz: 'Mars/Olympus', match: true },
  ]
  for (const c of cases) {
    t.test(c.name, async (t) => {
      const a = c.alert ?? alert('nas', 'disk-busy', 'warning', 'Disk busy')
      const p = pattern(c.source ?? 'nas', c.effect, c.conditions)
      const now = c.now ?? NOW
      const tz = c.tz ?? 'UTC'
      t.equal(matchingPattern(a, [p], now, tz), c.match ? p : undefined)
      const b = collate({ now, timezone: tz, statuses: [status('nas', { created: now })], alerts: [a], patterns: [p] })
      t.equal(b.evaluation.pattern_matched, c.match ? 1 : 0)
      t.equal(b.active_alerts, c.match ? 0 : 1)
      if (c.match) t.same(b.evaluation.hidden, [{ alert_id: a.data.alert_id, source: 'nas', by: 'pattern', id: p.id }])
    })
  }
})

t.test('the first matching pattern is reported; suppression is checked before patterns', async (t) => {
  const a = alert('nas', 'disk-busy', 'warning', 'Disk busy')
  const miss = pattern('nas', 'network')
  const first = pattern('nas', 'disk')
  const second = pattern('', 'busy')
  t.equal(matchingPattern(a, [miss, first, second], NOW, 'UTC'), first)
  const supp = suppression('nas')
  const b = collate({ statuses: [status('nas')], alerts: [a], suppressions: [supp], patterns: [first] })
  t.equal(b.evaluation.suppressed, 1)
  t.equal(b.evaluation.pattern_matched, 0)
  t.same(b.evaluation.hidden, [{ alert_id: 'disk-busy', source: 'nas', by: 'suppression', id: supp.id }])
})

t.test('info alerts never demand attention (decision 9)', async (t) => {
  const info = alert('mcp-awareness', 'unsupported-language-ja', 'info', 'Detected ja; stored with the simple configuration', { alert_type: 'structural' })
  const b = collate({ statuses: [status('nas')], alerts: [info] })
  t.same(b.sources['mcp-awareness'], {
    status: 'ok',
    last_report: null,
    info: 'Detected ja; stored with the simple configuration',
    drill_down: 'awareness://alerts/mcp-awareness',
  })
  t.equal(b.active_alerts, 0)
  t.equal(b.evaluation.alerts_checked, 1)
  t.equal(b.evaluation.surfaced, 0)
  t.equal(b.attention_needed, false)
  t.equal(b.summary, 'All clear across 2 sources.')
  t.notOk('suggested_mention' in b)

  t.test('next to a warning, it is neither counted nor the headline', async (t) => {
    const b = collate({ statuses: [status('nas')], alerts: [alert('nas', 'i', 'info', 'just so you know', {}, { created: ago(1) }), alert('nas', 'w', 'warning', 'CPU high')] })
    t.equal(b.sources.nas.status, 'warning')
    t.equal(b.sources.nas.headline, 'CPU high')
    t.equal(b.active_alerts, 1)
    t.equal(b.sources.nas.reason, "warning alert 'w' (threshold)")
  })
})

t.test('stale status (§8.2 step 2)', async (t) => {
  const cases = [
    { name: 'ttl 0, age 1 s: stale', ttl: 0, age: 1, stale: true },
    { name: 'ttl 120, age 300.7 s: stale, whole seconds', ttl: 120, age: 300.7, stale: true },
    { name: 'ttl 0, age 0: not stale (strictly greater)', ttl: 0, age: 0, stale: false },
    { name: 'ttl 120, age 120: not stale', ttl: 120, age: 120, stale: false },
    { name: 'ttl null: never stale', ttl: null, age: 100000, stale: false },
  ]
  for (const c of cases) {
    t.test(c.name, async (t) => {
      const st = status('nas', { created: ago(c.age) }, c.ttl)
      const b = collate({ statuses: [st], alerts: [alert('nas', 'cpu', 'critical', 'CPU on fire')] })
      if (c.stale) {
        const age = Math.floor(c.age)
        t.same(b.sources.nas, {
          status: 'stale',
          last_report: st.created.toISOString(),
          headline: `nas has not reported in ${age}s`,
          drill_down: 'awareness://status/nas',
          reason: `no report for ${age}s (ttl ${c.ttl}s)`,
        })
        t.equal(b.evaluation.stale_sources, 1)
        t.equal(b.evaluation.alerts_checked, 0, 'its alerts are not evaluated')
        t.equal(b.active_alerts, 0)
        t.equal(b.attention_needed, true)
        t.equal(b.summary, 'nas stale.')
        t.equal(b.suggested_mention, `STALE: nas has not reported in ${age}s`)
      } else {
        t.equal(b.sources.nas.status, 'critical')
        t.equal(b.evaluation.stale_sources, 0)
        t.equal(b.evaluation.alerts_checked, 1)
      }
    })
  }
  t.test('updated counts as the last report', async (t) => {
    const st = status('nas', { created: ago(1000), updated: ago(1) }, 10)
    const b = collate({ statuses: [st] })
    t.equal(b.sources.nas.status, 'ok')
    t.equal(b.sources.nas.last_report, ago(1).toISOString())
  })
})

t.test('a source without a status is included with last_report null (decision 9)', async (t) => {
  const a = alert('garage', 'door-open', 'critical', 'Garage door open')
  const b = collate({ statuses: [status('nas')], alerts: [a] })
  t.same(Object.keys(b.sources), ['garage', 'nas'])
  t.same(b.sources.garage, {
    status: 'critical',
    last_report: null,
    headline: 'Garage door open',
    drill_down: 'awareness://alerts/garage',
    reason: "critical alert 'door-open' (threshold)",
  })
  t.equal(b.summary, '1 critical on garage.')
  t.equal(b.suggested_mention, 'CRITICAL: Garage door open')

  t.test('its alerts go through suppressions like any other', async (t) => {
    const b = collate({ alerts: [a], suppressions: [suppression('garage', { suppress_level: 'critical' })] })
    t.same(b.sources.garage, { status: 'ok', last_report: null })
    t.equal(b.evaluation.suppressed, 1)
    t.equal(b.summary, 'All clear across 1 source.')
  })
})

t.test('fired intentions are listed with a reason and demand attention', async (t) => {
  const one = intention('Call the plumber', '2026-04-16T09:30:00+00:00')
  const two = intention('', '2026-04-16T08:00:00Z', { description: 'Water the plants' })
  const three = intention('', '2026-04-15T08:00:00Z')
  const cases = [
    {
      name: 'one',
      fired: [one],
      summary: '1 intention ready.',
      mention: 'INTENTION: Call the plumber',
      list: [{ id: one.id, goal: 'Call the plumber', source: 'assistant', tags: ['home'], reason: 'deliver_at 2026-04-16T09:30:00.000Z passed' }],
    },
    {
      name: 'three, goal falls back to description then empty',
      fired: [one, two, three],
      summary: '3 intentions ready.',
      mention: 'INTENTION: Call the plumber INTENTION: Water the plants',
      list: [
        { id: one.id, goal: 'Call the plumber', source: 'assistant', tags: ['home'], reason: 'deliver_at 2026-04-16T09:30:00.000Z passed' },
        { id: two.id, goal: 'Water the plants', source: 'assistant', tags: ['home'], reason: 'deliver_at 2026-04-16T08:00:00.000Z passed' },
        { id: three.id, goal: '', source: 'assistant', tags: ['home'], reason: 'deliver_at 2026-04-15T08:00:00.000Z passed' },
      ],
    },
  ]
  for (const c of cases) {
    t.test(c.name, async (t) => {
      const b = collate({ firedIntentions: c.fired, pendingIntentions: 4 })
      t.same(b.fired_intentions, c.list)
      t.equal(b.attention_needed, true)
      t.equal(b.pending_intentions, 4)
      t.equal(b.evaluation.intentions_pending, 4)
      t.equal(b.evaluation.intentions_fired, c.fired.length)
      t.equal(b.summary, c.summary)
      t.equal(b.suggested_mention, c.mention)
    })
  }
  t.test('pending only: counted, no attention', async (t) => {
    const b = collate({ statuses: [status('nas')], pendingIntentions: 2 })
    t.equal(b.pending_intentions, 2)
    t.equal(b.attention_needed, false)
    t.notOk('fired_intentions' in b)
  })
})

t.test('summary wording (§8.6)', async (t) => {
  const w = (s: string) => alert(s, `${s}-w`, 'warning', `${s} warn`)
  const c = (s: string) => alert(s, `${s}-c`, 'critical', `${s} crit`)
  const cases: Array<{ name: string; input: Partial<CollatorInput>; summary: string; mention?: string }> = [
    { name: '1 source is singular', input: { statuses: [status('nas')] }, summary: 'All clear across 1 source.' },
    { name: '2 sources are plural', input: { statuses: [status('nas'), status('ci')] }, summary: 'All clear across 2 sources.' },
    {
      name: 'critical, warning, stale and intentions in order; levels never pluralise',
      input: {
        statuses: [status('a'), status('b'), status('c'), status('d'), status('e', { created: ago(500) })],
        alerts: [c('a'), c('b'), w('c'), w('d')],
        firedIntentions: [intention('x', '2026-04-16T09:00:00Z'), intention('y', '2026-04-16T09:00:00Z')],
      },
      summary: '2 critical on a, b. 2 warning on c, d. e stale. 2 intentions ready.',
      mention: 'CRITICAL: a crit CRITICAL: b crit FYI: c warn FYI: d warn STALE: e has not reported in 500s INTENTION: x INTENTION: y',
    },
    { name: '1 intention ready', input: { firedIntentions: [intention('x', '2026-04-16T09:00:00Z')] }, summary: '1 intention ready.', mention: 'INTENTION: x' },
  ]
  for (const k of cases) {
    t.test(k.name, async (t) => {
      const b = collate(k.input)
      t.equal(b.summary, k.summary)
      t.equal(b.suggested_mention, k.mention)
      t.equal('suggested_mention' in b, k.mention !== undefined)
    })
  }
})

t.test('the budget (decision 9)', async (t) => {
  t.test('a headline is capped at 200 characters', async (t) => {
    const b = collate({ statuses: [status('nas')], alerts: [alert('nas', 'long', 'warning', 'x'.repeat(1000))] })
    const headline = b.sources.nas.headline ?? ''
    t.equal(Array.from(headline).length, HEADLINE_MAX_CHARS)
    t.ok(headline.endsWith('…'))
  })

  t.test(`alert ids are quoted at most ${ALERT_ID_MAX_CHARS} characters long`, async (t) => {
    const long = 'i'.repeat(5000)
    const b = collate({ statuses: [status('nas')], alerts: [alert('nas', long, 'warning', 'shown'), alert('nas', long, 'info', 'hidden one')], suppressions: [suppression('nas', {}, { tags: ['hidden'] })] })
    t.equal(b.sources.nas.reason, `warning alert '${'i'.repeat(ALERT_ID_MAX_CHARS - 1)}…' (threshold)`)
    t.equal(Array.from(b.evaluation.hidden?.[0].alert_id ?? '').length, ALERT_ID_MAX_CHARS)
    t.ok(JSON.stringify(b).length < BRIEFING_BUDGET_CHARS)
  })

  t.test('50 ok sources collapse into a count', async (t) => {
    const statuses = Array.from({ length: 50 }, (_, i) => status(`host-${String(i).padStart(2, '0')}`))
    const b = collate({ statuses })
    t.same(b.sources, {})
    t.equal(b.ok_sources, 50)
    t.notOk('more_sources' in b)
    t.equal(b.summary, 'All clear across 50 sources.')
    t.ok(JSON.stringify(b).length < 2500)
  })

  t.test('50 sources with 30 in trouble: most urgent first, "and N more", under ~500 tokens', async (t) => {
    const statuses = Array.from({ length: 50 }, (_, i) => status(`host-${String(i).padStart(2, '0')}`))
    const alerts = statuses.slice(0, 30).map((s, i) => alert(s.source, 'cpu-high', i >= 25 ? 'critical' : 'warning', `CPU at ${90 + (i % 10)}% for 10 minutes`))
    const b = collate({ statuses, alerts })
    const listed = Object.keys(b.sources)
    const size = JSON.stringify(b).length
    t.ok(size < 2500, `briefing is ${size} characters`)
    t.ok(size <= BRIEFING_BUDGET_CHARS)
    t.ok(listed.length >= 1 && listed.length <= SOURCES_LISTED_MAX)
    t.same(listed.slice(0, 5), ['host-25', 'host-26', 'host-27', 'host-28', 'host-29'], 'criticals first')
    t.ok(Object.values(b.sources).every((s) => s.status !== 'ok'))
    t.equal(b.ok_sources, 20)
    t.equal(b.more_sources, 30 - listed.length)
    t.equal(b.active_alerts, 30, 'counts cover every source, listed or not')
    t.ok(b.summary.startsWith('5 critical on host-25, host-26, host-27, host-28, host-29. 25 warning on '), b.summary)
    t.ok(b.summary.endsWith(`and ${b.more_sources} more.`), b.summary)
    t.equal(b.suggested_mention?.split(': ').length, listed.length + 1, 'mentions only the listed sources')
  })

  t.test('21 sources, one warning: ok ones collapse, the warning stays', async (t) => {
    const statuses = Array.from({ length: 21 }, (_, i) => status(`s${i}`))
    const b = collate({ statuses, alerts: [alert('s7', 'x', 'warning', 'Fan noisy')] })
    t.same(Object.keys(b.sources), ['s7'])
    t.equal(b.ok_sources, 20)
    t.notOk('more_sources' in b)
    t.equal(b.summary, '1 warning on s7.')
  })

  t.test('20 sources fit: listed in alphabetical order, no counts', async (t) => {
    const statuses = Array.from({ length: 20 }, (_, i) => status(`s${String(19 - i).padStart(2, '0')}`))
    const b = collate({ statuses })
    t.equal(Object.keys(b.sources).length, 20)
    t.equal(Object.keys(b.sources)[0], 's00')
    t.notOk('ok_sources' in b)
  })

  t.test(`hidden alerts are listed up to ${HIDDEN_LISTED_MAX}, most severe first, with a count of the rest`, async (t) => {
    const alerts = Array.from({ length: 14 }, (_, i) => alert('nas', `a${i}`, i === 13 ? 'critical' : 'warning', `m${i}`))
    const supp = suppression('', { suppress_level: 'critical' })
    const b = collate({ statuses: [status('nas')], alerts, suppressions: [supp] })
    t.equal(b.evaluation.suppressed, 14)
    t.equal(b.evaluation.hidden?.length, HIDDEN_LISTED_MAX)
    t.equal(b.evaluation.hidden?.[0].alert_id, 'a13')
    t.equal(b.evaluation.hidden_more, 4)
    t.ok(b.evaluation.hidden?.every((h) => h.by === 'suppression' && h.id === supp.id && h.source === 'nas'))
  })
})
