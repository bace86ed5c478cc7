/**
 * Shared argument pieces for tool parameters (mcp-surface.md §2.3–§2.6).
 *
 * Each piece pairs a zod schema (the validator, with the lenient coercions some clients rely on) with the
 * JSON Schema advertised in `tools/list`. Both are built once at module load; a zod `preprocess` has no
 * faithful JSON Schema, so the advertised shape is written next to it instead of being derived.
 */
import { z } from 'zod'
import { MAX_KEY_BYTES } from '../store/queries/entries.js'
import { invalidParameter } from '../core/errors.js'

export interface Param<T = unknown> {
  readonly zod: z.ZodType<T>
  readonly json: Record<string, unknown>
  readonly required: boolean
}

/** An omitted argument and an explicit JSON null are the same thing (§2.3). */
const nullToUndefined = (v: unknown): unknown => (v === null ? undefined : v)

function parseJsonText(v: unknown, shape: 'array' | 'object'): unknown {
  if (typeof v !== 'string') return v
  try {
    const parsed: unknown = JSON.parse(v)
    const ok = shape === 'array' ? Array.isArray(parsed) : typeof parsed === 'object' && parsed !== null && !Array.isArray(parsed)
    return ok ? parsed : v
  } catch {
    return v
  }
}

function build<T>(inner: z.ZodType<T>, json: Record<string, unknown>, description: string, required: boolean, coerce?: (v: unknown) => unknown): Param<T> {
  const pre = (v: unknown) => {
    const n = nullToUndefined(v)
    return n === undefined || coerce === undefined ? n : coerce(n)
  }
  const zod = (required ? z.preprocess(pre, inner) : z.preprocess(pre, inner.optional())) as z.ZodType<T>
  return { zod, json: { ...json, description }, required }
}

/** PostgreSQL cannot store U+0000 in text or JSONB; refusing it here keeps the answer a clean invalid_parameter. */
const NUL_MESSAGE = 'must not contain the NUL character (U+0000)'
/**
 * Every free-text argument is bounded (security audit M2, L5): 1 MiB of UTF-8 per string (the request body
 * may carry 4 MiB), search text 2,000 characters, at most 100 tags. Past these the call is refused with
 * invalid_parameter naming the argument.
 */
export const MAX_TEXT_BYTES = 1024 * 1024
export const MAX_QUERY_CHARS = 2_000
export const MAX_TAGS = 100
const TOO_LONG = `is too long: at most ${MAX_TEXT_BYTES / 1024 / 1024} MiB (UTF-8)`
const withinText = (s: string) => s.length <= MAX_TEXT_BYTES && Buffer.byteLength(s, 'utf8') <= MAX_TEXT_BYTES
const text = () => z.string().refine((s) => !s.includes('\u0000'), NUL_MESSAGE).refine(withinText, TOO_LONG)
/** A JSON object or array as content: NUL-free and within MAX_TEXT_BYTES, from one serialisation (strings are text()'s). */
function jsonContentIssue(v: unknown): string | undefined {
  if (v === undefined || typeof v === 'string') return undefined
  const json = JSON.stringify(v)
  if (json.includes('\\u0000')) return NUL_MESSAGE
  return Buffer.byteLength(json, 'utf8') > MAX_TEXT_BYTES ? TOO_LONG : undefined
}
const noNulJson = (v: unknown) => v === undefined || !JSON.stringify(v).includes('\\u0000')

/** Every JSON type, for a value that may be any of them: a schema with no keyword at all draws warnings. */
const JSON_TYPES = ['string', 'number', 'integer', 'boolean', 'object', 'array', 'null'] as const

