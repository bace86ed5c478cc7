/**
 * The collator's matching rules (data-and-engine.md §8.3, §8.4, product decision 8): which suppression
 * hides an alert and which learned pattern explains it. Pure, like the collator that uses them.
 */
import type { Entry } from '../../store/rows.js'

/** The part of a stored entry the collator reads (the store's own Entry satisfies it). */
export type BriefingEntry = Pick<Entry, 'id' | 'type' | 'source' | 'tags' | 'created' | 'updated' | 'expires' | 'data'>

const LEVEL_RANK: ReadonlyMap<string, number> = new Map([
  ['info', 0],
  ['warning', 1],
  ['critical', 2],
])
const STOP_WORDS: ReadonlySet<string> = new Set(['suppress', 'ignore', 'skip', 'the', 'a', 'an', 'on', 'in', 'for', 'and', 'or', 'is', 'at'])

export const text = (v: unknown): string => (typeof v === 'string' ? v : '')
/** A missing level counts as a warning; an unknown one ranks below info. */
export const levelOf = (data: Record<string, unknown>): string => (typeof data.level === 'string' ? data.level : 'warning')
export const rank = (level: string): number => LEVEL_RANK.get(level) ?? -1

/** Lower-cased, split on whitespace, em dashes and hyphens, stop words dropped (§8.4). */
function significantWords(s: string): string[] {
  return s
    .toLowerCase()
    .split(/[\s—-]+/)
    .filter((w) => w !== '' && !STOP_WORDS.has(w))
}

/** Every significant word of the alert's id, type, metric and message. */
function alertWordSet(alert: BriefingEntry): Set<string> {
  const words = new Set<string>()
  for (const field of [alert.data.alert_id, alert.data.alert_type, alert.data.metric, alert.data.message]) {
    for (const w of significantWords(text(field))) words.add(w)
  }
  return words
}

/** A pattern's effect words, computed once per pattern entry rather than once per alert it is tried on. */
const effectWordsMemo = new WeakMap<BriefingEntry, string[]>()

function effectWords(p: BriefingEntry): string[] {
  let words = effectWordsMemo.get(p)
  if (words === undefined) {
    words = significantWords(text(p.data.effect))
    effectWordsMemo.set(p, words)
  }
  return words
}

interface LocalClock {
  weekday: string
  hour: number
}

const clockFormats = new Map<string, Intl.DateTimeFormat>()

function clockFormat(timezone: string): Intl.DateTimeFormat {
  let format = clockFormats.get(timezone)
  if (format === undefined) {
    const options = { weekday: 'long', hour: 'numeric', hourCycle: 'h23' } as const
    try {
      format = new Intl.DateTimeFormat('en-US', { ...options, timeZone: timezone || 'UTC' })
    } catch {
      format = new Intl.DateTimeFormat('en-US', { ...options, timeZone: 'UTC' }) // unknown timezone
    }
    clockFormats.set(timezone, format)
  }
  return format
}

/** One briefing asks for the same instant and zone for every alert: the last answer is kept. */
let lastClock: { time: number; timezone: string; clock: LocalClock } | undefined

function localClock(now: Date, timezone: string): LocalClock {
  const time = now.getTime()
  if (lastClock !== undefined && lastClock.time === time && lastClock.timezone === timezone) return lastClock.clock
  const parts = clockFormat(timezone).formatToParts(now)
  const part = (type: string) => parts.find((p) => p.type === type)?.value ?? ''
  const clock = { weekday: part('weekday').toLowerCase(), hour: Number.parseInt(part('hour'), 10) % 24 }
  lastClock = { time, timezone, clock }
  return clock
}

function conditionsHold(conditions: unknown, clock: LocalClock): boolean {
  if (typeof conditions !== 'object' || conditions === null || Array.isArray(conditions)) return true
  for (const [key, value] of Object.entries(conditions)) {
    if (key === 'day_of_week') {
      if (typeof value !== 'string' || value.toLowerCase() !== clock.weekday) return false
    } else if (key === 'hour_range') {
      // Another shape than [start, end] is ignored, as in the reference.
      if (!Array.isArray(value) || value.length !== 2 || !value.every((h) => typeof h === 'number')) continue
      const [start, end] = value as [number, number]
      const inside = start > end ? clock.hour >= start || clock.hour < end : start <= clock.hour && clock.hour < end
      if (!inside) return false
    }
  }
  return true
}

/**
 * The first pattern (of the alert's source or global, in list order) whose effect shares a significant
 * word with the alert's id, type, metric or message and whose conditions hold now in `timezone` (§8.4).
 */
export function matchingPattern(alert: BriefingEntry, patterns: BriefingEntry[], now: Date, timezone: string): BriefingEntry | undefined {
  let alertWords: Set<string> | undefined
  let clock: LocalClock | undefined
  for (const p of patterns) {
    if (p.source !== '' && p.source !== alert.source) continue
    // The alert's words are needed only once some pattern is in scope.
    alertWords ??= alertWordSet(alert)
    if (!effectWords(p).some((w) => alertWords!.has(w))) continue
    clock ??= localClock(now, timezone)
    if (conditionsHold(p.data.conditions, clock)) return p
  }
  return undefined
}
