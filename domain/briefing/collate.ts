/**
 * The briefing collator (data-and-engine.md §8, mcp-surface.md §4.6, product decisions 8 and 9).
 *
 * Pure: entries in, briefing out. The store reads the entries and claims due intentions before calling
 * this; nothing here touches the database, the clock or the environment.
 *
 * Deviations from the reference, all decided in the spec's product list:
 * - every matching suppression is considered, and any one that holds the alert hides it (decision 8);
 * - sources that never reported a status still appear when they have alerts, with `last_report: null`;
 *   `info` alerts never demand attention; pattern time conditions use the owner's timezone (decision 9);
 * - the output is held to a budget (decision 9, about 500 tokens): headlines are capped, and when the
 *   sources do not fit, ok sources collapse into `ok_sources` and the non-ok ones past the budget into
 *   `more_sources`, with "and N more" in the summary.
 * Every surfaced item says why it is there (`reason`), and the evaluation names what was hidden and by what.
 */
import { levelOf, matchingPattern, rank, text, type BriefingEntry } from './rules.js'
import { SuppressionIndex } from './suppression-index.js'

export { matchingPattern, type BriefingEntry } from './rules.js'
export { isSuppressed } from './suppression-index.js'

export interface CollatorInput {
  now: Date
  /** The owner's IANA timezone (users.timezone); pattern conditions are evaluated in it. */
  timezone: string
  /** Live status entries (newest per source). */
  statuses: BriefingEntry[]
  /** Live, unresolved, non-expired alerts of any source. */
  alerts: BriefingEntry[]
  /** Live, non-expired suppressions. */
  suppressions: BriefingEntry[]
  /** Live patterns. */
  patterns: BriefingEntry[]
  /** Intentions this briefing has just claimed (moved pending → fired by the store). */
  firedIntentions: BriefingEntry[]
  /** Live pending intentions not fired by this call. */
  pendingIntentions: number
}

export type SourceStatus = 'ok' | 'warning' | 'critical' | 'stale'

export interface BriefingSource {
  status: SourceStatus
  last_report: string | null
  headline?: string
  drill_down?: string
  /** What put a non-ok source in the briefing. */
  reason?: string
  /** An ok source's most recent surviving `info` alert (never demands attention). */
  info?: string
}

export interface BriefingFiredIntention {
  id: string
  goal: string
  source: string
  tags: string[]
  reason: string
}

export interface BriefingHiddenAlert {
  alert_id: string
  source: string
  by: 'suppression' | 'pattern'
  /** The suppression or pattern entry that hid the alert. */
  id: string
}

export interface BriefingEvaluation {
  alerts_checked: number
  suppressed: number
  pattern_matched: number
  stale_sources: number
  surfaced: number
  intentions_pending: number
  intentions_fired: number
  /** Hidden alerts, most severe first, at most HIDDEN_LISTED_MAX. */
  hidden?: BriefingHiddenAlert[]
  /** Hidden alerts not listed in `hidden`. */
  hidden_more?: number
}

export interface Briefing {
  generated: string
  staleness_sec: number
  sources: Record<string, BriefingSource>
  /** Ok sources collapsed into a count (only when the sources do not all fit). */
  ok_sources?: number
  /** Non-ok sources left out for the budget (only when some were). */
  more_sources?: number
  active_alerts: number
  active_suppressions: number
  upcoming: unknown[]
  attention_needed: boolean
  fired_intentions?: BriefingFiredIntention[]
  pending_intentions: number
  evaluation: BriefingEvaluation
  summary: string
  suggested_mention?: string
}

export const HEADLINE_MAX_CHARS = 200
export const SOURCES_LISTED_MAX = 20
export const HIDDEN_LISTED_MAX = 10
/** Alert ids quoted in `reason` and `evaluation.hidden`. */
export const ALERT_ID_MAX_CHARS = 100
/** Compact JSON of the whole briefing; ~4 characters a token puts this near the 500-token target. */
export const BRIEFING_BUDGET_CHARS = 2400

