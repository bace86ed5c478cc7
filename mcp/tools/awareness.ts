/**
 * Ambient awareness: report_status, report_alert, suppress_alert, get_briefing, get_alerts, get_status,
 * get_suppressions (mcp-surface.md §3.1–§3.3, §3.5, §3.16, §3.17, §3.22, §4.2, §4.3).
 */
import { upsertAlert } from '../../store/queries/alerts.js'
import { activeAlerts, activeSuppressions, latestStatus, replaceStatus } from '../../store/queries/awareness.js'
import { insertEntry } from '../../store/queries/entries.js'
import { iso, serialise, toFull } from '../../store/rows.js'
import { runBriefing } from '../../domain/briefing/run.js'
import { notFound } from '../../core/errors.js'
import { checkPagination, expiryAfter, page, param, params, parseEnum, parseTimestamp } from '../params.js'
import { defineTool, recordReads } from './define.js'

export const ALERT_LEVELS = ['critical', 'warning'] as const
export const ALERT_TYPES = ['baseline', 'structural', 'threshold'] as const
const DEFAULT_TTL_SEC = 120
const DEFAULT_SUPPRESSION_MINUTES = 60

const nonEmpty = (o: Record<string, unknown> | undefined): o is Record<string, unknown> => o !== undefined && Object.keys(o).length > 0

export const reportStatus = defineTool({
  name: 'report_status',
  title: 'Report a source status',
  description:
    'Periodic status report from a monitored system or edge process. Each report replaces the source\'s previous status (one current status per source; the id changes every time). ' +
    'If no new report arrives within ttl_sec seconds, the briefing shows the source as stale.',
  input: params({
    source: param.key('The system reporting, e.g. "synology-nas". One current status per source.', true),
    tags: param.tags('Tags for the status (an empty array is allowed).', true),
    metrics: param.object('Current measurements as a JSON object, stored as given (e.g. {"cpu": 45}).', true),
    inventory: param.object('Optional description of what the system contains or runs; stored only when non-empty.'),
    ttl_sec: param.integer(`Seconds this report stays fresh (default ${DEFAULT_TTL_SEC}); after that the source counts as stale.`),
  }),
  annotations: { readOnlyHint: false, destructiveHint: true, idempotentHint: false },
  run: async (ctx, a) => {
    const data: Record<string, unknown> = { metrics: a.metrics, ttl_sec: a.ttl_sec ?? DEFAULT_TTL_SEC }
    if (nonEmpty(a.inventory)) data.inventory = a.inventory
    const entry = await ctx.store.withOwner(ctx.owner, (tx) => replaceStatus(tx, ctx.owner, { source: a.source, tags: a.tags, data }))
    ctx.embed.schedule(ctx.owner, entry.id)
    return { status: 'ok', id: entry.id, source: a.source }
  },
})

export const reportAlert = defineTool({
  name: 'report_alert',
  title: 'Raise, update or resolve an alert',
  description:
    'Raise, update or resolve an alert. One alert per (source, alert_id): reporting the same pair again updates it in place; resolved: true clears it, resolved: false re-opens it. ' +
    'Capture diagnostics at detection time — the evidence may be gone later. details and diagnostics keep their previous values when omitted.',
  input: params({
    source: param.key('The system the alert is about.', true),
    tags: param.tags('Tags for the alert (an empty array is allowed).', true),
    alert_id: param.string('Stable identifier of this alert within the source, e.g. "disk-full".', true),
    level: param.string('"warning" or "critical".', true),
    alert_type: param.string('"threshold" (a value crossed a limit), "structural" (something changed or broke) or "baseline" (unusual against normal behaviour).', true),
    message: param.string('One-line human-readable summary; the briefing uses it as the headline.', true),
    details: param.object('Optional structured details (stored only when non-empty).'),
    diagnostics: param.object('Optional evidence captured at detection time (stored only when non-empty).'),
    resolved: param.boolean('true marks the alert resolved (default false).'),
  }),
  annotations: { readOnlyHint: false, destructiveHint: false, idempotentHint: true },
  run: async (ctx, a) => {
    const level = parseEnum('level', a.level, ALERT_LEVELS)
    const alertType = parseEnum('alert_type', a.alert_type, ALERT_TYPES)
    const resolved = a.resolved ?? false
    const data: Record<string, unknown> = { alert_id: a.alert_id, level, alert_type: alertType, message: a.message, resolved }
    if (nonEmpty(a.details)) data.details = a.details
    if (nonEmpty(a.diagnostics)) data.diagnostics = a.diagnostics
    const { entry } = await ctx.store.withOwner(ctx.owner, (tx) => upsertAlert(tx, ctx.owner, { source: a.source, alertId: a.alert_id, tags: a.tags, data }))
    ctx.embed.schedule(ctx.owner, entry.id)
    return { status: 'ok', id: entry.id, action: resolved ? 'resolved' : 'reported', alert_id: a.alert_id }
  },
})

