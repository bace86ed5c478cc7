/**
 * Read and action tracking (data-and-engine.md §4.4).
 */
import type { Tx } from '../store.js'

/**
 * One read row per returned entry. INSERT … SELECT joined to entries, so an id that vanished meanwhile is
 * skipped instead of aborting the whole batch on the foreign key (reference defect §12.7).
 */
export async function logReads(tx: Tx, owner: string, entryIds: string[], toolUsed: string, platform: string | null = null): Promise<void> {
  if (entryIds.length === 0) return
  await tx`
    INSERT INTO reads (owner_id, entry_id, platform, tool_used)
    SELECT ${owner}, e.id, ${platform}, ${toolUsed}
    FROM unnest(${entryIds}::text[]) WITH ORDINALITY AS ids(id, n)
    JOIN entries e ON e.id = ids.id AND e.owner_id = ${owner}
    ORDER BY ids.n`
}

/** Read counts and last read time for the ids that have at least one read. */
export async function readCounts(tx: Tx, owner: string, entryIds: string[]): Promise<Map<string, { readCount: number; lastRead: Date }>> {
  const out = new Map<string, { readCount: number; lastRead: Date }>()
  if (entryIds.length === 0) return out
  const rows = await tx`
    SELECT entry_id, count(*)::int AS n, max("timestamp") AS last
    FROM reads WHERE owner_id = ${owner} AND entry_id = ANY(${entryIds}::text[])
    GROUP BY entry_id`
  for (const r of rows) out.set(r.entry_id as string, { readCount: r.n as number, lastRead: r.last as Date })
  return out
}
