/**
 * Which suppression hides an alert (data-and-engine.md §8.3, decision 8), answered from an index built once
 * per briefing instead of by trying every suppression on every alert (security audit M3: 2,000 alerts and
 * 2,000 suppressions took 0.70 s of the main thread per briefing).
 *
 * The rule being indexed: in list order, the first live suppression whose source is '' or the alert's,
 * whose metric (when set) is the alert's, whose tags (when any) match the alert, and that holds the alert's
 * level, hides it. A tag matches when the alert carries it, or when its lower-cased text occurs in the
 * alert's lower-cased id, message or metric. "Holds" depends only on the alert's rank (four values), so for
 * every group of suppressions the first one holding each rank is computed ahead.
 */
import { levelOf, rank, text, type BriefingEntry } from './rules.js'

interface Prepared {
  readonly order: number
  readonly entry: BriefingEntry
  /** The highest alert rank it hides (an escalation override lets higher ones through); Infinity: all. */
  readonly maxHeld: number
}

/** Suppressions that share every condition but rank, in list order, with the first that holds each rank. */
class Group {
  readonly members: Prepared[] = []
  private firstByRank: (Prepared | undefined)[] | undefined

  first(alertRank: number): Prepared | undefined {
    this.firstByRank ??= RANKS.map((r) => this.members.find((p) => r <= p.maxHeld))
    return this.firstByRank[alertRank + 1]
  }
}

/** Alert ranks: unknown level (-1), info, warning, critical. */
const RANKS = [-1, 0, 1, 2]
/** Needles at least this long are found through their first characters. */
const PREFIX = 3

function groupIn(map: Map<string, Group>, key: string): Group {
  let group = map.get(key)
  if (group === undefined) map.set(key, (group = new Group()))
  return group
}

/**
 * Groups are keyed by the conditions a suppression puts on an alert besides its tags: its source ('' for
 * every source) and its metric ('' for none). A metric that is not a string or number can never equal an
 * alert's parsed JSON value, so such a suppression is left out.
 */
function scopeKey(source: string, metric: unknown): string | undefined {
  if (!metric) return `${source}\u0000`
  return typeof metric === 'string' || typeof metric === 'number' ? `${source}\u0000${typeof metric}:${metric}` : undefined
}

export class SuppressionIndex {
  /** Untagged, keyed by metric (undefined: no metric, applies to every alert). */
  private readonly untagged = new Map<string, Group>()
  private readonly exactTags = new Map<string, Map<string, Group>>()
  /** Lower-cased needles of PREFIX or more characters, by their first PREFIX characters. */
  private readonly byPrefix = new Map<string, Map<string, Map<string, Group>>>()
  private readonly shortNeedles = new Map<string, Map<string, Group>>()

  constructor(suppressions: readonly BriefingEntry[], now: Date) {
    suppressions.forEach((s, order) => {
      if (s.expires !== null && s.expires.getTime() <= now.getTime()) return
      const override = s.data.escalation_override === undefined ? true : Boolean(s.data.escalation_override)
      const prepared: Prepared = { order, entry: s, maxHeld: override ? rank(text(s.data.suppress_level) || 'warning') : Infinity }
      const scope = scopeKey(s.source, s.data.metric)
      if (scope === undefined) return
      if (s.tags.length === 0) {
        groupIn(this.untagged, scope).members.push(prepared)
        return
      }
      for (const tag of new Set(s.tags)) {
        if (typeof tag !== 'string') continue
        add(this.exactTags, tag, scope, prepared)
        const needle = tag.toLowerCase()
        if (needle.length < PREFIX) add(this.shortNeedles, needle, scope, prepared)
        else {
          let needles = this.byPrefix.get(needle.slice(0, PREFIX))
          if (needles === undefined) this.byPrefix.set(needle.slice(0, PREFIX), (needles = new Map()))
          add(needles, needle, scope, prepared)
        }
      }
    })
  }

  /** The first suppression in list order that hides the alert. */
  find(alert: BriefingEntry): { suppressed: boolean; by?: string } {
    const alertRank = rank(levelOf(alert.data))
    const metric = alert.data.metric
    // The scopes that apply to this alert: any source or its own, no metric or its own.
    const scopes = [...new Set(['', alert.source])].flatMap((source) => [scopeKey(source, undefined), metric ? scopeKey(source, metric) : undefined])
    let best: Prepared | undefined
    const consider = (groups: Map<string, Group> | undefined): void => {
      if (groups === undefined) return
      for (const key of scopes) {
        const p = key === undefined ? undefined : groups.get(key)?.first(alertRank)
        if (p !== undefined && (best === undefined || p.order < best.order)) best = p
      }
    }
    consider(this.untagged)
    for (const tag of alert.tags) if (typeof tag === 'string') consider(this.exactTags.get(tag))
    // Null-safe on purpose: an alert stored with `"metric": null` crashed the reference (§12.23).
    const fields = [alert.data.alert_id, alert.data.message, alert.data.metric].map((v) => text(v).toLowerCase())
    for (const [needle, groups] of this.shortNeedles) if (fields.some((f) => f !== '' && f.includes(needle))) consider(groups)
    if (this.byPrefix.size > 0) {
      // Needles hold no NUL (arguments refuse it), so none can match across the separator.
      const joined = fields.join('\u0000')
      for (let i = 0; i + PREFIX <= joined.length; i++) {
        const needles = this.byPrefix.get(joined.slice(i, i + PREFIX))
        if (needles === undefined) continue
        for (const [needle, groups] of needles) if (joined.startsWith(needle, i)) consider(groups)
      }
    }
    return best === undefined ? { suppressed: false } : { suppressed: true, by: best.entry.id }
  }
}

function add(map: Map<string, Map<string, Group>>, key: string, scope: string, p: Prepared): void {
  let groups = map.get(key)
  if (groups === undefined) map.set(key, (groups = new Map()))
  groupIn(groups, scope).members.push(p)
}

/**
 * Whether any active suppression in `suppressions` hides the alert (§8.3 with decision 8). A matching
 * suppression whose escalation override is on lets an alert ranked above its level through — that
 * suppression only; another matching one may still hide it. `by` is the first that does, in list order.
 * For many alerts against one list, build one SuppressionIndex and ask it for each.
 */
export function isSuppressed(alert: BriefingEntry, suppressions: BriefingEntry[], now: Date): { suppressed: boolean; by?: string } {
  return new SuppressionIndex(suppressions, now).find(alert)
}
