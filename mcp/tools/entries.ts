/**
 * Data management: update_entry, delete_entry, restore_entry, get_deleted (mcp-surface.md §3.28–§3.31).
 * Every read-modify-write locks its rows (FOR UPDATE) in the transaction that writes them, so concurrent
 * edits, deletes and restores serialise per entry and lose nothing.
 */
import { z } from 'zod'
import type { Tx } from '../../store/index.js'
import { findLiveByKey, getLiveEntryForUpdate, writeEntry } from '../../store/queries/entries.js'
import { countRecordsReferencing, findSchema, lockSchemaKey } from '../../store/queries/records.js'
import {
  TRASH_DAYS,
  countLive,
  findRestoreConflict,
  getDeleted,
  lockLive,
  lockTrashedById,
  lockTrashedByTags,
  restoreByIds,
  softDeleteById,
  softDeleteByIds,
  type BulkSelector,
  type MatchedEntry,
  type TrashedKey,
} from '../../store/queries/trash.js'
import { iso, serialise, type Entry } from '../../store/rows.js'
import { ToolError, invalidParameter, isUniqueViolation, notFound } from '../../core/errors.js'
import { normalizeRecordContent, splitSchemaKey } from '../../domain/json-schema.js'
import { parseLanguageFilter } from '../../domain/language.js'
import { ENTRY_TYPES, checkPagination, page, param, params, parseEntryType, parseTimestamp, type Param } from '../params.js'
import { applyChanges } from '../../domain/changes.js'
import { defineTool } from './define.js'
import type { ToolContext } from '../context.js'
import { checkContentSize, checkRecordContent, precheckContent, resolveRecordSchema, type Prechecked } from './records.js'
import { validRegconfig } from './write-language.js'
import { checkKeyLength } from './writes.js'

const KEY_INDEX = 'idx_entries_source_logical_key'

/** Optional content of any JSON type (records take any value); null means omitted (§2.3). */
function optionalAny(description: string): Param<unknown> {
  const base = param.anyValue(description)
  return { ...base, zod: z.preprocess((v) => (v === null ? undefined : v), base.zod.optional()), required: false }
}

const IMMUTABLE_TYPES = new Set(['status', 'alert', 'suppression'])
const UPDATABLE = 'description, tags, source, content, content_type, language'

/** One message for a missing id and an immutable type, so an id's existence is not told apart (§3.28). */
const notUpdatable = (id: string) =>
  notFound('entry_id', id, `Entry not found or immutable: '${id}'. It does not exist, is in the trash, or is a status, alert or suppression (those types are immutable).`)

/** The (family, version) a schema entry is referenced by: its own data, else its key split at the last ':'. */
function schemaRefOf(schema: Entry): { family: string; version: string } | null {
  const { family, version } = schema.data
  if (typeof family === 'string' && typeof version === 'string' && `${family}:${version}` === schema.logicalKey) return { family, version }
  return schema.logicalKey === null ? null : splitSchemaKey(schema.logicalKey)
}

/** Writes an edited entry; moving it onto a (source, logical_key) another live entry holds is D22. */
async function writeChecked(tx: Tx, owner: string, next: Entry): Promise<Entry> {
  try {
    return await tx.savepoint((sp) => writeEntry(sp, owner, next))
  } catch (err) {
    if (!isUniqueViolation(err, KEY_INDEX) || next.logicalKey === null) throw err
    const holder = await findLiveByKey(tx, owner, next.source, next.logicalKey, next.id)
    if (holder === undefined) throw err
    throw invalidParameter('source', next.source, `Another live entry in source '${next.source}' already uses this entry's logical_key; moving it there would duplicate the key.`, {
      logical_key: next.logicalKey,
      existing_id: holder.id,
    })
  }
}

