/**
 * How ajv's raw errors become the record errors of mcp-surface.md §4.4.3: combinators stand for their
 * branches, every error gets a JSONPath into the content, the failing keyword and its JSON pointer in the
 * schema document, and a message in our own words.
 */
import type { Ajv2020, ErrorObject, ValidateFunction } from 'ajv/dist/2020.js'

export interface RecordValidationError {
  /** JSONPath-style location in the content: `$`, `$.name`, `$.items[0]`, `$['key with spaces']`. */
  path: string
  message: string
  /** The failing keyword. */
  validator: string
  /** JSON pointer to the failing keyword in the schema document, e.g. `/properties/age/type`. */
  schema_path: string
}

/** The key the root schema is added under in its private Ajv instance. */
export const ROOT_KEY = 'urn:awareness:record-schema'

/** One schema compiled in its own Ajv instance, so `$id`s of different schemas never meet. */
export interface CompiledSchema {
  ajv: Ajv2020
  validate: ValidateFunction
  /** JSON pointer of every object in the compiled copy, built on the first failure. */
  pointers?: Map<object, string>
  branches: Map<object, ValidateFunction | null>
}

export function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
}

/** The record errors of a failed validation, in code-point order of their paths. */
export function recordErrors(compiled: CompiledSchema, raw: readonly ErrorObject[], content: unknown): RecordValidationError[] {
  const errors: RecordValidationError[] = []
  const extras = new Map<string, { error: RecordValidationError; names: string[] }>()
  for (const e of topLevelErrors(compiled, raw)) {
    const path = toJsonPath(content, e.instancePath)
    const error = { path, message: describe(e), validator: keywordOf(e), schema_path: schemaLocation(compiled, e) }
    const name = extraPropertyName(e)
    if (name === undefined) {
      errors.push(error)
      continue
    }
    // One error per keyword and location, naming every offending property.
    const group = extras.get(`${path}\u0000${error.schema_path}`)
    if (group) group.names.push(name)
    else {
      extras.set(`${path}\u0000${error.schema_path}`, { error, names: [name] })
      errors.push(error)
    }
  }
  for (const { error, names } of extras.values()) {
    if (names.length > 1) error.message = `properties ${names.map((n) => show(n)).join(', ')} are not allowed`
  }
  return errors.sort((a, b) => compareCodePoints(a.path, b.path)) // Array.prototype.sort is stable
}


/**
 * Ajv lists errors in post-order: a failing anyOf/oneOf/contains comes right after the errors of its
 * branches. Those are dropped (the combinator stands for them); the block's length is found by
 * re-running each branch on the same data. `if` and `propertyNames` only wrap their inner errors,
 * which are the real failures, so the wrappers go.
 */
function topLevelErrors(compiled: CompiledSchema, raw: readonly ErrorObject[]): ErrorObject[] {
  const drop = new Array<boolean>(raw.length).fill(false)
  raw.forEach((e, i) => {
    if (e.keyword === 'if' || e.keyword === 'propertyNames') drop[i] = true
    if (e.keyword !== 'anyOf' && e.keyword !== 'oneOf' && e.keyword !== 'contains') return
    let inner = branchErrorCount(compiled, e)
    const within = (x: ErrorObject): boolean =>
      x.instancePath === e.instancePath || x.instancePath.startsWith(`${e.instancePath}/`)
    if (inner === undefined || inner > i || !raw.slice(i - inner, i).every(within)) {
      // Fallback: the contiguous run of errors located inside the combinator.
      inner = 0
      const prefix = `${e.schemaPath}/`
      while (inner < i && raw[i - inner - 1].schemaPath.startsWith(prefix)) inner++
    }
    for (let j = Math.max(0, i - inner); j < i; j++) drop[j] = true
  })
  return raw.filter((_, i) => !drop[i])
}

function branchErrorCount(compiled: CompiledSchema, e: ErrorObject): number | undefined {
  if (e.keyword === 'contains') {
    if (!Array.isArray(e.data)) return undefined
    const parent = e.parentSchema ?? {}
    const min = typeof parent.minContains === 'number' ? parent.minContains : 1
    const max = typeof parent.maxContains === 'number' ? parent.maxContains : undefined
    if (max !== undefined && min > max) return 0 // ajv fails without evaluating any item
    let count = 0
    let errors = 0
    for (const item of e.data) {
      const n = errorCountOn(compiled, e.schema, item)
      if (n === undefined) return undefined
      if (n > 0) errors += n
      else if (++count > (max ?? Infinity) || (max === undefined && count >= min)) break
    }
    return errors
  }
  if (!Array.isArray(e.schema)) return undefined
  let errors = 0
  let passing = 0
  for (const branch of e.schema) {
    const n = errorCountOn(compiled, branch, e.data)
    if (n === undefined) return undefined
    errors += n
    // A failing anyOf evaluated every branch; oneOf stops at its second passing branch.
    if (n === 0 && ++passing === 2) break
  }
  return errors
}

