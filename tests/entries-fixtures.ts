/**
 * Shared pieces of the data-management tests (entries.test.ts, entries-bad-input.test.ts).
 */
import { randomUUID } from 'node:crypto'
import type { Store } from '../store/index.js'
import { snapshot } from './helpers.js'

export const DAY = 86_400_000
export const NASTY = `'; DROP TABLE entries; -- %s {} \\ "quoted" $1 ' OR '1'='1 /* */`
export const BIG = 'x'.repeat(1024 * 1024)

/** Every column of every row of the owner: any change shows. */
export async function state(store: Store, owner: string): Promise<string> {
  const [row] = await store.withOwner(owner, (tx) => tx`
    SELECT md5(coalesce(string_agg(concat_ws('|', id, type, source, created, updated, expires, deleted, tags::text, data::text, logical_key, language::text), ',' ORDER BY id), '')) AS h
    FROM entries WHERE owner_id = ${owner}`)
  return `${await snapshot(store, owner)}|${row.h as string}`
}

/** Entries of types whose writing tools belong to other modules, inserted as those tools store them. */
export async function insertRaw(store: Store, owner: string, type: string, data: Record<string, unknown>, extra: { source?: string; tags?: string[] } = {}): Promise<string> {
  const id = randomUUID()
  await store.withOwner(owner, (tx) => tx`
    INSERT INTO entries (id, owner_id, type, source, created, tags, data)
    VALUES (${id}, ${owner}, ${type}, ${extra.source ?? 's'}, now(), ${tx.json(extra.tags ?? [])}, ${tx.json(data as never)})`)
  return id
}

export async function row(store: Store, owner: string, id: string): Promise<Record<string, unknown>> {
  const [r] = await store.withOwner(owner, (tx) => tx`SELECT type, source, tags, updated, expires, deleted, data, logical_key, language::text AS language FROM entries WHERE id = ${id}`)
  return r
}

export function recorder(): { schedule(owner: string, id: string): void; ids: string[] } {
  const ids: string[] = []
  return { ids, schedule: (_owner, id) => void ids.push(id) }
}

export const family = () => `schema:t-${randomUUID().slice(0, 8)}`
