/**
 * search, semantic_search (deprecated alias) and backfill_embeddings (mcp-surface.md §3.14, §3.15, §3.32,
 * §4.5; decisions 6 and 7; D13).
 *
 * Without a provider, search answers from its full-text branch alone with `mode: "lexical"` (decision 6).
 * When a configured provider cannot embed the query, it does the same and adds `degraded: "lexical_only"`
 * with the §3.14 message in `warning`, instead of failing with `unavailable`: exact-term hits are still
 * worth returning, and an agent told to retry a search that can answer now would only loop.
 */
import type { SearchFilter } from '../../store/queries/search.js'
import { ToolError, invalidParameter } from '../../core/errors.js'
import { isoToRegconfig } from '../../domain/language.js'
import { backfill } from '../../search/backfill.js'
import { SEARCH_TRANSACTION, hybridSearch, round4 } from '../../search/hybrid.js'
import { queryVector } from '../../search/query-vector.js'
import { ENTRY_TYPES, MAX_PAGE_LIMIT, param, params, parseEntryType, parseTimestamp } from '../params.js'
import type { ToolContext } from '../context.js'
import { defineTool, recordReads } from './define.js'
import { validRegconfig } from './write-language.js'
import { serialise } from '../../store/rows.js'

const DEFAULT_LIMIT = 10
const MAX_LIMIT = 100

/** §2.6: search clamps instead of failing. */
export function clampSearchLimit(limit: number | undefined): number {
  if (limit === undefined) return DEFAULT_LIMIT
  return Math.min(MAX_LIMIT, Math.max(1, limit))
}

const searchInput = params({
  query: param.query('What to look for: words, a phrase or a question.', true),
  source: param.string('Exact source; "" matches only global entries.'),
  tags: param.tags('Entries must carry every one of these tags.'),
  entry_type: param.string(`One of ${ENTRY_TYPES.join(', ')}; default: every type.`),
  since: param.string('ISO 8601: last activity at or after this time.'),
  until: param.string('ISO 8601: last activity at or before this time.'),
  limit: param.integer('Results (default 10, clamped into 1–100).'),
  mode: param.string('"list" returns metadata only.'),
  language: param.string('ISO 639-1 code of the query (e.g. "en"); optional: the query is already matched in the language each entry was stored in.'),
  include_expired: param.boolean('Include entries whose expiry has passed (default false).'),
})

type SearchArgs = {
  query: string
  source?: string
  tags?: string[]
  entry_type?: string
  since?: string
  until?: string
  limit?: number
  mode?: string
  language?: string
  include_expired?: boolean
}

async function runSearch(ctx: ToolContext, a: SearchArgs): Promise<Record<string, unknown>> {
  // Validation order of §3.14: limit (clamped), since, until, entry_type; provider checks come last.
  const limit = clampSearchLimit(a.limit)
  const since = parseTimestamp('since', a.since)
  const until = parseTimestamp('until', a.until)
  const entryType = parseEntryType('entry_type', a.entry_type)
  const filter: SearchFilter = {
    types: entryType === undefined ? undefined : [entryType],
    source: a.source,
    tags: a.tags,
    since,
    until,
    includeExpired: a.include_expired ?? false,
  }
  const q = await queryVector(ctx.embedder, ctx.store.vectorDimensions, a.query)
  return ctx.store.withOwner(ctx.owner, async (tx) => {
    const language = a.language === undefined ? undefined : await validRegconfig(ctx, tx, isoToRegconfig(a.language))
    const hits = await hybridSearch(ctx.search, tx, ctx.owner, { text: a.query, language, vector: q.vector, model: q.vector === undefined ? undefined : q.model, filter, limit: limit + 1 })
    const shown = hits.slice(0, limit)
    recordReads(ctx, shown.map((h) => h.entry.id), 'search')
    const out: Record<string, unknown> = {
      entries: shown.map((h) => ({ ...serialise(h.entry, a.mode), similarity: round4(h.score) })),
      limit,
      offset: 0,
      has_more: hits.length > limit,
      mode: q.vector === undefined ? 'lexical' : 'hybrid',
    }
    if (q.vector === undefined && q.reason === 'failed') {
      out.degraded = 'lexical_only'
      out.warning = `${q.message} These results come from full-text matching alone; retry later for meaning-based matches.`
      ctx.log.warn({ reason: q.message }, 'search degraded to full-text only')
    }
    return out
  }, SEARCH_TRANSACTION)
}

