/**
 * The knowledge → action audit trail and what was read: acted_on, get_reads, get_actions, get_unread,
 * get_activity, get_related (mcp-surface.md §3.9–§3.13, §3.25; D4, D12, D14).
 */
import { insertAction, queryActions, queryActivity, queryReads, queryUnread, relatedEntries } from '../../store/queries/activity.js'
import { iso, serialise, toList } from '../../store/rows.js'
import { notFound } from '../../core/errors.js'
import { checkPagination, page, param, params, parseTimestamp } from '../params.js'
import { defineTool, recordReads } from './define.js'

const READ_ONLY = { readOnlyHint: true, destructiveHint: false, idempotentHint: true }

/** An id that is missing, trashed or another owner's: all look the same (§2.1). */
const entryNotFound = (id: string) => notFound('entry_id', id, `Entry not found: '${id}'`)

/** These lists have no offset parameter: offset is always 0 (§2.6, D12). */
const limitOnly = (limit: number | undefined): number => checkPagination(limit, undefined).limit

export const actedOn = defineTool({
  name: 'acted_on',
  title: 'Record an action taken because of an entry',
  description:
    'Record that you did something concrete because of a stored entry: implemented a feature, opened an issue, answered a question, made a decision. ' +
    'This builds the audit trail from knowledge to action (read it back with get_actions or get_activity); the entry itself is not modified. ' +
    'tags default to a copy of the entry\'s current tags. The entry must exist and not be in the trash, otherwise the answer is a not_found error.',
  input: params({
    entry_id: param.string('Id of the entry that motivated the action.', true),
    action: param.string('What you did, e.g. "created GitHub issue #24".', true),
    platform: param.string('Your platform name, e.g. "claude-code".'),
    detail: param.string('A reference for the action, e.g. a pull-request URL or an issue number.'),
    tags: param.tags('Tags of the action record; omitted → a copy of the entry\'s tags.'),
  }),
  annotations: { readOnlyHint: false, destructiveHint: false, idempotentHint: false },
  run: async (ctx, a) => {
    const now = new Date() // the application clock, like every other write (data-and-engine.md §2.3)
    const row = await ctx.store.withOwner(ctx.owner, (tx) =>
      insertAction(tx, ctx.owner, { entryId: a.entry_id, action: a.action, platform: a.platform, detail: a.detail, tags: a.tags }, now),
    )
    if (row === undefined) throw entryNotFound(a.entry_id) // D4: a real error, not a successful "error" body
    return { status: 'ok', id: row.id, entry_id: a.entry_id, action: a.action, timestamp: iso(row.timestamp) }
  },
})

export const getReads = defineTool({
  name: 'get_reads',
  title: 'Read history',
  description:
    'Which entries were read, when and by which tool, newest first. Reads are logged by get_knowledge, get_alerts, search and get_related; ' +
    'those carry no platform, so a platform filter matches none of them. entry_id or platform "" means no filter. Pages: {entries, limit, offset: 0, has_more}.',
  input: params({
    entry_id: param.string('Only reads of this entry.'),
    since: param.string('ISO 8601: reads at or after this time.'),
    platform: param.string('Only reads from this platform.'),
    limit: param.integer('Maximum rows (default 100).'),
  }),
  annotations: READ_ONLY,
  reads: 'fresh',
  run: async (ctx, a) => {
    const limit = limitOnly(a.limit)
    const since = parseTimestamp('since', a.since)
    const rows = await ctx.store.withOwner(ctx.owner, (tx) => queryReads(tx, ctx.owner, { entryId: a.entry_id, since, platform: a.platform }, limit + 1))
    return page(rows, limit, 0)
  },
})