function errorCountOn(compiled: CompiledSchema, subschema: unknown, data: unknown): number | undefined {
  if (subschema === true) return 0
  if (subschema === false) return 1
  if (!isPlainObject(subschema)) return undefined
  let validate = compiled.branches.get(subschema)
  if (validate === undefined) {
    const pointer = pointersOf(compiled).get(subschema)
    validate = null
    if (pointer !== undefined) {
      const fragment = pointer.split('/').map(encodeURIComponent).join('/')
      try {
        validate = compiled.ajv.getSchema(`${ROOT_KEY}#${fragment}`) ?? null
      } catch {
        validate = null
      }
    }
    compiled.branches.set(subschema, validate)
  }
  if (!validate) return undefined
  return validate(data) ? 0 : (validate.errors?.length ?? 0)
}

function pointersOf(compiled: CompiledSchema): Map<object, string> {
  if (compiled.pointers) return compiled.pointers
  const pointers = new Map<object, string>()
  const walk = (node: unknown, pointer: string): void => {
    if (typeof node !== 'object' || node === null || pointers.has(node)) return
    pointers.set(node, pointer)
    for (const [key, child] of Object.entries(node)) walk(child, `${pointer}/${escapePointer(key)}`)
  }
  walk(compiled.validate.schema, '')
  compiled.pointers = pointers
  return pointers
}

