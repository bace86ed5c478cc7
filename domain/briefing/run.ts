/**
 * The briefing for one owner (mcp-surface.md §3.1, §4.6; data-and-engine.md §8): gathers the collator's
 * inputs and claims the due intentions in one short transaction, then collates (pure, collate.ts).
 *
 * The statement count is fixed whatever the number of sources (no N+1): the claim, then one read of every
 * status, alert, suppression and pattern with the owner's timezone and pending count — two statements.
 * The claim runs first, so the pending count already excludes what this call fired.
 */
import type { Store } from '../../store/index.js'
import { briefingInputs, claimDueIntentions } from '../../store/queries/awareness.js'
import { collateBriefing, type Briefing } from './collate.js'

/** Computes the owner's briefing; due pending intentions become `fired` and are listed once (§4.1). */
export async function runBriefing(store: Store, owner: string, now = new Date()): Promise<Briefing> {
  const gathered = await store.withOwner(owner, async (tx) => {
    const fired = await claimDueIntentions(tx, owner, now)
    return { fired, ...(await briefingInputs(tx, owner, now)) }
  })
  // Entries satisfy the collator's BriefingEntry shape as they are.
  const byType = (type: string) => gathered.entries.filter((e) => e.type === type)
  return collateBriefing({
    now,
    timezone: gathered.timezone,
    statuses: byType('status'),
    alerts: byType('alert'),
    suppressions: byType('suppression'),
    patterns: byType('pattern'),
    firedIntentions: gathered.fired,
    pendingIntentions: gathered.pending,
  })
}
