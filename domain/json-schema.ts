/**
 * JSON Schema Draft 2020-12 for schema entries and records (mcp-surface.md §4.4): meta-validation of a
 * schema body, record validation in the §4.4.3 error format, content normalisation [D10] and the
 * logical-key split. No store, no I/O beyond loading ajv's bundled meta-schemas once; the only state
 * is the validator cache.
 */
import { createHash } from 'node:crypto'
import { createRequire } from 'node:module'
import { Ajv2020 } from 'ajv/dist/2020.js'
import type { AnySchema, ErrorObject, ValidateFunction } from 'ajv/dist/2020.js'
import ajvFormats from 'ajv-formats'
import { ToolError } from '../core/errors.js'
import { linearRegExp } from './linear-regexp.js'
import { ROOT_KEY, describe, isPlainObject, jsonType, recordErrors, type CompiledSchema, type RecordValidationError } from './schema-errors.js'

export type { RecordValidationError } from './schema-errors.js'

export type SchemaCheckResult = { ok: true } | { ok: false; message: string; path: string }

export type RecordValidationResult =
  | { ok: true }
  | { ok: false; errors: RecordValidationError[]; total: number; truncated: boolean }

export const MAX_LISTED_ERRORS = 50
/**
 * Size limits of a schema body and of one record's content, as UTF-8 JSON (security audit H1). A schema's
 * compile cost grows with its size: 750 properties (29 KB) compile in 0.42 s, 1,500 (59 KB) in 0.66 s,
 * 20,000 (0.8 MB) in seconds. 32 KiB holds about 800 properties. Content is data for one record; 256 KiB
 * leaves room for long texts.
 */
export const MAX_SCHEMA_BYTES = 32 * 1024
export const MAX_RECORD_CONTENT_BYTES = 256 * 1024

/** The UTF-8 size of a value's JSON text. */
export const jsonBytes = (value: unknown): number => Buffer.byteLength(JSON.stringify(value) ?? '', 'utf8')
const CACHE_SIZE = 500
const META_ID = 'https://json-schema.org/draft/2020-12/schema'
const META_PARTS = ['core', 'applicator', 'unevaluated', 'validation', 'meta-data', 'format-annotation', 'content']

// ---------------------------------------------------------------------------------------------
// Meta-validation

let metaValidator: ValidateFunction | undefined

/**
 * Ajv never asserts `format` while checking a schema against its meta-schemas (it forces
 * validateFormats off for them), so the 2020-12 meta-schemas are loaded as ordinary schemas into a
 * private instance. Only `regex` is asserted (a `pattern` that cannot compile is refused at
 * registration, as the reference does); URI formats stay lenient, since ajv resolves what they reject.
 */
function getMetaValidator(): ValidateFunction {
  if (metaValidator) return metaValidator
  const require = createRequire(import.meta.url)
  const ajv = new Ajv2020({ strict: false, allErrors: true, verbose: true, meta: false, validateSchema: false, logger: false })
  ajvFormats.default(ajv, ['regex'])
  ajv.addSchema(require('ajv/dist/refs/json-schema-2020-12/schema.json') as AnySchema)
  for (const part of META_PARTS) {
    ajv.addSchema(require(`ajv/dist/refs/json-schema-2020-12/meta/${part}.json`) as AnySchema)
  }
  const validate = ajv.getSchema(META_ID)
  if (!validate) throw new Error('JSON Schema 2020-12 meta-schema did not compile')
  metaValidator = validate
  return validate
}


/** Meta-validates a schema body against Draft 2020-12. `path` is a JSON pointer into the schema. */
export function checkSchema(schema: unknown): SchemaCheckResult {
  if (!isPlainObject(schema)) {
    return { ok: false, message: `the schema must be a JSON object, not ${jsonType(schema)}`, path: '' }
  }
  const validate = getMetaValidator()
  if (validate(schema)) return { ok: true }
  const chosen = pickMetaError(validate.errors ?? [])
  if (!chosen) return { ok: false, message: 'the schema is not valid', path: '' }
  const path = chosen.instancePath
  return { ok: false, message: `${describe(chosen)} (at ${path === '' ? 'the root' : path})`, path }
}

/**
 * The most specific meta-schema failure: the deepest location, and there a value-level complaint
 * (enum, pattern, …) over a shape complaint (type) over a combinator's summary (anyOf).
 */
function pickMetaError(errors: readonly ErrorObject[]): ErrorObject | undefined {
  const depth = (e: ErrorObject): number => (e.instancePath === '' ? 0 : e.instancePath.split('/').length)
  const rank = (e: ErrorObject): number => (['anyOf', 'oneOf', 'if'].includes(e.keyword) ? 2 : e.keyword === 'type' ? 1 : 0)
  let best: ErrorObject | undefined
  for (const e of errors) {
    if (!best || depth(e) > depth(best) || (depth(e) === depth(best) && rank(e) < rank(best))) best = e
  }
  return best
}

