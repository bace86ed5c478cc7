// Language: ISO 639-1 ↔ PostgreSQL text-search configuration, detection, the write-time resolution
// chain, the unsupported-language alert and the configuration validation cache.
// Pure: no I/O and no database. The detector is loaded lazily on first use.
import { createRequire } from 'node:module'

/** The 28 stock PostgreSQL configurations with an ISO 639-1 code. Estonian is deliberately absent:
 * PostgreSQL 15 does not ship it, and behaviour must not depend on the backend. */
export const ISO_TO_REGCONFIG: Readonly<Record<string, string>> = Object.freeze({
  ar: 'arabic',
  hy: 'armenian',
  eu: 'basque',
  ca: 'catalan',
  da: 'danish',
  nl: 'dutch',
  en: 'english',
  fi: 'finnish',
  fr: 'french',
  de: 'german',
  el: 'greek',
  hi: 'hindi',
  hu: 'hungarian',
  id: 'indonesian',
  ga: 'irish',
  it: 'italian',
  lt: 'lithuanian',
  ne: 'nepali',
  no: 'norwegian',
  pt: 'portuguese',
  ro: 'romanian',
  ru: 'russian',
  sr: 'serbian',
  es: 'spanish',
  sv: 'swedish',
  ta: 'tamil',
  tr: 'turkish',
  yi: 'yiddish',
})

const SIMPLE = 'simple'

// Maps instead of property lookups on the record, so 'constructor' or '__proto__' never resolve.
const ISO_MAP: ReadonlyMap<string, string> = new Map(Object.entries(ISO_TO_REGCONFIG))

function normaliseCode(code: string | null | undefined): string {
  return typeof code === 'string' ? code.trim().toLowerCase() : ''
}

/** ISO 639-1 code (trimmed, any case) → configuration; anything unknown or empty → 'simple'. */
export function isoToRegconfig(code: string | null | undefined): string {
  return ISO_MAP.get(normaliseCode(code)) ?? SIMPLE
}

/** For parameters that take an ISO code or the literal 'simple'. Null means "not a valid value";
 * the caller turns it into invalid_parameter. */
export function parseLanguageFilter(code: string): string | null {
  const c = normaliseCode(code)
  if (c === SIMPLE) return SIMPLE
  return ISO_MAP.get(c) ?? null
}

// ---------------------------------------------------------------------------------------------
// Detection

/** Below this many characters (code points, after trimming) detection is not attempted. */
const MIN_DETECTION_CHARS = 20

// tinyld's cost grows with the input: measured warm on this machine, 1,000 characters of
// repetitive non-words cost ~4.6 ms per call and 2,000 cost ~8.8 ms, while 1,000 characters of prose
// cost ~0.24 ms. The first 1,000 characters are plenty to identify a language.
const MAX_DETECTION_CHARS = 1000

// Confidence rule for tinyld's detectAll(). Its accuracy comes from two very different paths: a
// chunk that contains a gram unique to one language is credited to that language in full (accuracy
// near 1 for a one-chunk text), otherwise every word votes with relative scores divided by the
// character count (accuracy never above ~0.15). Measured on 87 hand-written sentences in 30
// languages (long sentences and 20–40 character memory entries) plus 8 noise strings:
//   - word-vote path: 11 results, top accuracy 0.033–0.139, 4 of them wrong (fr→ga, de→sv,
//     en→sk, en→no). Rejected by the accuracy floor.
//   - split verdicts (et→fi 0.507/0.493, cs→lt 0.526/0.474, de→en 0.564/0.436): margins ≤ 0.128.
//     Rejected by the margin floor.
//   - every correct result at or above the floor had accuracy ≥ 0.416 and margin ≥ 0.406.
// Both floors sit in the middle of the empty gaps (0.139…0.416 and 0.128…0.406). With them: 72
// right, 1 wrong, 14 unknown, against 79 right / 8 wrong with no rule. The one wrong result is
// tinyld's unique-gram shortcut ("Meeting with Paweł about the budget" → pl at 1.0), which no
// threshold on its output can catch.
const MIN_TOP_ACCURACY = 0.3
const MIN_MARGIN = 0.25

/** One candidate as tinyld's detectAll() reports it. */
export interface LanguageCandidate {
  lang: string
  accuracy: number
}

/** Applies the confidence rule to detector output sorted best first: returns the top ISO 639-1 code
 * when it is confident, else null. Codes that are not two-letter ISO 639-1 (tinyld also knows
 * Berber 'ber' and Klingon 'tlh') are never returned. */