const recency = (e: BriefingEntry): number => (e.updated ?? e.created).getTime()
/** Stable, so entries of equal recency keep the store's tie-break. */
const byRecency = (entries: readonly BriefingEntry[]): BriefingEntry[] => [...entries].sort((a, b) => recency(b) - recency(a))
const byName = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0)

/** At most `max` characters (code points, so a surrogate pair is never split), with an ellipsis when cut. */
function cap(s: string, max = HEADLINE_MAX_CHARS): string {
  const chars = Array.from(s)
  return chars.length <= max ? s : `${chars.slice(0, max - 1).join('')}…`
}

interface HiddenItem extends BriefingHiddenAlert {
  rank: number
}

interface Evaluated {
  name: string
  status: SourceStatus
  entry: BriefingSource
  /** Alerts that demand attention (not info). */
  surfaced: number
}

/** Source-specific entries first, then global ones, each in recency order (§8.2 step 1). */
function scopedTo(source: string, grouped: Map<string, BriefingEntry[]>): BriefingEntry[] {
  const own = grouped.get(source) ?? []
  return source === '' ? own : [...own, ...(grouped.get('') ?? [])]
}

function groupBySource(entries: readonly BriefingEntry[]): Map<string, BriefingEntry[]> {
  const groups = new Map<string, BriefingEntry[]>()
  for (const e of byRecency(entries)) {
    const group = groups.get(e.source)
    if (group) group.push(e)
    else groups.set(e.source, [e])
  }
  return groups
}

/** One literal shape for every hidden item: building them by spreading measured ~30% of a briefing's CPU. */
function hiddenItem(alert: BriefingEntry, source: string, by: HiddenItem['by'], id: string): HiddenItem {
  return { alert_id: alertId(alert), source, by, id, rank: rank(levelOf(alert.data)) }
}

function alertReason(alert: BriefingEntry, others: number): string {
  const type = text(alert.data.alert_type)
  return `${levelOf(alert.data)} alert '${alertId(alert)}'${type ? ` (${cap(type, ALERT_ID_MAX_CHARS)})` : ''}${others > 0 ? ` +${others} more` : ''}`
}

/** The alert's id as the briefing names it: capped, since ids are caller text of any length. */
function alertId(alert: BriefingEntry): string {
  return cap(text(alert.data.alert_id) || alert.id, ALERT_ID_MAX_CHARS)
}

function firedIntention(e: BriefingEntry): BriefingFiredIntention {
  const due = text(e.data.deliver_at)
  const at = new Date(due)
  const reason = due === '' ? 'delivered via briefing' : `deliver_at ${Number.isNaN(at.getTime()) ? due : at.toISOString()} passed`
  return { id: e.id, goal: cap(text(e.data.goal) || text(e.data.description)), source: e.source, tags: e.tags, reason }
}

const PRIORITY: Record<SourceStatus, number> = { critical: 0, warning: 1, stale: 2, ok: 3 }

/**
 * Collates the briefing (§8.2–§8.7 with decisions 8 and 9). Sources are those with a status or with
 * alerts, alphabetical; when they do not fit the budget, the non-ok ones are listed most urgent first.
 */