// ---------------------------------------------------------------------------------------------
// Compiled validators: one Ajv instance per schema, so `$id`s of different schemas never meet
// (no cross-schema resolution, no "schema already exists" clashes). About 0.5 ms per compile.


type CacheEntry = { compiled: CompiledSchema } | { failure: string }

const cache = new Map<string, CacheEntry>()

function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map((v) => (v === undefined ? 'null' : canonicalJson(v))).join(',')}]`
  if (isPlainObject(value)) {
    const parts: string[] = []
    for (const key of Object.keys(value).sort()) {
      if (value[key] !== undefined) parts.push(`${JSON.stringify(key)}:${canonicalJson(value[key])}`)
    }
    return `{${parts.join(',')}}`
  }
  return JSON.stringify(value) ?? 'null'
}

function getCompiled(schema: object, id?: string): CompiledSchema {
  // A schema entry's id names one immutable body: no need to canonicalise and hash it on every record.
  let canonical = id === undefined ? canonicalJson(schema) : undefined
  const key = id === undefined ? `sha256:${createHash('sha256').update(canonical as string).digest('base64url')}` : `id:${id}`
  let entry = cache.get(key)
  if (entry) {
    cache.delete(key) // re-insert: Map order is the LRU order
  } else {
    canonical ??= canonicalJson(schema)
    entry = compile(JSON.parse(canonical) as Record<string, unknown>)
    if (cache.size >= CACHE_SIZE) cache.delete(cache.keys().next().value as string)
  }
  cache.set(key, entry)
  if ('failure' in entry) throw new ToolError('validation_error', entry.failure)
  return entry.compiled
}

/**
 * Compiles a private, canonical copy (the cache must not share objects with callers, and equal
 * schemas must behave identically whatever their key order). Failures are cached too: schemas are
 * immutable, so a schema that cannot be compiled never will be.
 */
function compile(copy: Record<string, unknown>): CacheEntry {
  const meta = checkSchema(copy)
  if (!meta.ok) return { failure: `The schema cannot be used for validation: ${meta.message}` }
  try {
    const ajv = new Ajv2020({
      strict: false,
      allErrors: true,
      verbose: true,
      validateFormats: false,
      validateSchema: false,
      logger: false,
      meta: false, // `$ref` resolves inside the document only (§4.4.1), not even to the meta-schemas
      code: { regExp: linearRegExp },
    })
    ajv.addSchema(copy, ROOT_KEY)
    const validate = ajv.getSchema(ROOT_KEY)
    if (!validate) throw new Error('the schema did not compile')
    return { compiled: { ajv, validate, branches: new Map() } }
  } catch (err) {
    const detail = (err instanceof Error ? err.message : String(err)).replace(` from id ${ROOT_KEY}`, '')
    return { failure: `The schema cannot be used for validation: ${detail}` }
  }
}


// ---------------------------------------------------------------------------------------------
// Record validation

/**
 * Validates record content (§4.4.3). `key` names the schema for the validator cache (a schema entry's id:
 * schemas are immutable); without one the schema's canonical JSON is hashed. Throws a ToolError
 * `validation_error` when the schema cannot be compiled (e.g. an unresolvable `$ref`) or the validator
 * itself fails.
 */
export function validateRecord(schema: object, content: unknown, key?: string): RecordValidationResult {
  const compiled = getCompiled(schema, key)
  let raw: readonly ErrorObject[]
  try {
    if (compiled.validate(content)) return { ok: true }
    raw = compiled.validate.errors ?? []
  } catch (err) {
    throw new ToolError('validation_error', `The validator failed: ${err instanceof Error ? err.message : String(err)}`)
  }
  const errors = recordErrors(compiled, raw, content)
  const total = errors.length
  const truncated = total > MAX_LISTED_ERRORS
  return { ok: false, errors: truncated ? errors.slice(0, MAX_LISTED_ERRORS) : errors, total, truncated }
}

// ---------------------------------------------------------------------------------------------
// Content and keys

/** D10: a string holding a JSON object or array becomes that value; every other value is kept. */
export function normalizeRecordContent(content: unknown): unknown {
  if (typeof content !== 'string') return content
  const first = content.trimStart()[0]
  if (first !== '{' && first !== '[') return content
  try {
    const parsed: unknown = JSON.parse(content)
    return typeof parsed === 'object' && parsed !== null ? parsed : content
  } catch {
    return content
  }
}

/** Splits a schema's logical key `family:version` at its last `:`. */
export function splitSchemaKey(logicalKey: string): { family: string; version: string } | null {
  const at = logicalKey.lastIndexOf(':')
  if (at <= 0 || at === logicalKey.length - 1) return null
  return { family: logicalKey.slice(0, at), version: logicalKey.slice(at + 1) }
}