export const updateEntry = defineTool({
  name: 'update_entry',
  title: 'Update an entry in place',
  description:
    'Edit an entry in place (same id and created time); each change records the previous values in data.changelog. ' +
    `Updatable: ${UPDATABLE}. Works on notes, patterns, contexts, preferences, intentions (not their state: use update_intention) and records ` +
    '(record content is re-validated against the pinned schema). Schemas are immutable (register a new version); statuses, alerts and ' +
    'suppressions cannot be edited. Answers the entry\'s updated time.',
  input: params({
    entry_id: param.string('Id of the entry to edit.', true),
    description: param.string('New description ("" allowed).'),
    tags: param.tags('New tags, replacing the old ones ([] allowed).'),
    source: param.string('New source.'),
    content: optionalAny('New content: text, or a JSON object/array (stored as JSON text); for records any JSON value, stored natively.'),
    content_type: param.string('New MIME type of the content.'),
    language: param.string('ISO 639-1 code (e.g. "en", "fr") or "simple" for the full-text language; "" means unchanged.'),
  }),
  annotations: { readOnlyHint: false, destructiveHint: false, idempotentHint: true },
  run: async (ctx, a) => {
    const languageArg = a.language === '' ? undefined : a.language
    const fields = [a.description, a.tags, a.source, a.content, a.content_type, languageArg]
    if (fields.every((f) => f === undefined)) throw invalidParameter('content', a.content, `No fields to update: give at least one of ${UPDATABLE}.`)
    let language: string | undefined
    if (languageArg !== undefined) {
      const parsed = parseLanguageFilter(languageArg)
      if (parsed === null) throw invalidParameter('language', a.language, `Unknown language code '${languageArg}'. Use an ISO 639-1 code (e.g. "en", "fr") or "simple".`) // D11
      language = parsed
    }
    checkKeyLength('source', a.source)
    const pre = a.content === undefined ? undefined : await precheckUpdate(ctx, a.entry_id, a.content)
    const entry = await ctx.store.withOwner(ctx.owner, async (tx) => {
      const current = await getLiveEntryForUpdate(tx, ctx.owner, a.entry_id)
      if (current === undefined) throw notUpdatable(a.entry_id)
      if (current.type === 'schema') throw new ToolError('schema_immutable', 'Schemas are immutable. Register a new version with register_schema, move the records to it, then delete this one.')
      if (IMMUTABLE_TYPES.has(current.type)) throw notUpdatable(a.entry_id)
      let content: unknown
      if (a.content !== undefined && current.type === 'record') {
        const ref = current.data.schema_ref
        const version = current.data.schema_version
        const schema = await resolveRecordSchema(tx, ctx.owner, ref, version)
        content = normalizeRecordContent(a.content) // D10
        await checkRecordContent(ctx, schema, String(ref), String(version), content, pre)
      } else if (a.content !== undefined) {
        content = typeof a.content === 'string' ? a.content : JSON.stringify(a.content)
      }
      // As on every write path: a configuration this database's catalog lacks falls back to 'simple'
      // instead of failing the generated tsv column.
      const valid = language === undefined ? undefined : await validRegconfig(ctx, tx, language)
      const next = applyChanges(current, { source: a.source, tags: a.tags, language: valid, description: a.description, content, content_type: a.content_type }, new Date()) // D5
      return next === undefined ? current : writeChecked(tx, ctx.owner, next)
    })
    ctx.embed.schedule(ctx.owner, entry.id)
    return { status: 'ok', id: entry.id, updated: iso(entry.updated) }
  },
})

/** New content of a record: size-checked, and validated before the write transaction (records.ts). */
async function precheckUpdate(ctx: ToolContext, entryId: string, raw: unknown): Promise<Prechecked | undefined> {
  const schema = await ctx.store.withOwner(ctx.owner, async (tx) => {
    const current = await getLiveEntryForUpdate(tx, ctx.owner, entryId)
    if (current?.type !== 'record') return undefined
    return findSchema(tx, ctx.owner, `${String(current.data.schema_ref)}:${String(current.data.schema_version)}`)
  })
  if (schema === undefined) return undefined
  const content = normalizeRecordContent(raw) // D10
  checkContentSize(content)
  return precheckContent(ctx, schema, content)
}

const ACK_NOTE = 'If an entry with this id was yours and live, it is now in the trash (recoverable with restore_entry); if there was none, nothing was done.'