export function collateBriefing(input: CollatorInput): Briefing {
  const { now, timezone } = input
  const statuses = new Map<string, BriefingEntry>()
  for (const s of input.statuses) {
    const seen = statuses.get(s.source)
    if (seen === undefined || s.created.getTime() > seen.created.getTime()) statuses.set(s.source, s)
  }
  const alerts = groupBySource(input.alerts)
  // One index for the whole briefing: it keys each suppression by its source ('' for all).
  const suppressions = new SuppressionIndex(input.suppressions, now)
  const patterns = groupBySource(input.patterns)
  const names = [...new Set([...statuses.keys(), ...alerts.keys()])].sort(byName)

  let alertsChecked = 0
  let suppressedCount = 0
  let patternMatched = 0
  let staleSources = 0
  const hidden: HiddenItem[] = []
  const evaluated: Evaluated[] = []

  for (const name of names) {
    const status = statuses.get(name)
    const reported = status ? (status.updated ?? status.created) : null
    const lastReport = reported ? reported.toISOString() : null
    const ttl = status?.data.ttl_sec
    if (reported && typeof ttl === 'number' && Number.isFinite(ttl)) {
      const ageSec = (now.getTime() - reported.getTime()) / 1000
      if (ageSec > ttl) {
        const age = Math.floor(ageSec)
        staleSources += 1
        evaluated.push({
          name,
          status: 'stale',
          surfaced: 0,
          entry: {
            status: 'stale',
            last_report: lastReport,
            headline: cap(`${name} has not reported in ${age}s`),
            drill_down: `awareness://status/${name}`,
            reason: `no report for ${age}s (ttl ${ttl}s)`,
          },
        })
        continue // a silent source's alerts are not evaluated
      }
    }

    const sourceAlerts = alerts.get(name) ?? []
    const sourcePatterns = scopedTo(name, patterns)
    alertsChecked += sourceAlerts.length
    const remaining: BriefingEntry[] = []
    for (const alert of sourceAlerts) {
      const verdict = suppressions.find(alert)
      if (verdict.suppressed) {
        suppressedCount += 1
        hidden.push(hiddenItem(alert, name, 'suppression', verdict.by ?? ''))
        continue
      }
      const pattern = matchingPattern(alert, sourcePatterns, now, timezone)
      if (pattern) {
        patternMatched += 1
        hidden.push(hiddenItem(alert, name, 'pattern', pattern.id))
        continue
      }
      remaining.push(alert)
    }

    const demanding = remaining.filter((a) => levelOf(a.data) !== 'info')
    if (demanding.length === 0) {
      const info = remaining[0]
      const entry: BriefingSource = info
        ? { status: 'ok', last_report: lastReport, info: cap(text(info.data.message) || alertId(info)), drill_down: `awareness://alerts/${name}` }
        : { status: 'ok', last_report: lastReport }
      evaluated.push({ name, status: 'ok', surfaced: 0, entry })
      continue
    }
    // Highest rank wins; among equal ranks the most recent (the list is in recency order).
    const top = demanding.reduce((best, a) => (rank(levelOf(a.data)) > rank(levelOf(best.data)) ? a : best))
    const sourceStatus: SourceStatus = demanding.some((a) => levelOf(a.data) === 'critical') ? 'critical' : 'warning'
    evaluated.push({
      name,
      status: sourceStatus,
      surfaced: demanding.length,
      entry: {
        status: sourceStatus,
        last_report: lastReport,
        headline: cap(text(top.data.message) || alertId(top)),
        drill_down: `awareness://alerts/${name}`,
        reason: alertReason(top, demanding.length - 1),
      },
    })
  }

  const fired = input.firedIntentions.map(firedIntention)
  const activeAlerts = evaluated.reduce((n, e) => n + e.surfaced, 0)
  const attention = staleSources > 0 || activeAlerts > 0 || fired.length > 0
  hidden.sort((a, b) => b.rank - a.rank)
  const evaluation: BriefingEvaluation = {
    alerts_checked: alertsChecked,
    suppressed: suppressedCount,
    pattern_matched: patternMatched,
    stale_sources: staleSources,
    surfaced: activeAlerts,
    intentions_pending: input.pendingIntentions,
    intentions_fired: fired.length,
    ...(hidden.length > 0 && { hidden: hidden.slice(0, HIDDEN_LISTED_MAX).map(({ rank: _rank, ...h }) => h) }),
    ...(hidden.length > HIDDEN_LISTED_MAX && { hidden_more: hidden.length - HIDDEN_LISTED_MAX }),
  }
  const activeSuppressions = input.suppressions.filter((s) => s.expires === null || s.expires.getTime() > now.getTime()).length

  const build = (listed: readonly Evaluated[], collapsed: boolean): Briefing => {
    const nonOk = evaluated.filter((e) => e.status !== 'ok').length
    const okCount = evaluated.length - nonOk
    const mention = [
      ...listed.flatMap((e) => {
        if (e.entry.headline === undefined) return []
        const prefix = e.status === 'critical' ? 'CRITICAL' : e.status === 'stale' ? 'STALE' : 'FYI'
        return [`${prefix}: ${e.entry.headline}`]
      }),
      ...fired.filter((f) => f.goal !== '').map((f) => `INTENTION: ${f.goal}`),
    ]
    return {
      generated: now.toISOString(),
      staleness_sec: 0,
      sources: Object.fromEntries(listed.map((e) => [e.name, e.entry])),
      ...(collapsed && okCount > 0 && { ok_sources: okCount }),
      ...(collapsed && nonOk > listed.length && { more_sources: nonOk - listed.length }),
      active_alerts: activeAlerts,
      active_suppressions: activeSuppressions,
      upcoming: [],
      attention_needed: attention,
      ...(fired.length > 0 && { fired_intentions: fired }),
      pending_intentions: input.pendingIntentions,
      evaluation,
      summary: summarize(evaluated, listed, attention, fired.length),
      ...(attention && { suggested_mention: mention.join(' ') }),
    }
  }

  if (evaluated.length <= SOURCES_LISTED_MAX) {
    const full = build(evaluated, false)
    if (JSON.stringify(full).length <= BRIEFING_BUDGET_CHARS) return full
  }
  // Over the cap: ok sources collapse into a count; non-ok ones are listed most urgent first while the
  // briefing stays within budget (at least one, so the most urgent source is always named).
  const urgent = evaluated
    .filter((e) => e.status !== 'ok')
    .sort((a, b) => PRIORITY[a.status] - PRIORITY[b.status] || byName(a.name, b.name))
  const limit = Math.min(urgent.length, SOURCES_LISTED_MAX)
  let shown = Math.min(1, limit)
  let briefing = build(urgent.slice(0, shown), true)
  while (shown < limit) {
    const next = build(urgent.slice(0, shown + 1), true)
    if (JSON.stringify(next).length > BRIEFING_BUDGET_CHARS) break
    briefing = next
    shown += 1
  }
  return briefing
}

