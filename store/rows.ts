/**
 * Row ↔ entry mapping and the two serialisations of mcp-surface.md §2.7 — the only place that knows them.
 */

export interface Entry {
  id: string
  ownerId: string
  type: string
  source: string
  tags: string[]
  created: Date
  updated: Date | null
  expires: Date | null
  deleted: Date | null
  data: Record<string, unknown>
  logicalKey: string | null
  language: string
}

/** The column list every entry query selects (keeps `tsv` and other derived columns out of the wire). */
export const ENTRY_COLUMNS = 'id, owner_id, type, source, tags, created, updated, expires, deleted, data, logical_key, language::text AS language'

export function toEntry(row: Record<string, unknown>): Entry {
  return {
    id: row.id as string,
    ownerId: row.owner_id as string,
    type: row.type as string,
    source: row.source as string,
    tags: (row.tags as string[] | null) ?? [],
    created: row.created as Date,
    updated: (row.updated as Date | null) ?? null,
    expires: (row.expires as Date | null) ?? null,
    deleted: (row.deleted as Date | null) ?? null,
    data: (row.data as Record<string, unknown> | null) ?? {},
    logicalKey: (row.logical_key as string | null) ?? null,
    language: (row.language as string | null) ?? 'simple',
  }
}

export const iso = (d: Date | null): string | null => (d === null ? null : d.toISOString())

/** Full serialisation: logical_key only when set, language only when not `simple`. */
export function toFull(e: Entry, opts: { stripChangelog?: boolean } = {}): Record<string, unknown> {
  let data = e.data
  if (opts.stripChangelog && 'changelog' in data) {
    const { changelog: _dropped, ...rest } = data
    data = rest
  }
  const out: Record<string, unknown> = {
    id: e.id,
    type: e.type,
    source: e.source,
    tags: e.tags,
    created: iso(e.created),
    updated: iso(e.updated),
    expires: iso(e.expires),
    data,
  }
  if (e.logicalKey !== null) out.logical_key = e.logicalKey
  if (e.language !== 'simple') out.language = e.language
  return out
}

/** List serialisation: metadata only, never `data`, `expires` or `language`. */
export function toList(e: Entry): Record<string, unknown> {
  const description = typeof e.data.description === 'string' && e.data.description !== '' ? e.data.description : e.type === 'alert' && typeof e.data.message === 'string' ? e.data.message : ''
  const out: Record<string, unknown> = {
    id: e.id,
    type: e.type,
    source: e.source,
    tags: e.tags,
    description,
    created: iso(e.created),
    updated: iso(e.updated),
  }
  if (e.logicalKey !== null) out.logical_key = e.logicalKey
  if (e.type === 'intention') {
    out.goal = typeof e.data.goal === 'string' ? e.data.goal : ''
    out.state = typeof e.data.state === 'string' ? e.data.state : 'pending'
  }
  return out
}

export function serialise(e: Entry, mode: string | undefined, opts: { stripChangelog?: boolean } = {}): Record<string, unknown> {
  return mode === 'list' ? toList(e) : toFull(e, opts)
}