/** D9: a confirmed bulk delete may not trash a schema that live records outside the deleted set still use. */
async function checkBulkSchemas(tx: Tx, owner: string, matched: MatchedEntry[]): Promise<void> {
  const schemas = matched.flatMap((m) => (m.type === 'schema' && m.logicalKey !== null ? [{ id: m.id, key: m.logicalKey }] : []))
  if (schemas.length === 0) return
  const ids = matched.map((m) => m.id)
  // The first blocking schema by logical key (code-point order), so the answer does not depend on row order.
  schemas.sort((x, y) => (x.key < y.key ? -1 : x.key > y.key ? 1 : 0))
  for (const s of schemas) {
    const entry = await getLiveEntryForUpdate(tx, owner, s.id)
    const ref = entry === undefined ? null : schemaRefOf(entry)
    if (ref === null) continue
    const { count, ids: referencing } = await countRecordsReferencing(tx, owner, ref, ids)
    if (count > 0) {
      throw new ToolError('schema_in_use', `Cannot delete schema ${s.key}: ${count} record(s) outside this deletion reference it. Delete or move those records first.`, {
        referencing_records: referencing,
        total_count: count,
        logical_key: s.key,
      })
    }
  }
}

export const deleteEntry = defineTool({
  name: 'delete_entry',
  title: 'Move entries to the trash',
  description:
    'Soft-delete entries: they move to the trash, recoverable for 30 days with restore_entry. Three modes, by precedence: ' +
    'entry_id (acts at once; the answer is the same whether or not such an entry existed), tags (every live entry carrying all the tags), ' +
    'source (every live entry of the source, optionally only one entry_type). Bulk modes are dry runs that only count unless confirm is true: ' +
    'show the count to the user before confirming. A schema that live records still use cannot be deleted.',
  input: params({
    entry_id: param.string('Id of one entry to trash.'),
    tags: param.tags('Trash every live entry carrying all of these tags.'),
    source: param.string('Trash every live entry of this source.'),
    entry_type: param.string(`With source only: just this type (${ENTRY_TYPES.join(', ')}).`),
    confirm: param.boolean('Bulk modes: true to actually trash (default false: dry run).'),
  }),
  annotations: { readOnlyHint: false, destructiveHint: true, idempotentHint: true },
  run: async (ctx, a) => {
    if (a.entry_id !== undefined && a.entry_id !== '') {
      const id = a.entry_id
      await ctx.store.withOwner(ctx.owner, async (tx) => {
        const entry = await getLiveEntryForUpdate(tx, ctx.owner, id)
        if (entry === undefined) return
        const ref = entry.type === 'schema' ? schemaRefOf(entry) : null
        if (ref !== null) {
          const { count, ids } = await countRecordsReferencing(tx, ctx.owner, ref)
          if (count > 0) {
            throw new ToolError('schema_in_use', `Cannot delete schema ${entry.logicalKey}: ${count} record(s) reference it. Delete or move those records first.`, {
              referencing_records: ids,
              total_count: count,
            })
          }
        }
        await softDeleteById(tx, ctx.owner, id)
      })
      return { status: 'acknowledged', entry_id: id, recoverable_days: TRASH_DAYS, note: ACK_NOTE }
    }
    let selector: BulkSelector
    let echo: Record<string, unknown>
    if (a.tags !== undefined && a.tags.length > 0) {
      selector = { tags: a.tags }
      echo = { tags: a.tags }
    } else if (a.source !== undefined && a.source !== '') {
      const type = parseEntryType('entry_type', a.entry_type)
      selector = { source: a.source, type }
      echo = { source: a.source, entry_type: type ?? null }
    } else {
      throw new ToolError('invalid_parameter', 'Provide entry_id, tags, or source to choose what to delete.')
    }
    if (a.confirm !== true) {
      const n = await ctx.store.withOwner(ctx.owner, (tx) => countLive(tx, ctx.owner, selector))
      const message = `Dry run: ${n} entr${n === 1 ? 'y' : 'ies'} would be moved to the trash. Show this count to the user, then call again with confirm=true to delete.`
      return { status: 'dry_run', would_trash: n, ...echo, message }
    }
    const trashed = await ctx.store.withOwner(ctx.owner, async (tx) => {
      const matched = await lockLive(tx, ctx.owner, selector)
      await checkBulkSchemas(tx, ctx.owner, matched)
      return softDeleteByIds(tx, ctx.owner, matched.map((m) => m.id))
    })
    return { status: 'ok', trashed, ...echo, recoverable_days: TRASH_DAYS }
  },
})

/**
 * Restores trashed entries (already locked); a key another live entry holds, or a schema version the owner
 * registered again meanwhile, fails all of them and restores nothing (D22, D8).
 */