export const param = {
  string: (description: string, required = false) => build(text(), { type: 'string' }, description, required),
  integer: (description: string, required = false) =>
    build(z.number().int(), { type: 'integer' }, description, required, (v) =>
      typeof v === 'string' && /^-?\d+$/.test(v.trim()) ? Number(v.trim()) : v,
    ),
  boolean: (description: string, required = false) =>
    build(z.boolean(), { type: 'boolean' }, description, required, (v) => (v === 'true' ? true : v === 'false' ? false : v)),
  tags: (description: string, required = false) =>
    build(z.array(text()).max(MAX_TAGS, `has too many tags: at most ${MAX_TAGS}`), { type: 'array', items: { type: 'string' }, maxItems: MAX_TAGS }, description, required, (v) => parseJsonText(v, 'array')),
  /** Search text (a query or a hint): words or a question, not a document. */
  query: (description: string, required = false) =>
    build(text().max(MAX_QUERY_CHARS, `is too long: at most ${MAX_QUERY_CHARS} characters (ask with fewer words)`), { type: 'string', maxLength: MAX_QUERY_CHARS }, description, required),
  object: (description: string, required = false) =>
    build(z.record(z.string(), z.unknown()).refine(noNulJson, NUL_MESSAGE), { type: 'object' }, description, required, (v) => parseJsonText(v, 'object')),
  /** Note content: a string, or a JSON object/array (stored as its JSON text by the tools). */
  content: (description: string, required = false) =>
    build(z.union([text(), z.array(z.unknown()), z.record(z.string(), z.unknown())]).superRefine((v, ctx) => {
      const issue = jsonContentIssue(v)
      if (issue !== undefined) ctx.addIssue({ code: 'custom', message: issue })
    }), { anyOf: [{ type: 'string' }, { type: 'object' }, { type: 'array' }] }, description, required),
  /** Any JSON value, including null (record content): null is a value here, not "omitted" — but it must be present. */
  anyValue: (description: string): Param<unknown> => ({
    zod: z.unknown().refine((v) => v !== undefined, 'required').refine(noNulJson, NUL_MESSAGE),
    json: { description, anyOf: JSON_TYPES.map((type) => ({ type })) },
    required: true,
  }),
  /** A string used as a key part (source, logical_key, alert_id…): indexed, so bounded to 1 KiB of UTF-8. */
  key: (description: string, required = false) =>
    build(text().refine((s) => Buffer.byteLength(s, 'utf8') <= MAX_KEY_BYTES, `is too long: at most ${MAX_KEY_BYTES} bytes (UTF-8)`), { type: 'string' }, description, required),
  /** `include_history`: a string, or a boolean accepted as its string form. */
  stringOrBoolean: (description: string) =>
    build(text(), { anyOf: [{ type: 'string' }, { type: 'boolean' }] }, description, false, (v) => (typeof v === 'boolean' ? String(v) : v)),
}

export interface ParamSchema<S extends Record<string, Param>> {
  readonly zod: z.ZodType<{ [K in keyof S]: S[K] extends Param<infer T> ? T : never }>
  readonly json: Record<string, unknown>
}

/** Builds a tool's argument validator and its advertised input schema from named params. */
export function params<S extends Record<string, Param>>(shape: S): ParamSchema<S> {
  const zodShape: Record<string, z.ZodType> = {}
  const properties: Record<string, unknown> = {}
  const required: string[] = []
  for (const [name, p] of Object.entries(shape)) {
    zodShape[name] = p.zod
    properties[name] = p.json
    if (p.required) required.push(name)
  }
  // Clients in strict function-calling modes (OpenAI's) need every object closed. Validation stays lenient:
  // z.object drops unknown names instead of refusing them (§2.3), so the flag tells clients what to send.
  const json: Record<string, unknown> = { type: 'object', properties, additionalProperties: false }
  if (required.length > 0) json.required = required
  return { zod: z.object(zodShape) as unknown as ParamSchema<S>['zod'], json }
}

/** Turns the first zod issue into the §2.4 envelope with `param` naming the argument (D3). */
export function argumentError(error: z.ZodError, args: Record<string, unknown>): Error {
  const issue = error.issues[0]
  const name = typeof issue?.path[0] === 'string' ? issue.path[0] : undefined
  if (name === undefined) return invalidParameter('arguments', args, 'Tool arguments must be a JSON object')
  const value = args[name]
  const message =
    value === undefined || value === null ? `Missing required argument '${name}'` : `Invalid argument '${name}': ${issue?.message ?? 'wrong type'}`
  return invalidParameter(name, value, message)
}

// ---------------------------------------------------------------------------------------------------------
// Enums with "did you mean" (§2.4)

export const ENTRY_TYPES = ['alert', 'context', 'intention', 'note', 'pattern', 'preference', 'record', 'schema', 'status', 'suppression'] as const
export type EntryType = (typeof ENTRY_TYPES)[number]
export const KNOWLEDGE_TYPES: readonly EntryType[] = ['pattern', 'context', 'preference', 'note']

function levenshtein(a: string, b: string): number {
  const row = Array.from({ length: b.length + 1 }, (_, i) => i)
  for (let i = 1; i <= a.length; i++) {
    let diagonal = row[0]
    row[0] = i
    for (let j = 1; j <= b.length; j++) {
      const above = row[j]
      row[j] = Math.min(row[j] + 1, row[j - 1] + 1, diagonal + (a[i - 1] === b[j - 1] ? 0 : 1))
      diagonal = above
    }
  }
  return row[b.length]
}

/** Closest valid value within edit distance 2, case-insensitive; ties go to the first in ascending order. */
export function suggest(input: string, valid: readonly string[]): string | undefined {
  let best: string | undefined
  let bestDistance = 3
  for (const candidate of [...valid].sort()) {
    const d = levenshtein(input.toLowerCase(), candidate.toLowerCase())
    if (d < bestDistance) {
      best = candidate
      bestDistance = d
    }
  }
  return best
}

export function parseEnum<T extends string>(name: string, value: string, valid: readonly T[]): T {
  if ((valid as readonly string[]).includes(value)) return value as T
  const sorted = [...valid].sort()
  const suggestion = suggest(value, sorted)
  const list = sorted.map((v) => `'${v}'`).join(', ')
  const hint = suggestion === undefined ? '' : ` Did you mean '${suggestion}'?`
  throw invalidParameter(name, value, `Invalid ${name}: '${value}'. Valid: ${list}.${hint}`, { valid: sorted, suggestion })
}

