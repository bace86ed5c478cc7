/**
 * Intentions — todos, reminders, planned actions: remind, update_intention, get_intentions
 * (mcp-surface.md §3.8, §3.23, §3.24, §4.1; D12, D20).
 */
import { queryIntentions } from '../../store/queries/awareness.js'
import { getLiveEntryForUpdate, insertEntry, writeEntry } from '../../store/queries/entries.js'
import { serialise } from '../../store/rows.js'
import { notFound } from '../../core/errors.js'
import { checkPagination, page, param, params, parseEnum, parseTimestamp } from '../params.js'
import { defineTool } from './define.js'
import { resolveWriteLanguage } from './write-language.js'

export const INTENTION_STATES = ['active', 'cancelled', 'completed', 'fired', 'pending', 'snoozed'] as const
export const URGENCIES = ['high', 'low', 'normal'] as const

export const remind = defineTool({
  name: 'remind',
  title: 'Create a reminder or todo',
  description:
    'Create an intention: a todo, reminder or planned action with a lifecycle. With deliver_at, the first briefing after that time delivers it once (state becomes "fired"); ' +
    'without it, it is an open-ended todo. Recommended flow: pending → fired → active → completed; snoozed to defer, cancelled to dismiss (see update_intention).',
  input: params({
    goal: param.string('What should happen, e.g. "Call the plumber about the boiler".', true),
    source: param.key('Subject or context of the intention, e.g. "personal" or a project name.', true),
    tags: param.tags('Tags for retrieval (an empty array is allowed).', true),
    deliver_at: param.string('ISO 8601 time to surface it (e.g. 2026-04-16T09:00:00Z; no zone means UTC). Omit for an open-ended todo.'),
    constraints: param.string('Conditions or limits to respect when acting on it.'),
    urgency: param.string('"low", "normal" (default) or "high".'),
    recurrence: param.string('Stored for reference only; intentions fire once.'),
    learned_from: param.string('Platform that created it (default "conversation").'),
    language: param.string('ISO 639-1 code of the goal text (e.g. "en"); detected when omitted.'),
  }),
  annotations: { readOnlyHint: false, destructiveHint: false, idempotentHint: false },
  run: async (ctx, a) => {
    const urgency = parseEnum('urgency', a.urgency ?? 'normal', URGENCIES)
    const deliverAt = parseTimestamp('deliver_at', a.deliver_at)
    const data: Record<string, unknown> = {
      goal: a.goal,
      state: 'pending',
      // Normalised to UTC so every instance and the briefing's claim compare instants, not offsets (§2.5).
      deliver_at: deliverAt === undefined ? null : deliverAt.toISOString(),
      constraints: a.constraints ?? null,
      urgency,
      recurrence: a.recurrence ?? null,
      learned_from: a.learned_from ?? 'conversation',
    }
    const entry = await ctx.store.withOwner(ctx.owner, async (tx) => {
      const language = await resolveWriteLanguage(ctx, tx, 'intention', data, a.language)
      return insertEntry(tx, ctx.owner, { type: 'intention', source: a.source, tags: a.tags, data, language })
    })
    ctx.embed.schedule(ctx.owner, entry.id) // D20
    return { status: 'ok', id: entry.id, state: 'pending' }
  },
})

export const updateIntention = defineTool({
  name: 'update_intention',
  title: 'Change an intention\'s state',
  description:
    'Move an intention to another state: pending, fired, active, completed, snoozed or cancelled. Any state may follow any other; the previous state is kept in the changelog. ' +
    'Recommended flow: pending → fired → active → completed; snoozed to defer (it will not fire again by itself), cancelled to dismiss. Setting pending again makes an overdue intention fire at the next briefing.',
  input: params({
    entry_id: param.string('Id of the intention.', true),
    state: param.string('The new state.', true),
    reason: param.string('Why the state changed (kept as state_reason).'),
  }),
  annotations: { readOnlyHint: false, destructiveHint: false, idempotentHint: false },
  run: async (ctx, a) => {
    // The state is checked before the id is looked up, so a bad state is reported even for an unknown id.
    const state = parseEnum('state', a.state, INTENTION_STATES)
    await ctx.store.withOwner(ctx.owner, async (tx) => {
      // Locked for the rest of the transaction: concurrent transitions cannot lose a changelog record (§9.4).
      const entry = await getLiveEntryForUpdate(tx, ctx.owner, a.entry_id)
      if (entry === undefined || entry.type !== 'intention') throw notFound('entry_id', a.entry_id, `Intention not found: '${a.entry_id}'`)
      const now = new Date()
      const previousState = typeof entry.data.state === 'string' ? entry.data.state : 'pending'
      const previousReason = entry.data.state_reason
      const changed: Record<string, unknown> = { state: previousState }
      if (previousReason !== undefined && previousReason !== null) changed.state_reason = previousReason
      const history = Array.isArray(entry.data.changelog) ? entry.data.changelog : []
      const data: Record<string, unknown> = { ...entry.data, state, changelog: [...history, { updated: now.toISOString(), changed }] }
      if (a.reason !== undefined && a.reason !== '') data.state_reason = a.reason
      await writeEntry(tx, ctx.owner, { ...entry, data, updated: now })
    })
    return { status: 'ok', id: a.entry_id }
  },
})

export const getIntentions = defineTool({
  name: 'get_intentions',
  title: 'List intentions',
  description:
    'List todos, reminders and planned actions, newest activity first, optionally by state, source or tags (tags are ANDed). ' +
    'mode "list" returns metadata with goal and state only. Pages: {entries, limit, offset: 0, has_more}.',
  input: params({
    state: param.string(`One of ${INTENTION_STATES.join(', ')}.`),
    source: param.string('Exact source; omitted or "" lists every source.'),
    tags: param.tags('Intentions must carry every one of these tags.'),
    mode: param.string('"list" returns metadata only (with goal and state).'),
    limit: param.integer('Page size (default 100).'),
  }),
  annotations: { readOnlyHint: true, idempotentHint: true },
  run: async (ctx, a) => {
    const { limit } = checkPagination(a.limit, 0)
    const state = a.state === undefined ? undefined : parseEnum('state', a.state, INTENTION_STATES)
    const rows = await ctx.store.withOwner(ctx.owner, (tx) => queryIntentions(tx, ctx.owner, { state, source: a.source, tags: a.tags }, limit + 1))
    return page(rows.map((e) => serialise(e, a.mode)), limit, 0)
  },
})

export const INTENTION_TOOLS = [remind, updateIntention, getIntentions]