async function restoreChecked(tx: Tx, owner: string, picked: { ids: string[]; keyed: TrashedKey[] }, blame: { param: string; value: unknown }): Promise<number> {
  // Serialise with register_schema on the schema keys being restored (sorted: a fixed lock order).
  const schemaKeys = [...new Set(picked.keyed.filter((k) => k.type === 'schema').map((k) => k.logicalKey))].sort()
  for (const key of schemaKeys) await lockSchemaKey(tx, owner, key)
  const conflictError = async (): Promise<ToolError | undefined> => {
    const conflict = await findRestoreConflict(tx, owner, picked.keyed)
    if (conflict === undefined) return undefined
    return invalidParameter(
      blame.param,
      blame.value,
      `Cannot restore entry '${conflict.entry.id}': another live entry already uses its logical_key '${conflict.entry.logicalKey}'. Delete or change that entry first; nothing was restored.`,
      { logical_key: conflict.entry.logicalKey, existing_id: conflict.existingId },
    )
  }
  const early = await conflictError()
  if (early !== undefined) throw early
  try {
    return await tx.savepoint((sp) => restoreByIds(sp, owner, picked.ids))
  } catch (err) {
    // A key taken between the check and the write (a concurrent insert) still gets the structured answer.
    if (!isUniqueViolation(err, KEY_INDEX)) throw err
    throw (await conflictError()) ?? err
  }
}

export const restoreEntry = defineTool({
  name: 'restore_entry',
  title: 'Restore entries from the trash',
  description:
    'Bring trashed entries back, with the expiry they had before deletion. By entry_id (answers status "not_found" with restored 0 when that id ' +
    'is not in your trash), or by tags (every trashed entry carrying all the tags). Find trashed entries with get_deleted.',
  input: params({
    entry_id: param.string('Id of the trashed entry (takes precedence over tags).'),
    tags: param.tags('Restore every trashed entry carrying all of these tags.'),
  }),
  annotations: { readOnlyHint: false, destructiveHint: false, idempotentHint: true },
  run: async (ctx, a) => {
    if (a.entry_id !== undefined && a.entry_id !== '') {
      const id = a.entry_id
      const restored = await ctx.store.withOwner(ctx.owner, async (tx) => {
        const picked = await lockTrashedById(tx, ctx.owner, id)
        return picked === undefined ? 0 : restoreChecked(tx, ctx.owner, picked, { param: 'entry_id', value: id })
      })
      return restored === 1 ? { status: 'ok', restored: 1, entry_id: id } : { status: 'not_found', restored: 0, entry_id: id }
    }
    const tags = a.tags
    if (tags === undefined || tags.length === 0) throw new ToolError('invalid_parameter', 'Provide entry_id or tags to choose what to restore.')
    const restored = await ctx.store.withOwner(ctx.owner, async (tx) => {
      const picked = await lockTrashedByTags(tx, ctx.owner, tags)
      return restoreChecked(tx, ctx.owner, picked, { param: 'tags', value: tags })
    })
    return { status: 'ok', restored, tags }
  },
})

export const getDeletedTool = defineTool({
  name: 'get_deleted',
  title: 'List the trash',
  description:
    'List trashed entries (most recently deleted first) so they can be restored with restore_entry. In full mode expires is the date the ' +
    'entry is purged for good (when auto_cleanup is enabled). mode "list" returns metadata only. Pages: {entries, limit, offset, has_more}.',
  input: params({
    since: param.string('ISO 8601: deleted at or after this time.'),
    mode: param.string('"list" returns metadata only.'),
    limit: param.integer('Page size (default 100).'),
    offset: param.integer('Rows to skip (default 0).'),
  }),
  annotations: { readOnlyHint: true, idempotentHint: true },
  run: async (ctx, a) => {
    const { limit, offset } = checkPagination(a.limit, a.offset)
    const since = parseTimestamp('since', a.since)
    // Decision 7 does not apply: the trash lists everything trashed, whatever its purge date.
    const rows = await ctx.store.withOwner(ctx.owner, (tx) => getDeleted(tx, ctx.owner, since, limit + 1, offset))
    return page(rows.map((e) => serialise(e, a.mode)), limit, offset)
  },
})

export const ENTRY_TOOLS = [updateEntry, deleteEntry, restoreEntry, getDeletedTool]
