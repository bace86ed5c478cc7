/**
 * In-place modification with change history (mcp-surface.md §2.14), shared by `update_entry` and the
 * logical_key upsert (§2.15): only fields whose value really changed are recorded, previous values first
 * absent are recorded as null and the change IS persisted (D5).
 */
import type { Entry } from '../store/rows.js'

export interface EntryChanges {
  source?: string
  tags?: string[]
  /** A validated text-search configuration name. */
  language?: string
  description?: string
  content?: unknown
  content_type?: string
}

/** Structural JSON equality, independent of object key order (JSONB reorders keys). */
export function sameJson(a: unknown, b: unknown): boolean {
  if (a === b) return true
  if (typeof a !== 'object' || typeof b !== 'object' || a === null || b === null) return false
  if (Array.isArray(a) !== Array.isArray(b)) return false
  if (Array.isArray(a) && Array.isArray(b)) return a.length === b.length && a.every((v, i) => sameJson(v, b[i]))
  const ka = Object.keys(a)
  const kb = Object.keys(b)
  return ka.length === kb.length && ka.every((k) => Object.hasOwn(b, k) && sameJson((a as Record<string, unknown>)[k], (b as Record<string, unknown>)[k]))
}

/** Returns the modified entry (changelog appended, `updated` = now), or undefined when nothing changed. */
export function applyChanges(entry: Entry, changes: EntryChanges, now: Date): Entry | undefined {
  const changed: Record<string, unknown> = {}
  const next: Entry = { ...entry, data: { ...entry.data } }
  if (changes.source !== undefined && changes.source !== entry.source) {
    changed.source = entry.source
    next.source = changes.source
  }
  if (changes.tags !== undefined && !sameJson(changes.tags, entry.tags)) {
    changed.tags = entry.tags
    next.tags = changes.tags
  }
  if (changes.language !== undefined && changes.language !== entry.language) {
    changed.language = entry.language
    next.language = changes.language
  }
  for (const field of ['description', 'content', 'content_type'] as const) {
    const value = changes[field]
    if (value === undefined) continue
    const previous = Object.hasOwn(entry.data, field) ? entry.data[field] : undefined
    if (previous !== undefined && sameJson(previous, value)) continue
    changed[field] = previous ?? null
    next.data[field] = value
  }
  if (Object.keys(changed).length === 0) return undefined
  const history = Array.isArray(entry.data.changelog) ? entry.data.changelog : []
  next.data.changelog = [...history, { updated: now.toISOString(), changed }]
  next.updated = now
  return next
}
