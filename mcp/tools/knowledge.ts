/**
 * Durable knowledge: remember, get_knowledge, get_stats, get_tags (mcp-surface.md §3.4, §3.6, §3.7, §3.18).
 */
import { readCounts } from '../../store/queries/activity.js'
import { countByType, insertOrLockByKey, insertEntry, queryKnowledge, tagCounts, writeEntry, type EntryPage } from '../../store/queries/entries.js'
import { iso, serialise, type Entry } from '../../store/rows.js'
import { invalidParameter } from '../../core/errors.js'
import { parseLanguageFilter } from '../../domain/language.js'
import { ENTRY_TYPES, KNOWLEDGE_TYPES, checkPagination, page, param, params, parseEntryType, parseTimestamp } from '../params.js'
import type { Tx } from '../../store/index.js'
import { SEARCH_TRANSACTION, hybridSearch, round4 } from '../../search/hybrid.js'
import { queryVector } from '../../search/query-vector.js'
import { applyChanges } from '../../domain/changes.js'
import type { ToolContext } from '../context.js'
import { defineTool, recordReads } from './define.js'
import { resolveWriteLanguage } from './write-language.js'
import { checkKeyLength } from './writes.js'

/** A note's content is stored as text: objects and arrays as their JSON (§3.18). */
function contentText(content: unknown): string | undefined {
  if (content === undefined) return undefined
  return typeof content === 'string' ? content : JSON.stringify(content)
}

export const remember = defineTool({
  name: 'remember',
  title: 'Remember a durable fact',
  description:
    'Store durable knowledge as a note: something that will still be true in 30 days. This is the default write tool. ' +
    'Rule of thumb: a durable fact → remember; something happening now that will go stale → add_context; a "when X happens, expect Y" rule → learn_pattern. ' +
    'Give a logical_key to keep one living document per (source, key): calling again updates it in place and records the previous values in its changelog.',
  input: params({
    source: param.string('Subject the fact is about, e.g. "personal" or a project or system name.', true),
    tags: param.tags('Tags for retrieval (an empty array is allowed). Reuse existing tags: see get_tags.', true),
    description: param.string('Short summary of the fact.', true),
    content: param.content('Optional payload: text, or a JSON object/array (stored as its JSON text).'),
    content_type: param.string('MIME type of content (default text/plain); stored only with content.'),
    learned_from: param.string('Platform that learned it (default "conversation").'),
    logical_key: param.string('Optional upsert key within source; "" means no key.'),
    language: param.string('ISO 639-1 code of the text (e.g. "en", "fr"); detected when omitted.'),
  }),
  annotations: { readOnlyHint: false, destructiveHint: false, idempotentHint: false },
  run: async (ctx, a) => {
    checkKeyLength('source', a.source) // L5: the one write tool that skipped it
    checkKeyLength('logical_key', a.logical_key)
    const content = contentText(a.content)
    const data: Record<string, unknown> = { description: a.description, learned_from: a.learned_from ?? 'conversation' }
    if (content !== undefined) {
      data.content = content
      data.content_type = a.content_type ?? 'text/plain'
    }
    const logicalKey = a.logical_key === '' ? undefined : a.logical_key // D21
    const result = await ctx.store.withOwner(ctx.owner, async (tx) => {
      const language = await resolveWriteLanguage(ctx, tx, 'note', data, a.language)
      const fresh = { type: 'note', source: a.source, tags: a.tags, data, language }
      if (logicalKey === undefined) return { entry: await insertEntry(tx, ctx.owner, fresh), action: undefined }
      const { entry, created } = await insertOrLockByKey(tx, ctx.owner, { ...fresh, logicalKey })
      if (created) return { entry, action: 'created' }
      if (entry.type !== 'note') {
        throw invalidParameter('logical_key', logicalKey, `The logical_key '${logicalKey}' in source '${a.source}' is already used by a ${entry.type} entry; use another key.`, {
          existing_type: entry.type,
          existing_id: entry.id,
        })
      }
      const next = applyChanges(entry, { tags: a.tags, description: a.description, content, content_type: content === undefined ? undefined : data.content_type as string }, new Date())
      return { entry: next === undefined ? entry : await writeEntry(tx, ctx.owner, next), action: 'updated' }
    })
    ctx.embed.schedule(ctx.owner, result.entry.id)
    return result.action === undefined ? { status: 'ok', id: result.entry.id } : { status: 'ok', id: result.entry.id, action: result.action }
  },
})