function escapePointer(segment: string): string {
  return segment.replace(/~/g, '~0').replace(/\//g, '~1')
}

function unescapePointer(segment: string): string {
  return segment.replace(/~1/g, '/').replace(/~0/g, '~')
}

/**
 * Where the failing keyword sits in the schema document. Ajv's own schemaPath is relative to the
 * referenced subschema when a `$ref` is compiled as a separate function, so the location comes
 * from the identity of the keyword's parent object in the compiled copy.
 */
function schemaLocation(compiled: CompiledSchema, e: ErrorObject): string {
  if (e.keyword !== 'false schema' && e.parentSchema) {
    const pointer = pointersOf(compiled).get(e.parentSchema)
    if (pointer !== undefined) return `${pointer}/${escapePointer(e.keyword)}`
  }
  let path = e.schemaPath.replace(/\/false schema$/, '')
  const hash = path.indexOf('#')
  if (hash >= 0) path = path.slice(hash + 1)
  return path.startsWith('/') ? path : `/${path}`
}

const SUBSCHEMA_MAPS = new Set(['properties', 'patternProperties', 'dependentSchemas', 'prefixItems', 'allOf'])

/** The failing keyword; a `false` subschema is blamed on the keyword that holds it. */
function keywordOf(e: ErrorObject): string {
  if (e.keyword !== 'false schema') return e.keyword
  const segments = e.schemaPath.split('/').slice(0, -1).map(unescapePointer)
  const last = segments[segments.length - 1] ?? ''
  const previous = segments[segments.length - 2] ?? ''
  if (SUBSCHEMA_MAPS.has(previous)) return previous
  if (previous === '$defs' || previous === 'definitions') return '$ref'
  return /^[a-zA-Z$]+$/.test(last) ? last : 'false schema'
}

function extraPropertyName(e: ErrorObject): string | undefined {
  const name: unknown = e.keyword === 'additionalProperties' ? e.params.additionalProperty : e.params.unevaluatedProperty
  return typeof name === 'string' && e.keyword.endsWith('Properties') ? name : undefined
}

const IDENTIFIER = /^[A-Za-z_][A-Za-z0-9_]*$/
const ARRAY_INDEX = /^(?:0|[1-9][0-9]*)$/

/** JSON pointer → `$.a.b[0]['key with spaces']`; the content decides whether a segment is an index. */
function toJsonPath(content: unknown, pointer: string): string {
  if (pointer === '') return '$'
  let path = '$'
  let node: unknown = content
  for (const segment of pointer.slice(1).split('/').map(unescapePointer)) {
    if (Array.isArray(node) && ARRAY_INDEX.test(segment)) {
      path += `[${segment}]`
      node = node[Number(segment)]
    } else {
      path += IDENTIFIER.test(segment) ? `.${segment}` : `['${segment.replace(/\\/g, '\\\\').replace(/'/g, "\\'")}']`
      node = isPlainObject(node) ? node[segment] : undefined
    }
  }
  return path
}

/** Code-point order (plain `<` compares UTF-16 units, which misplaces astral characters). */
function compareCodePoints(a: string, b: string): number {
  for (let i = 0; i < a.length && i < b.length; i++) {
    const x = a.codePointAt(i) ?? 0
    const y = b.codePointAt(i) ?? 0
    if (x !== y) return x - y
    if (x > 0xffff) i++
  }
  return a.length - b.length
}

// ---------------------------------------------------------------------------------------------
// Messages (shared by record errors and the meta-schema check)

export function jsonType(value: unknown): string {
  if (value === null) return 'null'
  if (Array.isArray(value)) return 'array'
  if (typeof value === 'number') return Number.isInteger(value) ? 'integer' : 'number'
  return typeof value
}

function show(value: unknown): string {
  let text: string
  try {
    text = JSON.stringify(value) ?? String(value)
  } catch {
    text = String(value)
  }
  return text.length > 80 ? `${text.slice(0, 77)}...` : text
}

function list(values: unknown, max = 10): string {
  const items = Array.isArray(values) ? values : [values]
  const shown = items.slice(0, max).map(show).join(', ')
  return items.length > max ? `${shown}, … (${items.length} in all)` : shown
}

const COMPARISON: Record<string, string> = { '>=': 'at least', '>': 'greater than', '<=': 'at most', '<': 'less than' }

type Params = Record<string, unknown>
type Describe = (value: string, p: Params, e: ErrorObject) => string

function containsCount(p: Params): string {
  if (p.maxContains === undefined) return `at least ${show(p.minContains ?? 1)}`
  if (p.minContains === 0) return `at most ${show(p.maxContains)}`
  return `between ${show(p.minContains)} and ${show(p.maxContains)}`
}

const limit: Describe = (v, p) => `${v} must be ${COMPARISON[String(p.comparison)] ?? String(p.comparison)} ${show(p.limit)}`
const MESSAGES: Record<string, Describe> = {
  type: (v, p, e) => `expected ${Array.isArray(p.type) ? p.type.join(' or ') : String(p.type)}, got ${jsonType(e.data)} ${v}`,
  required: (_, p) => `missing required property ${show(p.missingProperty)}`,
  dependentRequired: (_, p) => `property ${show(p.missingProperty)} is required when ${show(p.property)} is present`,
  enum: (v, p) => `${v} is not one of ${list(p.allowedValues)}`,
  const: (v, p) => `${v} is not the required value ${show(p.allowedValue)}`,
  minimum: limit,
  maximum: limit,
  exclusiveMinimum: limit,
  exclusiveMaximum: limit,
  multipleOf: (v, p) => `${v} is not a multiple of ${show(p.multipleOf)}`,
  minLength: (v, p) => `${v} is shorter than ${show(p.limit)} characters`,
  maxLength: (v, p) => `${v} is longer than ${show(p.limit)} characters`,
  pattern: (v, p) => `${v} does not match the pattern ${show(p.pattern)}`,
  format: (v, p) =>
    p.format === 'regex' ? `${v} is not a valid regular expression` : `${v} is not in the ${String(p.format)} format`,
  minItems: (_, p) => `the array must have at least ${show(p.limit)} items`,
  maxItems: (_, p) => `the array must have at most ${show(p.limit)} items`,
  items: (_, p) => `the array must have at most ${show(p.limit)} items`,
  unevaluatedItems: (_, p) => `the array must have at most ${show(p.len)} items`,
  uniqueItems: (_, p) => `items ${Math.min(Number(p.i), Number(p.j))} and ${Math.max(Number(p.i), Number(p.j))} are equal; items must be unique`,
  minProperties: (_, p) => `the object must have at least ${show(p.limit)} properties`,
  maxProperties: (_, p) => `the object must have at most ${show(p.limit)} properties`,
  contains: (_, p) => `the array must have ${containsCount(p)} items matching the contains schema`,
  anyOf: (v) => `${v} does not match any of the allowed schemas (anyOf)`,
  oneOf: (v, p) =>
    Array.isArray(p.passingSchemas)
      ? `${v} matches more than one schema in oneOf (indexes ${p.passingSchemas.join(', ')})`
      : `${v} does not match any schema in oneOf`,
  not: (v) => `${v} matches the schema under not`,
  'false schema': (v) => `${v} is not allowed here`,
  additionalProperties: (_, p) => `property ${show(p.additionalProperty)} is not allowed`,
  unevaluatedProperties: (_, p) => `property ${show(p.unevaluatedProperty)} is not allowed`,
}

/** Our own wording for one ajv error; inside propertyNames the value is the property's name. */
export function describe(e: ErrorObject): string {
  const value = e.propertyName !== undefined ? `property name ${show(e.propertyName)}` : show(e.data)
  return Object.hasOwn(MESSAGES, e.keyword)
    ? MESSAGES[e.keyword](value, e.params as Params, e)
    : `${value} fails ${e.keyword}${e.message ? `: ${e.message}` : ''}`
}
