/**
 * The briefing for one owner (mcp-surface.md §3.1, §4.6; data-and-engine.md §8): gathers the collator's
 * inputs and claims the due intentions in one short transaction, then collates (pure, server/collator.ts).
 *
 * Query count is fixed whatever the number of sources (no N+1): the claim, one read of every status,
 * alert, suppression and pattern, and one read of the timezone and pending count — three statements.
 * The claim runs first so the pending count it precedes already excludes what this call fired.
 */
import type { Store } from '../store/index.js'
import { briefingCounters, briefingEntries, claimDueIntentions } from '../store/queries/awareness.js'
import type { Entry } from '../store/rows.js'
import { collateBriefing, type Briefing, type BriefingEntry } from './collator.js'

const toBriefingEntry = (e: Entry): BriefingEntry => ({
  id: e.id,
  type: e.type,
  source: e.source,
  tags: e.tags,
  created: e.created,
  updated: e.updated,
  expires: e.expires,
  data: e.data,
})

/** Computes the owner's briefing; due pending intentions become `fired` and are listed once (§4.1). */
export async function runBriefing(store: Store, owner: string, now = new Date()): Promise<Briefing> {
  const gathered = await store.withOwner(owner, async (tx) => {
    const fired = await claimDueIntentions(tx, owner, now)
    const entries = await briefingEntries(tx, owner, now)
    const counters = await briefingCounters(tx, owner, now)
    return { fired, entries, counters }
  })
  const byType = (type: string) => gathered.entries.filter((e) => e.type === type).map(toBriefingEntry)
  return collateBriefing({
    now,
    timezone: gathered.counters.timezone,
    statuses: byType('status'),
    alerts: byType('alert'),
    suppressions: byType('suppression'),
    patterns: byType('pattern'),
    firedIntentions: gathered.fired.map(toBriefingEntry),
    pendingIntentions: gathered.counters.pending,
  })
}
