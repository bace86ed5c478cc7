/**
 * Typed records: register_schema and create_record (mcp-surface.md §3.26, §3.27, §4.4), plus the schema
 * resolution and content validation that update_entry shares.
 */
import type { Tx } from '../../store/index.js'
import { MAX_KEY_BYTES, insertOrLockByKey, keyBytes, writeEntry } from '../../store/queries/entries.js'
import { SYSTEM_OWNER, findOwnSchema, findSchema, lockSchemaKey } from '../../store/queries/records.js'
import type { Entry } from '../../store/rows.js'
import { ToolError, invalidParameter } from '../../core/errors.js'
import { MAX_RECORD_CONTENT_BYTES, MAX_SCHEMA_BYTES, checkSchema, jsonBytes, normalizeRecordContent, type RecordValidationResult } from '../../domain/json-schema.js'
import type { ToolContext } from '../context.js'
import { param, params, type Param } from '../params.js'
import { applyChanges } from '../../domain/changes.js'
import { defineTool } from './define.js'
import { resolveWriteLanguage } from './write-language.js'
import { checkKeyLength } from './writes.js'

/** Record content: any JSON value, `null` included, but present (a missing argument is a schema-level failure). */
const recordContent = (description: string): Param<unknown> => param.anyValue(description)

/** Resolves `ref:version` for the caller (then `_system`), or fails with `schema_not_found`. */
export async function resolveRecordSchema(tx: Tx, owner: string, ref: unknown, version: unknown): Promise<Entry> {
  const schema = typeof ref === 'string' && typeof version === 'string' ? await findSchema(tx, owner, `${ref}:${version}`) : undefined
  if (schema === undefined) {
    throw new ToolError('schema_not_found', `Schema not found: ${String(ref)}:${String(version)} (looked in your schemas and the shared _system schemas)`, {
      schema_ref: ref,
      schema_version: version,
      searched_owners: [owner, SYSTEM_OWNER],
    })
  }
  return schema
}

/** Refuses content over the size limit before any schema work. */
export function checkContentSize(content: unknown): void {
  const bytes = jsonBytes(content)
  if (bytes > MAX_RECORD_CONTENT_BYTES) {
    throw invalidParameter('content', `(${bytes} bytes)`, `Record content may have at most ${MAX_RECORD_CONTENT_BYTES / 1024} KiB as JSON; this has ${Math.ceil(bytes / 1024)} KiB.`)
  }
}

/** A verdict reached before the write transaction, and the schema entry it was reached against. */
export interface Prechecked {
  readonly schemaId: string
  readonly verdict?: RecordValidationResult
  readonly error?: unknown
}

const bodyOf = (schema: Entry): object => (typeof schema.data.schema === 'object' && schema.data.schema !== null ? schema.data.schema : {})

/**
 * Validates outside any transaction: the worker may take up to its time limit, and no database connection
 * (on the embedded database: the only one) is held meanwhile. A failure is kept, not thrown, so the write
 * transaction still reports its own errors (schema not found, key held by another type, pin) first.
 */
export async function precheckContent(ctx: ToolContext, schema: Entry | undefined, content: unknown): Promise<Prechecked | undefined> {
  if (schema === undefined) return undefined
  try {
    return { schemaId: schema.id, verdict: await ctx.schemas.validate(schema.id, bodyOf(schema), content) }
  } catch (error) {
    return { schemaId: schema.id, error }
  }
}

/**
 * Validates record content against a resolved schema entry; `validation_failed` lists the errors (§4.4.3).
 * Uses the precheck when it was made against this very schema entry (immutable), else validates now.
 */
export async function checkRecordContent(ctx: ToolContext, schema: Entry, ref: string, version: string, content: unknown, pre?: Prechecked): Promise<void> {
  if (pre?.schemaId === schema.id && pre.error !== undefined) throw pre.error
  const verdict = pre?.schemaId === schema.id && pre.verdict !== undefined ? pre.verdict : await ctx.schemas.validate(schema.id, bodyOf(schema), content)
  if (verdict.ok) return
  const fields: Record<string, unknown> = { schema_ref: ref, schema_version: version, validation_errors: verdict.errors }
  if (verdict.truncated) {
    fields.truncated = true
    fields.total_errors = verdict.total
  }
  // The count's wording is fixed by §3.27 ("(<n> errors)"), singular included.
  throw new ToolError('validation_failed', `Record content does not conform to schema ${ref}:${version} (${verdict.total} errors)`, fields)
}

