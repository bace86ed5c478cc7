/**
 * Knowledge writes besides `remember`: add_context, learn_pattern, set_preference (mcp-surface.md §3.19–§3.21).
 */
import { MAX_KEY_BYTES, insertEntry, keyBytes } from '../../store/queries/entries.js'
import { markCleanupCandidate, upsertPreference } from '../../store/queries/preferences.js'
import { iso } from '../../store/rows.js'
import { invalidParameter } from '../../core/errors.js'
import { expiryAfter, param, params } from '../params.js'
import { defineTool } from './define.js'
import { resolveWriteLanguage } from './write-language.js'

const DAY_MS = 86_400_000

/** Refuses a `source` or key too long for the database's indexes with a clean error instead of a failed insert. */
export function checkKeyLength(param: string, value: string | undefined): void {
  if (value !== undefined && keyBytes(value) > MAX_KEY_BYTES) {
    throw invalidParameter(param, value, `${param} is too long: at most ${MAX_KEY_BYTES} bytes (UTF-8)`)
  }
}

export const addContext = defineTool({
  name: 'add_context',
  title: 'Add current context',
  description:
    'Record something happening now that will go stale (a trip this week, an ongoing migration, a temporary workaround). ' +
    'It carries an expiry (expires_days, default 30): reads hide it once expired, and it is purged when the owner enabled auto_cleanup. ' +
    'For durable facts use remember; for "when X happens, expect Y" rules use learn_pattern.',
  input: params({
    source: param.string('Subject the context is about, e.g. "personal" or a system name.', true),
    tags: param.tags('Tags for retrieval (an empty array is allowed).', true),
    description: param.string('What is going on.', true),
    expires_days: param.integer('Days until it expires (default 30, at least 1).'),
    language: param.string('ISO 639-1 code of the text (e.g. "en", "fr"); detected when omitted.'),
  }),
  annotations: { readOnlyHint: false, destructiveHint: false, idempotentHint: false },
  run: async (ctx, a) => {
    const now = new Date()
    const expires = expiryAfter('expires_days', a.expires_days ?? 30, a.expires_days, DAY_MS, now, 'expires_days is too large: the expiry must fall before the year 10000')
    checkKeyLength('source', a.source)
    const data = { description: a.description }
    const entry = await ctx.store.withOwner(ctx.owner, async (tx) => {
      const language = await resolveWriteLanguage(ctx, tx, 'context', data, a.language)
      return insertEntry(tx, ctx.owner, { type: 'context', source: a.source, tags: a.tags, data, expires, language }, now)
    })
    ctx.embed.schedule(ctx.owner, entry.id)
    return { status: 'ok', id: entry.id, expires: iso(entry.expires) }
  },
})

export const learnPattern = defineTool({
  name: 'learn_pattern',
  title: 'Learn an operational pattern',
  description:
    'Only for operational "when X happens, expect Y" rules, which the briefing uses to explain away matching alerts ' +
    '(e.g. "backups run on Fridays, so high disk I/O then is expected"). Not for facts (remember) or current events (add_context). ' +
    'conditions may hold day_of_week (e.g. "friday") and hour_range ([start, end] hours UTC, wrapping past midnight when start > end); ' +
    'effect holds the words matched against alert fields. source "" makes the pattern apply to every source.',
  input: params({
    source: param.string('Source the rule applies to; "" for every source.', true),
    tags: param.tags('Tags for retrieval (an empty array is allowed).', true),
    description: param.string('The rule in words.', true),
    conditions: param.object('When the rule applies: {"day_of_week": "friday", "hour_range": [2, 4]}; other keys are stored. Default {}.'),
    effect: param.string('What to expect when it applies; words matched against alerts. Default "".'),
    learned_from: param.string('Platform that learned it (default "conversation").'),
    language: param.string('ISO 639-1 code of the text (e.g. "en", "fr"); detected when omitted.'),
  }),
  annotations: { readOnlyHint: false, destructiveHint: false, idempotentHint: false },
  run: async (ctx, a) => {
    checkKeyLength('source', a.source)
    const data = { description: a.description, conditions: a.conditions ?? {}, effect: a.effect ?? '', learned_from: a.learned_from ?? 'conversation' }
    const entry = await ctx.store.withOwner(ctx.owner, async (tx) => {
      const language = await resolveWriteLanguage(ctx, tx, 'pattern', data, a.language)
      return insertEntry(tx, ctx.owner, { type: 'pattern', source: a.source, tags: a.tags, data, language })
    })
    ctx.embed.schedule(ctx.owner, entry.id)
    return { status: 'ok', id: entry.id }
  },
})

/** The preference key whose value "true" opts the owner into purging expired entries and old trash. */
const AUTO_CLEANUP = 'auto_cleanup'

export const setPreference = defineTool({
  name: 'set_preference',
  title: 'Set a preference',
  description:
    'Set a portable presentation or behaviour preference (e.g. alert_verbosity = "minimal"), one value per (key, scope). ' +
    'Setting it again replaces the value in place. The key auto_cleanup with value "true" opts you into permanent purging of ' +
    'expired entries and of trash older than 30 days; without it nothing is ever purged.',
  input: params({
    key: param.string('Preference name, e.g. "alert_verbosity".', true),
    value: param.string('Preference value (a string).', true),
    scope: param.string('Where it applies (default "global"); also stored as the entry source.'),
  }),
  annotations: { readOnlyHint: false, destructiveHint: false, idempotentHint: true },
  run: async (ctx, a) => {
    const scope = a.scope ?? 'global'
    checkKeyLength('scope', scope)
    const { entry } = await ctx.store.withOwner(ctx.owner, async (tx) => {
      const result = await upsertPreference(tx, ctx.owner, { key: a.key, value: a.value, scope })
      if (a.key === AUTO_CLEANUP) await markCleanupCandidate(tx, ctx.owner)
      return result
    })
    return { status: 'ok', id: entry.id, key: a.key, scope }
  },
})

export const WRITE_TOOLS = [addContext, learnPattern, setPreference]