/** `entry_type` filter: omitted or '' means no filter (§2.4). */
export function parseEntryType(name: string, value: string | undefined): EntryType | undefined {
  return value === undefined || value === '' ? undefined : parseEnum(name, value, ENTRY_TYPES)
}

// ---------------------------------------------------------------------------------------------------------
// Timestamps (§2.5): strict ISO 8601, never Date.parse's guesswork

const ISO_HELP = 'https://en.wikipedia.org/wiki/ISO_8601'
const ISO_PATTERN = /^(\d{4})-(\d{2})-(\d{2})(?:[T ](\d{2}):(\d{2})(?::(\d{2})(?:\.(\d{1,9}))?)?(Z|[+-]\d{2}(?::?\d{2})?)?)?$/

export function parseTimestamp(name: string, value: string | undefined): Date | undefined {
  if (value === undefined) return undefined
  if (value === '') throw invalidParameter(name, value, `${name} cannot be empty; use an ISO 8601 timestamp such as 2026-04-16T09:30:00Z`, { help_url: ISO_HELP })
  const m = ISO_PATTERN.exec(value)
  const bad = () => invalidParameter(name, value, `Invalid ${name}: '${value}' is not an ISO 8601 timestamp (e.g. 2026-04-16 or 2026-04-16T09:30:00Z)`, { help_url: ISO_HELP })
  if (!m) throw bad()
  const [, y, mo, d, h = '0', mi = '0', s = '0', frac = '', zone = 'Z'] = m
  const fields = [Number(y), Number(mo), Number(d), Number(h), Number(mi), Number(s)]
  const [year, month, day, hour, minute, second] = fields
  const utc = Date.UTC(year, month - 1, day, hour, minute, second, Number((frac + '000').slice(0, 3)))
  const probe = new Date(utc)
  // A real calendar date: Date.UTC silently rolls 2026-02-30 over into March.
  if (probe.getUTCFullYear() !== year || probe.getUTCMonth() !== month - 1 || probe.getUTCDate() !== day || hour > 23 || minute > 59 || second > 59) throw bad()
  let offsetMinutes = 0
  if (zone !== 'Z') {
    const digits = zone.slice(1).replace(':', '')
    const oh = Number(digits.slice(0, 2))
    const om = digits.length > 2 ? Number(digits.slice(2)) : 0
    if (oh > 23 || om > 59) throw bad()
    offsetMinutes = (zone[0] === '-' ? -1 : 1) * (oh * 60 + om)
  }
  return new Date(utc - offsetMinutes * 60_000)
}

/** Expiries stay within four-digit years, which every client and the database read alike. */
const LATEST_EXPIRY = Date.UTC(9999, 11, 31)

/**
 * `now` plus `count` units of `unitMs`, for the positive-count expiry parameters (add_context's days,
 * suppress_alert's minutes); `tooLate` is the message when that passes the year 9999.
 */
export function expiryAfter(name: string, count: number, given: unknown, unitMs: number, now: Date, tooLate: string): Date {
  if (count < 1) throw invalidParameter(name, given, `${name} must be at least 1 (got ${count})`)
  const expires = new Date(now.getTime() + count * unitMs)
  if (!(expires.getTime() <= LATEST_EXPIRY)) throw invalidParameter(name, given, tooLate)
  return expires
}

// ---------------------------------------------------------------------------------------------------------
// Pagination (§2.6)

/**
 * The largest page any paged tool answers (security audit M1). Above it the call is refused, not silently
 * cut, so a client that asked for more knows to page.
 */
export const MAX_PAGE_LIMIT = 500

export function checkPagination(limit: number | undefined, offset: number | undefined, defaultLimit = 100): { limit: number; offset: number } {
  const l = limit ?? defaultLimit
  const o = offset ?? 0
  if (l < 0) throw invalidParameter('limit', limit, 'limit must be non-negative')
  if (l > MAX_PAGE_LIMIT) throw invalidParameter('limit', limit, `limit may be at most ${MAX_PAGE_LIMIT}; page with offset for more`)
  if (o < 0) throw invalidParameter('offset', offset, 'offset must be non-negative')
  return { limit: l, offset: o }
}

/**
 * One page from `limit + 1` fetched rows. A page the byte budget cut short (`cut`) reports the number of
 * entries it holds as its limit, so `offset + limit` is still where the next page starts.
 */
export function page<T>(rows: T[], limit: number, offset: number, cut = false): { entries: T[]; limit: number; offset: number; has_more: boolean } {
  const entries = rows.slice(0, limit)
  if (cut) return { entries, limit: entries.length, offset, has_more: true }
  return { entries, limit, offset, has_more: rows.length > limit }
}