const SEARCH_DESCRIPTION =
  'Find entries by meaning and by exact terms: a vector (semantic) branch and a full-text branch fused by Reciprocal Rank Fusion. ' +
  'All entry types are searched unless entry_type is given; tags are ANDed; since/until filter on the last activity time; entries past their expiry are hidden unless include_expired is true. ' +
  'similarity is the fused rank score (at most about 0.136), not a cosine. Full-text matching ranks entries by how many of the query\'s rarer words they contain, in the language each entry was stored in, so questions in plain sentences work. ' +
  'Without an embedding provider the answer says mode "lexical" and comes from full-text matching alone. Reads are logged. Pages: {entries, limit, offset, has_more, mode}.'

/** search and its deprecated alias: one definition, two names. */
const searchTool = (name: string, title: string, preface: string) =>
  defineTool({
    name,
    title,
    description: preface + SEARCH_DESCRIPTION,
    input: searchInput,
    annotations: { readOnlyHint: false, destructiveHint: false, idempotentHint: false, openWorldHint: false },
    stores: false, // reads (and logs its reads): goes on when the disk is full
    run: (ctx, a) => runSearch(ctx, a),
  })

export const search = searchTool('search', 'Search memory', '')
export const semanticSearch = searchTool('semantic_search', 'Search memory (deprecated alias)', 'Deprecated: use search, which this tool calls with the same arguments and answers identically. ')

export const backfillEmbeddings = defineTool({
  name: 'backfill_embeddings',
  title: 'Backfill embeddings',
  description:
    'Create missing embeddings and refresh stale ones (after enabling an embedding provider, changing the model, or when the provider was down). ' +
    'Embeds up to limit entries without an embedding (most recent first), then up to limit entries whose text changed since they were embedded. ' +
    'remaining counts entries still without an embedding: call again until it is 0. Reports progress when the request carries a progress token. ' +
    'Needs an embedding provider (unavailable, retryable, otherwise).',
  input: params({
    limit: param.integer(`Entries per phase (default 50, 0 to ${MAX_PAGE_LIMIT}).`),
  }),
  annotations: { readOnlyHint: false, destructiveHint: false, idempotentHint: true, openWorldHint: false },
  run: async (ctx, a) => {
    const limit = a.limit ?? 50
    if (limit < 0) throw invalidParameter('limit', a.limit, 'limit must be non-negative') // D12
    // Each phase loads its entries' texts at once: bounded like a page (security audit M1).
    if (limit > MAX_PAGE_LIMIT) throw invalidParameter('limit', a.limit, `limit may be at most ${MAX_PAGE_LIMIT}; call again until remaining is 0`)
    const e = ctx.embedder
    if (e === undefined) throw new ToolError('unavailable', 'No embedding provider is configured (AWARENESS_EMBEDDING_PROVIDER), so there is nothing to backfill with.')
    if (e.dimensions !== ctx.store.vectorDimensions) {
      throw new ToolError('unavailable', `The embedding provider produces ${e.dimensions}-dimensional vectors but the database stores ${ctx.store.vectorDimensions}.`)
    }
    if (!(await e.available())) throw new ToolError('unavailable', `The embedding provider (model ${e.modelName}) is not reachable right now; retry later.`)
    return backfill({ index: ctx.search, embedder: e, owner: ctx.owner, log: ctx.log, progress: ctx.progress }, limit)
  },
})

export const SEARCH_TOOLS = [search, semanticSearch, backfillEmbeddings]