const INCLUDE_HISTORY_VALUES = new Set(['true', 'only'])

export const getKnowledge = defineTool({
  name: 'get_knowledge',
  title: 'Get stored knowledge',
  description:
    'Filtered retrieval of stored knowledge: notes, patterns, contexts and preferences (or any one entry_type, e.g. "record" or "intention"). ' +
    'Scan first with mode "list" and a small limit (10–20), then fetch full entries. Tags are ANDed. since/until filter on the last activity time. ' +
    'Entries past their expiry are hidden unless include_expired is true. Pages: {entries, limit, offset, has_more}.',
  input: params({
    source: param.string('Exact source; "" matches only global entries.'),
    tags: param.tags('Entries must carry every one of these tags.'),
    entry_type: param.string(`One of ${ENTRY_TYPES.join(', ')}; default: the four knowledge types.`),
    include_history: param.stringOrBoolean('"true" keeps each entry\'s changelog; "only" returns only entries that were changed.'),
    since: param.string('ISO 8601: last activity at or after this time.'),
    until: param.string('ISO 8601: last activity at or before this time.'),
    learned_from: param.string('Exact learned_from platform.'),
    created_after: param.string('ISO 8601: created at or after this time.'),
    created_before: param.string('ISO 8601: created at or before this time.'),
    hint: param.query('A phrase to rank the page by relevance (needs an embedding provider; ignored otherwise).'),
    mode: param.string('"list" returns metadata only, with read counts.'),
    limit: param.integer('Page size (default 100).'),
    offset: param.integer('Rows to skip (default 0).'),
    language: param.string('ISO 639-1 code or "simple": only entries stored with that text-search language.'),
    include_expired: param.boolean('Include entries whose expiry has passed (default false).'),
  }),
  annotations: { readOnlyHint: false, destructiveHint: false, idempotentHint: false },
  stores: false, // reads (and logs its reads): goes on when the disk is full
  // List mode shows read counts, so pending reads are written first.
  reads: (a) => a.mode === 'list',
  run: async (ctx, a) => {
    const { limit, offset } = checkPagination(a.limit, a.offset)
    const since = parseTimestamp('since', a.since)
    const until = parseTimestamp('until', a.until)
    const createdAfter = parseTimestamp('created_after', a.created_after)
    const createdBefore = parseTimestamp('created_before', a.created_before)
    const entryType = parseEntryType('entry_type', a.entry_type)
    let language: string | undefined
    if (a.language !== undefined && a.language.trim() !== '') {
      const parsed = parseLanguageFilter(a.language)
      if (parsed === null) throw invalidParameter('language', a.language, `Unknown language code '${a.language}'. Use an ISO 639-1 code (e.g. "en", "fr") or "simple".`)
      language = parsed
    }
    const history = a.include_history !== undefined && INCLUDE_HISTORY_VALUES.has(a.include_history) ? a.include_history : undefined
    const filter = {
      types: entryType === undefined ? KNOWLEDGE_TYPES : [entryType],
      source: a.source,
      tags: a.tags,
      since,
      until,
      learnedFrom: a.learned_from,
      createdAfter,
      createdBefore,
      language,
      includeExpired: a.include_expired ?? false,
      onlyWithChangelog: history === 'only',
    }
    const finish = async (tx: Tx, { entries: rows, cut }: EntryPage, scores: Map<string, number> | undefined) => {
      const ordered = scores === undefined ? rows : rerank(rows, scores)
      const shown = ordered.slice(0, limit)
      const ids = shown.map((e) => e.id)
      // List mode shows the counters as written (pending reads were flushed before this transaction) plus
      // this read, which is recorded after they are read so a concurrent flush cannot count it twice.
      const counts = a.mode === 'list' ? await readCounts(tx, ctx.owner, ids) : undefined
      const readAt = recordReads(ctx, ids, 'get_knowledge')
      const items = shown.map((e: Entry) => {
        const item = serialise(e, a.mode, { stripChangelog: history === undefined })
        if (counts !== undefined) {
          const c = counts.get(e.id)
          item.read_count = (c?.readCount ?? 0) + 1
          item.last_read = iso(readAt)
        }
        const score = scores?.get(e.id)
        if (score !== undefined) item.similarity = round4(score)
        return item
      })
      return page([...items, ...ordered.slice(limit)], limit, offset, cut)
    }
    const hint = a.hint?.trim() ?? ''
    if (hint === '' || ctx.embedder === undefined) {
      return ctx.store.withOwner(ctx.owner, async (tx) => finish(tx, await queryKnowledge(tx, ctx.owner, filter, limit + 1, offset), undefined))
    }
    // With a hint: the page, then the hint's embedding outside any transaction (a provider call must never
    // hold the database connection), then re-ranking, read logging and read counts.
    const fetched = await ctx.store.withOwner(ctx.owner, (tx) => queryKnowledge(tx, ctx.owner, filter, limit + 1, offset))
    const rows = fetched.entries
    const q = rows.length > 0 ? await queryVector(ctx.embedder, ctx.store.vectorDimensions, hint) : undefined
    return ctx.store.withOwner(ctx.owner, async (tx) => finish(tx, fetched, q?.vector === undefined ? undefined : await hintScores(ctx, tx, hint, q.vector, q.model, rows)), SEARCH_TRANSACTION)
  },
})