export function pickConfidentLanguage(candidates: readonly LanguageCandidate[]): string | null {
  const top = candidates[0]
  if (!top || !Number.isFinite(top.accuracy)) return null
  const runnerUp = candidates[1]?.accuracy ?? 0
  if (top.accuracy < MIN_TOP_ACCURACY) return null
  if (top.accuracy - (Number.isFinite(runnerUp) ? runnerUp : 0) < MIN_MARGIN) return null
  const code = typeof top.lang === 'string' ? top.lang.toLowerCase() : ''
  return /^[a-z]{2}$/.test(code) ? code : null
}

type DetectAll = (text: string) => LanguageCandidate[]

// undefined: not tried yet; null: unavailable (detection disabled).
let detector: DetectAll | null | undefined

// Loaded on first use rather than imported: building tinyld's model costs ~136 ms of CPU, which
// modules that only need the maps should not pay at import time.
function loadDetector(): DetectAll | null {
  if (detector !== undefined) return detector
  try {
    const mod = createRequire(import.meta.url)('tinyld') as { detectAll?: unknown }
    detector = typeof mod.detectAll === 'function' ? (mod.detectAll as DetectAll) : null
  } catch {
    detector = null
  }
  return detector
}

/** Loads the detector now (e.g. at start-up, off the request path). False when it is unavailable,
 * in which case detection always answers null. */
export function warmLanguageDetector(): boolean {
  return loadDetector() !== null
}

function hasAtLeastCodePoints(text: string, n: number): boolean {
  if (text.length < n) return false
  if (text.length >= 2 * n) return true
  let count = 0
  for (const _ of text) if (++count >= n) return true
  return false
}

/** The ISO 639-1 code the detector is confident about, supported by the map or not (e.g. 'ja');
 * null for short text (< 20 characters after trimming), low confidence or no detector. Never throws. */
export function detectLanguageIso(text: string | null | undefined): string | null {
  if (typeof text !== 'string') return null
  const trimmed = text.trim()
  if (!hasAtLeastCodePoints(trimmed, MIN_DETECTION_CHARS)) return null
  const detectAll = loadDetector()
  if (!detectAll) return null
  try {
    const candidates = detectAll(trimmed.slice(0, MAX_DETECTION_CHARS))
    return Array.isArray(candidates) ? pickConfidentLanguage(candidates) : null
  } catch {
    return null
  }
}

function asText(value: unknown): string {
  if (value === null || value === undefined) return ''
  if (typeof value === 'string') return value
  if (typeof value === 'object') {
    try {
      return JSON.stringify(value) ?? ''
    } catch {
      return '' // circular or BigInt-bearing content: nothing sensible to detect on
    }
  }
  return String(value)
}

/** The text language detection runs on, per entry type (data-and-engine.md §7.2). */
export function detectionText(type: string, data: Record<string, unknown>): string {
  const description = asText(data.description)
  switch (type) {
    case 'pattern':
      return `${description} ${asText(data.effect)}`.trim()
    case 'note':
      return `${description} ${asText(data.content)}`.trim()
    case 'intention': {
      const goal = asText(data.goal).trim()
      return goal !== '' ? goal : description.trim()
    }
    default:
      return description.trim()
  }
}

export interface ResolvedLanguage {
  regconfig: string
  /** Set when the result is 'simple' because the text is in a language without a configuration. */
  unsupportedIso: string | null
}

/** Write-time chain: explicit supported code → preference supported code → detection → 'simple'.
 * Unknown codes fall through silently. */
export function resolveLanguage(opts: {
  explicit?: string | null
  preference?: string | null
  text?: string | null
}): ResolvedLanguage {
  const explicit = isoToRegconfig(opts.explicit)
  if (explicit !== SIMPLE) return { regconfig: explicit, unsupportedIso: null }
  const preferred = isoToRegconfig(opts.preference)
  if (preferred !== SIMPLE) return { regconfig: preferred, unsupportedIso: null }
  const iso = detectLanguageIso(opts.text)
  if (iso === null) return { regconfig: SIMPLE, unsupportedIso: null }
  const detected = isoToRegconfig(iso)
  if (detected !== SIMPLE) return { regconfig: detected, unsupportedIso: null }
  return { regconfig: SIMPLE, unsupportedIso: iso }
}

const languageNames = new Intl.DisplayNames(['en'], { type: 'language', fallback: 'code' })