/** `a, b` or `a, b and N more` when some of the category's sources are not listed. */
function namesOf(all: readonly Evaluated[], listed: readonly Evaluated[], status: SourceStatus): { count: number; names: string } {
  const count = all.filter((e) => e.status === status).length
  const shown = listed.filter((e) => e.status === status).map((e) => e.name)
  if (shown.length === 0) return { count, names: '' }
  return { count, names: shown.length < count ? `${shown.join(', ')} and ${count - shown.length} more` : shown.join(', ') }
}

/** The one-line summary of §8.6; names only the listed sources, counting the rest as "N more". */
function summarize(all: readonly Evaluated[], listed: readonly Evaluated[], attention: boolean, fired: number): string {
  const total = all.length
  if (!attention) return `All clear across ${total} source${total === 1 ? '' : 's'}.`
  const parts: string[] = []
  for (const level of ['critical', 'warning'] as const) {
    const { count, names } = namesOf(all, listed, level)
    if (count > 0) parts.push(names ? `${count} ${level} on ${names}` : `${count} ${level}`)
  }
  const stale = namesOf(all, listed, 'stale')
  if (stale.count > 0) parts.push(`${stale.names || stale.count} stale`)
  // `upcoming` is always empty (no calendar source), so its "<n> upcoming item(s)" part never appears.
  if (fired > 0) parts.push(`${fired} intention${fired === 1 ? '' : 's'} ready`)
  return parts.length > 0 ? `${parts.join('. ')}.` : `All clear across ${total} sources.`
}