/**
 * Hint re-ranking (§3.4, §4.5): the hybrid pipeline with the hint as query (language `simple`), restricted to
 * the fetched window, so every entry of the window can score and nothing outside it can enter. Undefined on
 * any failure: the recency order then stands, silently.
 */
async function hintScores(ctx: ToolContext, tx: Tx, hint: string, vector: number[], model: string, rows: Entry[]): Promise<Map<string, number> | undefined> {
  try {
    const hits = await tx.savepoint((sp) =>
      hybridSearch(ctx.search, sp, ctx.owner, { text: hint, vector, model, filter: { ids: rows.map((e) => e.id), includeExpired: true }, limit: rows.length }),
    )
    return new Map(hits.map((h) => [h.entry.id, h.score]))
  } catch (err) {
    ctx.log.warn({ err }, 'hint re-ranking failed; recency order kept')
    return undefined
  }
}

/** Scored entries first by score (stable), the others after them in their recency order. */
function rerank(rows: Entry[], scores: Map<string, number>): Entry[] {
  const rank = (e: Entry): number => scores.get(e.id) ?? -1
  return [...rows].sort((x, y) => rank(y) - rank(x))
}

export const getStats = defineTool({
  name: 'get_stats',
  title: 'Store statistics',
  description:
    'Size and shape of your store: entry counts per type, the distinct sources, and the total. Call it first when unsure how much data exists, to decide how to filter.',
  input: params({}),
  annotations: { readOnlyHint: true, idempotentHint: true },
  run: async (ctx) => {
    const { counts, sources } = await ctx.store.withOwner(ctx.owner, (tx) => countByType(tx, ctx.owner))
    const entries = Object.fromEntries(ENTRY_TYPES.map((t) => [t, counts[t] ?? 0]))
    const total = Object.values(entries).reduce((s, n) => s + n, 0)
    return { entries, sources, total }
  },
})

export const getTags = defineTool({
  name: 'get_tags',
  title: 'Tags in use',
  description: 'The tag vocabulary with usage counts, most used first. Check it before inventing a new tag, to avoid near-duplicates.',
  input: params({}),
  annotations: { readOnlyHint: true, idempotentHint: true },
  run: (ctx) => ctx.store.withOwner(ctx.owner, (tx) => tagCounts(tx, ctx.owner)),
})

export const KNOWLEDGE_TOOLS = [remember, getKnowledge, getStats, getTags]
