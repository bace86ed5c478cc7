/**
 * Resources (mcp-surface.md §5, D18): four static resources and two templates mirroring the read tools,
 * each read answering one JSON text item. Resource reads never log reads and are not paginated.
 */
import { activeAlerts, activeSuppressions, latestStatus } from '../../store/queries/awareness.js'
import { queryKnowledge } from '../../store/queries/entries.js'
import { toFull } from '../../store/rows.js'
import type { Store } from '../../store/index.js'
import { runBriefing } from '../../domain/briefing/run.js'
import { notFound } from '../../core/errors.js'
import type { ResourceSurface } from '../context.js'
import { KNOWLEDGE_TYPES, MAX_PAGE_LIMIT } from '../params.js'

const MIME = 'application/json'
const DRILL_DOWN = 'A drill-down: read it only when the briefing points to it or the user asks.'

type Reader = (store: Store, owner: string, arg: string) => Promise<unknown>

const allAlerts = (store: Store, owner: string, source?: string) =>
  store.withOwner(owner, async (tx) => (await activeAlerts(tx, owner, { source })).map((e) => toFull(e)))

/** The most entries awareness://knowledge lists: get_knowledge's largest page. */
const RESOURCE_ENTRIES = MAX_PAGE_LIMIT

/** Static resources by URI. */
const STATIC: ReadonlyMap<string, Reader> = new Map<string, Reader>([
  ['awareness://briefing', (store, owner) => runBriefing(store, owner)],
  ['awareness://alerts', (store, owner) => allAlerts(store, owner)],
  [
    'awareness://knowledge',
    // The live knowledge entries, most recent first and without history (§2.14); expired ones hidden like
    // get_knowledge (decision 7). A resource has no paging: it holds at most one page (RESOURCE_ENTRIES, and
    // the page byte budget); get_knowledge pages through the rest.
    (store, owner) => store.withOwner(owner, async (tx) => (await queryKnowledge(tx, owner, { types: KNOWLEDGE_TYPES }, RESOURCE_ENTRIES, 0)).entries.map((e) => toFull(e, { stripChangelog: true }))),
  ],
  ['awareness://suppressions', (store, owner) => store.withOwner(owner, async (tx) => (await activeSuppressions(tx, owner)).map((e) => toFull(e)))],
])

/** Templates: `{source}` is one URI path segment, percent-decoded. */
const TEMPLATES: readonly { prefix: string; read: Reader }[] = [
  { prefix: 'awareness://alerts/', read: (store, owner, source) => allAlerts(store, owner, source) },
  {
    prefix: 'awareness://status/',
    read: async (store, owner, source) => {
      const entry = await store.withOwner(owner, (tx) => latestStatus(tx, owner, source))
      // An unknown source is an answer, not a protocol failure: the §2.4 envelope as the content.
      return entry === undefined ? notFound('source', source, `No status found for source: '${source}'`).toEnvelope() : toFull(entry)
    },
  },
]

/**
 * The segment after a template prefix, percent-decoded; undefined when it is empty or spans segments.
 * Drill-down URIs in the briefing carry source names as written, so text that is not valid percent-encoding
 * (e.g. "disk 100%") is taken literally rather than refused.
 */
function segment(uri: string, prefix: string): string | undefined {
  if (!uri.startsWith(prefix)) return undefined
  const raw = uri.slice(prefix.length)
  if (raw === '' || raw.includes('/')) return undefined
  try {
    return decodeURIComponent(raw)
  } catch {
    return raw
  }
}

export const RESOURCES: ResourceSurface = {
  resources: [
    {
      uri: 'awareness://briefing',
      name: 'briefing',
      title: 'Briefing',
      description:
        'The one resource to read at the start of a conversation: a compact situation summary (about 200 tokens when all is clear, about 500 with issues). ' +
        'If attention_needed is false there is nothing to say; otherwise mention suggested_mention or compose from the source headlines. Reading it delivers due reminders once.',
      mimeType: MIME,
    },
    {
      uri: 'awareness://alerts',
      name: 'alerts',
      title: 'Active alerts',
      description: `Every active alert, newest first; [] means all clear. ${DRILL_DOWN} Group by source: one sentence per warning, a short paragraph per critical.`,
      mimeType: MIME,
    },
    {
      uri: 'awareness://knowledge',
      name: 'knowledge',
      title: 'Stored knowledge',
      description: `Every stored note, pattern, context and preference, newest first, without change history. ${DRILL_DOWN} Prefer get_knowledge with filters for large stores.`,
      mimeType: MIME,
    },
    {
      uri: 'awareness://suppressions',
      name: 'suppressions',
      title: 'Suppressions in force',
      description: `The alert suppressions currently in force, global and per source. ${DRILL_DOWN}`,
      mimeType: MIME,
    },
  ],
  templates: [
    {
      uriTemplate: 'awareness://alerts/{source}',
      name: 'source-alerts',
      title: 'Active alerts of one source',
      description: `The active alerts of one source, newest first; [] means all clear there. ${DRILL_DOWN} One sentence per warning, a short paragraph per critical.`,
      mimeType: MIME,
    },
    {
      uriTemplate: 'awareness://status/{source}',
      name: 'source-status',
      title: 'Latest status of one source',
      description: `The full latest status of one source (metrics, inventory, TTL), stale or not; an error object with code not_found when the source never reported. ${DRILL_DOWN}`,
      mimeType: MIME,
    },
  ],
  async read(ctx, uri) {
    let reader = STATIC.get(uri)
    let arg = ''
    if (reader === undefined) {
      for (const t of TEMPLATES) {
        const source = segment(uri, t.prefix)
        if (source !== undefined) {
          reader = t.read
          arg = source
          break
        }
      }
    }
    if (reader === undefined) return undefined
    const body = await reader(ctx.store, ctx.owner, arg)
    return [{ uri, mimeType: MIME, text: JSON.stringify(body) }]
  },
}