export const registerSchema = defineTool({
  name: 'register_schema',
  title: 'Register a record schema',
  description:
    'Register an immutable JSON Schema (Draft 2020-12) that records can be validated against, identified by family and version ' +
    '(the entry\'s logical_key is "<family>:<version>"). A family:version can be registered once; to evolve a schema register a new version, ' +
    'move the records, then delete the old version. format is an annotation only and $ref resolves within the document.',
  input: params({
    source: param.string('Subject the schema belongs to.', true),
    tags: param.tags('Tags for retrieval (an empty array is allowed).', true),
    description: param.string('What records of this schema hold.', true),
    family: param.string('Schema family, conventionally "schema:<name>"; records refer to it as schema_ref.', true),
    version: param.string('Version label, e.g. "1.0"; records pin it exactly as schema_version.', true),
    schema: param.object('The JSON Schema 2020-12 document (an object).', true),
    learned_from: param.string('Platform that registered it (default "conversation").'),
    language: param.string('ISO 639-1 code of the description (e.g. "en"); detected when omitted.'),
  }),
  annotations: { readOnlyHint: false, destructiveHint: false, idempotentHint: false },
  run: async (ctx, a) => {
    if (a.family === '') throw invalidParameter('family', a.family, 'family must not be empty (conventionally "schema:<name>")')
    if (a.version === '') throw invalidParameter('version', a.version, 'version must not be empty (e.g. "1.0")')
    const schemaBytes = jsonBytes(a.schema)
    if (schemaBytes > MAX_SCHEMA_BYTES) {
      throw invalidParameter('schema', `(${schemaBytes} bytes)`, `A schema may have at most ${MAX_SCHEMA_BYTES / 1024} KiB as JSON; this one has ${Math.ceil(schemaBytes / 1024)} KiB. Split it, or move repeated parts into $defs.`)
    }
    const check = checkSchema(a.schema)
    if (!check.ok) throw new ToolError('invalid_schema', `Schema does not conform to JSON Schema Draft 2020-12: ${check.message}`)
    const logicalKey = `${a.family}:${a.version}`
    checkKeyLength('source', a.source)
    if (keyBytes(logicalKey) > MAX_KEY_BYTES) {
      const [name, value] = a.family.length >= a.version.length ? ['family', a.family] : ['version', a.version]
      throw invalidParameter(name, value, `family and version are too long: "<family>:<version>" may have at most ${MAX_KEY_BYTES} bytes (UTF-8)`)
    }
    const data = { family: a.family, version: a.version, schema: a.schema, description: a.description, learned_from: a.learned_from ?? 'conversation' }
    const entry = await ctx.store.withOwner(ctx.owner, async (tx) => {
      // D8: one live schema per (owner, family:version) across sources; the check runs under the key's lock.
      await lockSchemaKey(tx, ctx.owner, logicalKey)
      const existing = await findOwnSchema(tx, ctx.owner, logicalKey)
      if (existing !== undefined) throw alreadyExists(logicalKey, existing.id)
      const language = await resolveWriteLanguage(ctx, tx, 'schema', data, a.language)
      const { entry: held, created } = await insertOrLockByKey(tx, ctx.owner, { type: 'schema', source: a.source, tags: a.tags, data, language, logicalKey })
      if (created) return held
      if (held.type === 'schema') throw alreadyExists(logicalKey, held.id)
      throw invalidParameter('family', a.family, `The key '${logicalKey}' in source '${a.source}' is already used by a ${held.type} entry; choose another family or version.`, {
        logical_key: logicalKey,
        existing_type: held.type,
        existing_id: held.id,
      })
    })
    ctx.embed.schedule(ctx.owner, entry.id)
    return { status: 'ok', id: entry.id, logical_key: logicalKey }
  },
})

function alreadyExists(logicalKey: string, existingId: string): ToolError {
  return new ToolError('schema_already_exists', `Schema ${logicalKey} is already registered; schemas are immutable, register a new version instead.`, {
    logical_key: logicalKey,
    existing_id: existingId,
  })
}