export const getActions = defineTool({
  name: 'get_actions',
  title: 'Action audit trail',
  description:
    'The actions recorded with acted_on, newest first: what was done because of which entry, where, with which reference. ' +
    'Filter by entry, time, platform, or tags (every listed tag must be on the action). entry_id or platform "" means no filter. Pages: {entries, limit, offset: 0, has_more}.',
  input: params({
    entry_id: param.string('Only actions taken because of this entry.'),
    since: param.string('ISO 8601: actions at or after this time.'),
    platform: param.string('Only actions from this platform.'),
    tags: param.tags('Actions must carry every one of these tags.'),
    limit: param.integer('Maximum rows (default 100).'),
  }),
  annotations: READ_ONLY,
  run: async (ctx, a) => {
    const limit = limitOnly(a.limit)
    const since = parseTimestamp('since', a.since)
    const filter = { entryId: a.entry_id, since, platform: a.platform, tags: a.tags }
    const rows = await ctx.store.withOwner(ctx.owner, (tx) => queryActions(tx, ctx.owner, filter, limit + 1))
    return page(rows, limit, 0)
  },
})

export const getUnread = defineTool({
  name: 'get_unread',
  title: 'Entries nobody has read',
  description:
    'Entries of every type that no tool has read, newest created first, as metadata only: candidates for clean-up. ' +
    'With since, only reads at or after that time count, so an entry last read before it is listed as unread. ' +
    'Calling this does not count as reading. Pages: {entries, limit, offset: 0, has_more}.',
  input: params({
    since: param.string('ISO 8601: ignore reads before this time.'),
    limit: param.integer('Maximum entries (default 100).'),
  }),
  annotations: READ_ONLY,
  reads: 'fresh',
  run: async (ctx, a) => {
    const limit = limitOnly(a.limit)
    const since = parseTimestamp('since', a.since)
    const rows = await ctx.store.withOwner(ctx.owner, (tx) => queryUnread(tx, ctx.owner, since, limit + 1))
    return page(rows.map(toList), limit, 0)
  },
})

export const getActivity = defineTool({
  name: 'get_activity',
  title: 'Activity feed',
  description:
    'One chronological feed of reads and actions, newest first. A read event has action null, the reading tool\'s name in detail and no tags; ' +
    'an action event carries what acted_on recorded. limit applies to the merged feed. platform "" means no filter (reads have no platform). ' +
    'Pages: {entries, limit, offset: 0, has_more}.',
  input: params({
    since: param.string('ISO 8601: events at or after this time.'),
    platform: param.string('Only events from this platform.'),
    limit: param.integer('Maximum events (default 100).'),
  }),
  annotations: READ_ONLY,
  reads: 'fresh',
  run: async (ctx, a) => {
    const limit = limitOnly(a.limit)
    const since = parseTimestamp('since', a.since)
    const rows = await ctx.store.withOwner(ctx.owner, (tx) => queryActivity(tx, ctx.owner, { since, platform: a.platform }, limit + 1))
    return page(rows, limit, 0)
  },
})

export const getRelated = defineTool({
  name: 'get_related',
  title: 'Related entries',
  description:
    'Entries linked to a given entry in both directions through the related_ids convention (an array of entry ids in an entry\'s data): ' +
    'first the entries it lists, then the entries that list it. The entry itself is never included. ' +
    'Answers a bare JSON array ([] when nothing is linked); an unknown or trashed id is a not_found error.',
  input: params({
    entry_id: param.string('Id of the entry whose relations you want.', true),
    mode: param.string('"list" returns metadata only, without data.'),
  }),
  annotations: { readOnlyHint: false, destructiveHint: false, idempotentHint: false },
  stores: false, // reads (and logs its reads): goes on when the disk is full
  run: async (ctx, a) =>
    ctx.store.withOwner(ctx.owner, async (tx) => {
      const related = await relatedEntries(tx, ctx.owner, a.entry_id)
      if (related === undefined) throw entryNotFound(a.entry_id)
      recordReads(ctx, related.map((e) => e.id), 'get_related')
      // Full mode returns data as stored, changelog included (§2.14: only get_knowledge strips it).
      return related.map((e) => serialise(e, a.mode))
    }),
})

export const ACTIVITY_TOOLS = [actedOn, getReads, getActions, getUnread, getActivity, getRelated]
