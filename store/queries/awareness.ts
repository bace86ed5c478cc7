/**
 * Awareness reads and writes (data-and-engine.md §4.1, §4.2, §8.1, §9.4): statuses, active alerts,
 * suppressions, patterns, intentions and the owner's timezone. Every statement filters by owner; RLS
 * enforces it again. Reads hide entries past their expiry (product decision 7).
 */
import { and, entryColumns, type Tx, type Fragment } from '../sql.js'
import { toEntry, type Entry } from '../rows.js'
import { insertEntry } from './entries.js'
import { lockKey } from './alerts.js'

const live = (tx: Tx, owner: string, now: Date): Fragment[] => [tx`owner_id = ${owner}`, tx`deleted IS NULL`, tx`(expires IS NULL OR expires > ${now})`]
/** Only a JSON `true` counts as resolved (a string "true" does not), as in the reference. */
const unresolved = (tx: Tx): Fragment => tx`NOT data @> '{"resolved": true}'`

/**
 * Replaces the source's status (§4.1 upsert_status): its live statuses are removed for good (reads,
 * actions and embeddings cascade) and a fresh one is inserted. The advisory lock serialises concurrent
 * reports of one source, which the reference does not (§12.2), so exactly one status survives.
 */
export async function replaceStatus(tx: Tx, owner: string, s: { source: string; tags: string[]; data: Record<string, unknown> }, now = new Date()): Promise<Entry> {
  await lockKey(tx, `status:${owner}:${s.source}`)
  await tx`DELETE FROM entries WHERE owner_id = ${owner} AND type = 'status' AND source = ${s.source} AND deleted IS NULL`
  return insertEntry(tx, owner, { type: 'status', source: s.source, tags: s.tags, data: s.data }, now)
}

/** The source's newest live status, stale or not. */
export async function latestStatus(tx: Tx, owner: string, source: string, now = new Date()): Promise<Entry | undefined> {
  const [row] = await tx`
    SELECT ${entryColumns(tx)} FROM entries
    WHERE ${and(tx, live(tx, owner, now))} AND type = 'status' AND source = ${source}
    ORDER BY created DESC, id LIMIT 1`
  return row ? toEntry(row) : undefined
}

export interface AlertFilter {
  /** Exact source; undefined or '' = every source (§2.9). */
  source?: string
  /** Activity time at or after. */
  since?: Date
  /** Every one of these tags (AND). */
  tags?: string[]
}

/** Live, unresolved, unexpired alerts, newest activity first; `limit` undefined = all (LIMIT NULL). */
export async function activeAlerts(tx: Tx, owner: string, f: AlertFilter = {}, limit?: number, offset = 0, now = new Date()): Promise<Entry[]> {
  const conds = [...live(tx, owner, now), tx`type = 'alert'`, unresolved(tx)]
  if (f.source !== undefined && f.source !== '') conds.push(tx`source = ${f.source}`)
  if (f.since !== undefined) conds.push(tx`coalesce(updated, created) >= ${f.since}`)
  if (f.tags !== undefined && f.tags.length > 0) conds.push(tx`tags @> ${tx.json(f.tags)}`)
  const rows = await tx`
    SELECT ${entryColumns(tx)} FROM entries WHERE ${and(tx, conds)}
    ORDER BY coalesce(updated, created) DESC, id
    LIMIT ${limit ?? null} OFFSET ${offset}`
  return rows.map(toEntry)
}

/** Live suppressions still in force (global and per source), newest activity first. */
export async function activeSuppressions(tx: Tx, owner: string, now = new Date()): Promise<Entry[]> {
  const rows = await tx`
    SELECT ${entryColumns(tx)} FROM entries WHERE ${and(tx, live(tx, owner, now))} AND type = 'suppression'
    ORDER BY coalesce(updated, created) DESC, id`
  return rows.map(toEntry)
}

/** Live patterns of exactly this source, newest activity first. */
export async function sourcePatterns(tx: Tx, owner: string, source: string, now = new Date()): Promise<Entry[]> {
  const rows = await tx`
    SELECT ${entryColumns(tx)} FROM entries WHERE ${and(tx, live(tx, owner, now))} AND type = 'pattern' AND source = ${source}
    ORDER BY coalesce(updated, created) DESC, id`
  return rows.map(toEntry)
}

export interface BriefingInputs {
  /** Live statuses, active alerts, suppressions in force and patterns, newest activity first. */
  entries: Entry[]
  /** The owner's IANA timezone (users.timezone), 'UTC' when unset. */
  timezone: string
  /** Live intentions still pending. */
  pending: number
}

/**
 * Everything the collator reads, in ONE statement whatever the number of sources (§8.1). The rows travel
 * as one JSON array: decoding a few hundred rows column by column cost the main thread about twice the
 * CPU (measured with 290 rows on PostgreSQL 15: ~1.7 ms against ~0.8 ms per briefing).
 */
export async function briefingInputs(tx: Tx, owner: string, now: Date): Promise<BriefingInputs> {
  const [row] = await tx`
    SELECT
      (SELECT coalesce(json_agg(json_build_object(
                'id', id, 'owner_id', owner_id, 'type', type, 'source', source, 'tags', tags, 'created', created,
                'updated', updated, 'expires', expires, 'deleted', deleted, 'data', data, 'logical_key', logical_key,
                'language', language::text)
              ORDER BY coalesce(updated, created) DESC, id), '[]')::text
         FROM entries
         WHERE ${and(tx, live(tx, owner, now))}
           AND type IN ('status', 'alert', 'suppression', 'pattern')
           AND (type <> 'alert' OR ${unresolved(tx)})) AS rows,
      (SELECT timezone FROM users WHERE id = ${owner}) AS timezone,
      (SELECT count(*)::int FROM entries
         WHERE ${and(tx, live(tx, owner, now))} AND type = 'intention' AND data->>'state' = 'pending') AS pending`
  const rows = JSON.parse(row.rows as string) as Record<string, unknown>[]
  for (const r of rows) {
    // JSON carries timestamps as ISO text; the row mapping expects what the driver gives for columns.
    for (const column of ['created', 'updated', 'expires', 'deleted']) r[column] = typeof r[column] === 'string' ? new Date(r[column] as string) : null
  }
  const tz = row.timezone
  return { entries: rows.map(toEntry), timezone: typeof tz === 'string' && tz !== '' ? tz : 'UTC', pending: row.pending as number }
}