export const createRecord = defineTool({
  name: 'create_record',
  title: 'Create or update a record',
  description:
    'Write a data record validated against a registered schema version (schema_ref = the schema family, schema_version = its exact version; ' +
    'your own schemas first, then the shared _system ones). logical_key identifies the record within source: calling again with the same key ' +
    'updates it in place (same id, changelog kept) — but a record stays pinned to its schema version. ' +
    'Invalid content is refused with every validation error listed (path, message, validator, schema_path).',
  input: params({
    source: param.string('Subject the record belongs to.', true),
    tags: param.tags('Tags for retrieval (an empty array is allowed).', true),
    description: param.string('Short summary of the record.', true),
    logical_key: param.string('Upsert key within source (non-empty).', true),
    schema_ref: param.string('Schema family, e.g. "schema:person".', true),
    schema_version: param.string('Exact schema version, e.g. "1.0".', true),
    content: recordContent('The record: any JSON value. A string holding a JSON object or array is parsed; other strings stay strings.'),
    learned_from: param.string('Platform that wrote it (default "conversation").'),
    language: param.string('ISO 639-1 code of the description (e.g. "en"); detected when omitted.'),
  }),
  annotations: { readOnlyHint: false, destructiveHint: false, idempotentHint: false },
  run: async (ctx, a) => {
    if (a.logical_key === '') throw invalidParameter('logical_key', a.logical_key, 'logical_key must not be empty: it identifies the record within its source') // D21
    checkKeyLength('source', a.source)
    checkKeyLength('logical_key', a.logical_key)
    const content = normalizeRecordContent(a.content) // D10
    checkContentSize(content)
    const found = await ctx.store.withOwner(ctx.owner, (tx) => findSchema(tx, ctx.owner, `${a.schema_ref}:${a.schema_version}`))
    const pre = await precheckContent(ctx, found, content)
    const result = await ctx.store.withOwner(ctx.owner, async (tx) => {
      const schema = await resolveRecordSchema(tx, ctx.owner, a.schema_ref, a.schema_version)
      const data = { schema_ref: a.schema_ref, schema_version: a.schema_version, content, description: a.description, learned_from: a.learned_from ?? 'conversation' }
      const language = await resolveWriteLanguage(ctx, tx, 'record', data, a.language)
      // Shares remember's upsert path: insert, or lock the live holder of (source, logical_key). Every
      // failure below rolls the transaction back, the insert included.
      const { entry, created } = await insertOrLockByKey(tx, ctx.owner, { type: 'record', source: a.source, tags: a.tags, data, language, logicalKey: a.logical_key })
      if (!created) checkHolder(entry, a)
      await checkRecordContent(ctx, schema, a.schema_ref, a.schema_version, content, pre)
      if (created) return { entry, action: 'created' }
      // §2.15: content is replaced only when supplied non-null.
      const next = applyChanges(entry, { tags: a.tags, description: a.description, content: content === null ? undefined : content }, new Date())
      return { entry: next === undefined ? entry : await writeEntry(tx, ctx.owner, next), action: 'updated' }
    })
    ctx.embed.schedule(ctx.owner, result.entry.id)
    return { status: 'ok', id: result.entry.id, action: result.action }
  },
})

/** The live holder of the key must be a record (D7) pinned to the requested schema version (D6). */
function checkHolder(held: Entry, a: { logical_key: string; source: string; schema_ref: string; schema_version: string }): void {
  if (held.type !== 'record') {
    throw invalidParameter('logical_key', a.logical_key, `The logical_key '${a.logical_key}' in source '${a.source}' is already used by a ${held.type} entry; use another key.`, {
      existing_type: held.type,
      existing_id: held.id,
    })
  }
  const pinnedRef = held.data.schema_ref
  const pinnedVersion = held.data.schema_version
  if (pinnedRef === a.schema_ref && pinnedVersion === a.schema_version) return
  const param = pinnedRef !== a.schema_ref ? 'schema_ref' : 'schema_version'
  throw new ToolError(
    'record_schema_pin_immutable',
    `Record '${a.logical_key}' is pinned to schema ${String(pinnedRef)}:${String(pinnedVersion)}; a record's schema cannot change. Use another logical_key for the new schema version.`,
    { param, value: param === 'schema_ref' ? a.schema_ref : a.schema_version, pinned_schema_ref: pinnedRef, pinned_schema_version: pinnedVersion },
  )
}

export const RECORD_TOOLS = [registerSchema, createRecord]