export const suppressAlert = defineTool({
  name: 'suppress_alert',
  title: 'Silence alerts for a while',
  description:
    'Silence matching alerts in the briefing for a limited time — use this rather than editing a memory when the user asks to mute something. ' +
    'Omit source to silence across every source. A suppression matches when its source, metric and tags fit the alert (a tag matches an alert tag, or appears in the alert id, message or metric). ' +
    'level is the highest level silenced; with escalation_override (default true) an alert above that level still breaks through. get_alerts keeps listing silenced alerts.',
  input: params({
    source: param.key('Source to silence; omitted means every source.'),
    tags: param.tags('Only alerts matching one of these tags (default: no tag restriction).'),
    metric: param.string('Only alerts about this metric.'),
    level: param.string('"warning" (default) or "critical": the highest level silenced.'),
    duration_minutes: param.integer(`How long the suppression lasts, in minutes (default ${DEFAULT_SUPPRESSION_MINUTES}, at least 1).`),
    escalation_override: param.boolean('When true (default), alerts above level break through.'),
    reason: param.string('Why the alerts are silenced.'),
  }),
  annotations: { readOnlyHint: false, destructiveHint: false, idempotentHint: false },
  run: async (ctx, a) => {
    const level = parseEnum('level', a.level ?? 'warning', ALERT_LEVELS)
    const now = new Date()
    const minutes = a.duration_minutes ?? DEFAULT_SUPPRESSION_MINUTES
    const expires = expiryAfter('duration_minutes', minutes, a.duration_minutes, 60_000, now, 'duration_minutes is too large: the suppression would outlast the year 9999')
    const data = { metric: a.metric ?? null, suppress_level: level, escalation_override: a.escalation_override ?? true, reason: a.reason ?? '' }
    const entry = await ctx.store.withOwner(ctx.owner, (tx) => insertEntry(tx, ctx.owner, { type: 'suppression', source: a.source ?? '', tags: a.tags ?? [], data, expires }, now))
    return { status: 'ok', id: entry.id, expires: iso(entry.expires) }
  },
})

export const getBriefing = defineTool({
  name: 'get_briefing',
  title: 'Situation briefing',
  description:
    'The compact, pre-filtered situation summary to read at the start of a conversation (same as the awareness://briefing resource). ' +
    'If attention_needed is false there is nothing to mention; otherwise use suggested_mention or the source headlines, and drill into the listed drill_down resources only when asked. ' +
    'Side effect: reminders whose delivery time has passed are delivered once (listed in fired_intentions and marked fired).',
  input: params({}),
  annotations: { readOnlyHint: false, destructiveHint: false, idempotentHint: false },
  stores: false, // reads; marking a due reminder delivered is left to the disk's reserve
  run: (ctx) => runBriefing(ctx.store, ctx.owner),
})

export const getAlerts = defineTool({
  name: 'get_alerts',
  title: 'Active alerts',
  description:
    'Drill-down list of active (unresolved) alerts, newest first, optionally for one source — including alerts the briefing silenced. ' +
    'Pages: {entries, limit, offset, has_more}. Present warnings in one sentence and criticals in a short paragraph, grouped by source.',
  input: params({
    source: param.string('Exact source; omitted or "" lists every source.'),
    since: param.string('ISO 8601: only alerts active (raised or updated) at or after this time.'),
    mode: param.string('"list" returns metadata only (the message as description).'),
    limit: param.integer('Page size (default 100).'),
    offset: param.integer('Rows to skip (default 0).'),
  }),
  annotations: { readOnlyHint: false, destructiveHint: false, idempotentHint: false },
  stores: false, // reads (and logs its reads): goes on when the disk is full
  run: async (ctx, a) => {
    const { limit, offset } = checkPagination(a.limit, a.offset)
    const since = parseTimestamp('since', a.since)
    return ctx.store.withOwner(ctx.owner, async (tx) => {
      const rows = await activeAlerts(tx, ctx.owner, { source: a.source, since }, limit + 1, offset)
      const ids = rows.slice(0, limit).map((e) => e.id)
      recordReads(ctx, ids, 'get_alerts')
      return page(rows.map((e) => serialise(e, a.mode)), limit, offset)
    })
  },
})

export const getStatus = defineTool({
  name: 'get_status',
  title: 'Latest status of a source',
  description: 'The full latest status of one source — metrics, inventory and TTL — whether or not it is stale. Read it when the briefing points to awareness://status/<source> or the user asks.',
  input: params({ source: param.string('Exact source name.', true) }),
  annotations: { readOnlyHint: true, idempotentHint: true },
  run: async (ctx, a) => {
    const entry = await ctx.store.withOwner(ctx.owner, (tx) => latestStatus(tx, ctx.owner, a.source))
    if (entry === undefined) throw notFound('source', a.source, `No status found for source: '${a.source}'`)
    return toFull(entry)
  },
})

export const getSuppressions = defineTool({
  name: 'get_suppressions',
  title: 'Suppressions in force',
  description: 'The alert suppressions currently in force (global and per source), newest first, as a JSON array.',
  input: params({}),
  annotations: { readOnlyHint: true, idempotentHint: true },
  run: async (ctx) => {
    const rows = await ctx.store.withOwner(ctx.owner, (tx) => activeSuppressions(tx, ctx.owner))
    return rows.map((e) => toFull(e))
  },
})

export const AWARENESS_TOOLS = [getBriefing, getAlerts, getStatus, getSuppressions, reportStatus, reportAlert, suppressAlert]