/**
 * `deliver_at` as a timestamptz, or NULL when it is not a well-formed ISO 8601 instant. A malformed value
 * in one intention made the reference's briefing fail for good (§12.29); the nested CASEs make sure the
 * cast only ever sees text that matches the shape, names a real calendar day and a zone PostgreSQL accepts
 * (±15:59 at most). A value without a zone means UTC, whatever the session's TimeZone.
 */
const DELIVER_AT = `CASE WHEN data->>'deliver_at' ~ '^[0-9]{4}-(0[1-9]|1[0-2])-(0[1-9]|[12][0-9]|3[01])([T ]([01][0-9]|2[0-3]):[0-5][0-9](:[0-5][0-9](\\.[0-9]{1,9})?)?(Z|[+-](0[0-9]|1[0-5])(:?[0-5][0-9])?)?)?$'
       AND data->>'deliver_at' !~ '^0000'
  THEN CASE WHEN substr(data->>'deliver_at', 9, 2)::int <= extract(day FROM make_date(substr(data->>'deliver_at', 1, 4)::int, substr(data->>'deliver_at', 6, 2)::int, 1) + interval '1 month' - interval '1 day')
    THEN CASE WHEN data->>'deliver_at' ~ '[T ][0-9:.]+(Z|[+-][0-9:]+)$' THEN (data->>'deliver_at')::timestamptz
              ELSE (data->>'deliver_at')::timestamp AT TIME ZONE 'UTC' END
  END END`

export const FIRED_REASON = 'Delivered via briefing'

/**
 * Claims the due pending intentions and moves them to `fired` in ONE conditional UPDATE (§8.5, Ours).
 * A row is claimed only while it is still `pending`: when briefings race — in this process or on another
 * instance — the later one waits on the row lock, re-checks the committed `fired` state and skips the row,
 * so only the rows this statement changed come back and each intention is delivered exactly once. The
 * rows are locked in id order, so two briefings claiming several intentions cannot deadlock each other.
 */
export async function claimDueIntentions(tx: Tx, owner: string, now: Date): Promise<Entry[]> {
  const stamp = now.toISOString()
  const rows = await tx`
    UPDATE entries SET updated = ${now},
      data = data || jsonb_build_object(
        'state', 'fired',
        'state_reason', ${FIRED_REASON}::text,
        'changelog', (CASE WHEN jsonb_typeof(data->'changelog') = 'array' THEN data->'changelog' ELSE '[]'::jsonb END)
          || jsonb_build_array(jsonb_build_object(
               'updated', ${stamp}::text,
               'changed', jsonb_build_object('state', 'pending')
                 || CASE WHEN jsonb_typeof(data->'state_reason') IS NOT NULL AND jsonb_typeof(data->'state_reason') <> 'null'
                         THEN jsonb_build_object('state_reason', data->'state_reason') ELSE '{}'::jsonb END)))
    WHERE owner_id = ${owner} AND data->>'state' = 'pending' AND id IN (
      SELECT id FROM entries
      WHERE ${and(tx, live(tx, owner, now))} AND type = 'intention'
        AND data->>'state' = 'pending'
        AND (${tx.unsafe(DELIVER_AT)}) <= ${now}
      ORDER BY id
      FOR UPDATE)
    RETURNING ${entryColumns(tx)}`
  // Earliest due first, the order a person would want them in (the values passed the guard above).
  const due = (e: Entry) => Date.parse(String(e.data.deliver_at))
  return rows.map(toEntry).sort((a, b) => due(a) - due(b) || (a.id < b.id ? -1 : 1))
}

export interface IntentionFilter {
  state?: string
  /** undefined or '' = every source (§2.9). */
  source?: string
  tags?: string[]
}

/** Live intentions, newest activity first. */
export async function queryIntentions(tx: Tx, owner: string, f: IntentionFilter, limit: number, now = new Date()): Promise<Entry[]> {
  const conds = [...live(tx, owner, now), tx`type = 'intention'`]
  if (f.state !== undefined) conds.push(tx`data->>'state' = ${f.state}`)
  if (f.source !== undefined && f.source !== '') conds.push(tx`source = ${f.source}`)
  if (f.tags !== undefined && f.tags.length > 0) conds.push(tx`tags @> ${tx.json(f.tags)}`)
  const rows = await tx`
    SELECT ${entryColumns(tx)} FROM entries WHERE ${and(tx, conds)}
    ORDER BY coalesce(updated, created) DESC, id LIMIT ${limit}`
  return rows.map(toEntry)
}

/** The caller's live entries of any type with this source (custom prompt definitions), newest activity first. */
export async function entriesOfSource(tx: Tx, owner: string, source: string, now = new Date()): Promise<Entry[]> {
  const rows = await tx`
    SELECT ${entryColumns(tx)} FROM entries WHERE ${and(tx, live(tx, owner, now))} AND source = ${source}
    ORDER BY coalesce(updated, created) DESC, id`
  return rows.map(toEntry)
}