function languageName(iso: string): string {
  try {
    return languageNames.of(iso) ?? iso
  } catch {
    return iso // not a well-formed language subtag
  }
}

export interface UnsupportedLanguageAlert {
  source: string
  tags: string[]
  alertId: string
  data: Record<string, unknown>
}

/** Content of the alert upserted when an entry's language has no text-search configuration. */
export function unsupportedLanguageAlert(iso: string): UnsupportedLanguageAlert {
  const code = iso.trim().toLowerCase()
  const alertId = `unsupported-language-${code}`
  const name = languageName(code)
  const label = name === code ? `'${code}'` : `${name} ('${code}')`
  return {
    source: 'mcp-awareness',
    tags: ['language', 'unsupported'],
    alertId,
    data: {
      alert_id: alertId,
      level: 'info',
      alert_type: 'structural',
      message:
        `Text detected as ${label} has no full-text search configuration, so the entry was stored ` +
        `with the 'simple' fallback: words are matched as written, without stemming or stop words.`,
      resolved: false,
      detected_iso: code,
    },
  }
}

// ---------------------------------------------------------------------------------------------
// Configuration validation cache

export interface RegconfigCacheOptions {
  /** Minimum time between two catalog loads (init included), in ms. Default 60,000. */
  minReloadIntervalMs?: number
  now?: () => number
  warn?: (msg: string) => void
}

/** Per-call overrides of how the catalog is read and where warnings go. */
export interface CatalogAccess {
  load?: () => Promise<string[]>
  warn?: (msg: string) => void
}

/** The set of configuration names the database knows, so an unknown one never reaches the
 * generated tsvector column (the INSERT would fail). `load` reads the catalog (pg_ts_config).
 * `init` and `validate` also take a loader (and a warning sink) for that one call: a caller inside a
 * transaction must read the catalog through it (the embedded database has a single connection, which
 * that transaction holds). */
export class RegconfigCache {
  readonly #load: () => Promise<string[]>
  readonly #minReloadIntervalMs: number
  readonly #now: () => number
  readonly #warn: (msg: string) => void
  #names: ReadonlySet<string> = new Set([SIMPLE])
  #lastLoadAt: number | null = null
  #inFlight: Promise<void> | null = null

  constructor(load: () => Promise<string[]> = async () => [SIMPLE], opts: RegconfigCacheOptions = {}) {
    this.#load = load
    this.#minReloadIntervalMs = opts.minReloadIntervalMs ?? 60_000
    this.#now = opts.now ?? Date.now
    this.#warn = opts.warn ?? (() => {})
  }

  /** Loads the catalog; on failure only 'simple' is known (and a warning is emitted). */
  async init(via: CatalogAccess = {}): Promise<void> {
    await this.#reload(via)
  }

  has(name: string): boolean {
    return this.#names.has(name)
  }

  /** `name` when the database has it, else 'simple'. A miss reloads the catalog (an extension may
   * have added a configuration), at most once per interval: every miss would otherwise cost a
   * catalog query. */
  async validate(name: string, via: CatalogAccess = {}): Promise<string> {
    if (this.#names.has(name)) return name
    if (this.#inFlight) {
      await this.#inFlight
    } else if (this.#lastLoadAt === null || this.#now() - this.#lastLoadAt >= this.#minReloadIntervalMs) {
      await this.#reload(via)
    }
    if (this.#names.has(name)) return name
    const warn = via.warn ?? this.#warn
    warn(`text search configuration "${name}" is not in the database catalog; using "simple"`)
    return SIMPLE
  }

  // Concurrent callers share one load. A failed load keeps the previous set, and still counts
  // toward the interval so a broken catalog query is not retried on every write.
  #reload(via: CatalogAccess): Promise<void> {
    this.#inFlight ??= this.#loadNames(via.load ?? this.#load, via.warn ?? this.#warn).finally(() => {
      this.#inFlight = null
    })
    return this.#inFlight
  }

  async #loadNames(load: () => Promise<string[]>, warn: (msg: string) => void): Promise<void> {
    this.#lastLoadAt = this.#now()
    try {
      const names = await load()
      // 'simple' is built into every PostgreSQL; keeping it means it never triggers a reload.
      this.#names = new Set([SIMPLE, ...names.filter((n) => typeof n === 'string')])
    } catch (err) {
      const reason = err instanceof Error ? err.message : String(err)
      warn(`could not load text search configurations (${reason}); keeping ${this.#names.size} known`)
    }
  }
}
