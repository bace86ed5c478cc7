/**
 * The users table (data-and-engine.md §2.5, §4.6): lookups for OAuth owner resolution (http-and-operations.md
 * §9.6) and the operator CLI (§17.4). `users` has no row-level security, so these run in any transaction.
 */
import { and, type Tx } from '../sql.js'

/** Lower-case and trim; drop the local part's `+tag`; Gmail ignores dots and has two domain names. */
export function canonicalEmail(email: string): string {
  const lowered = email.trim().toLowerCase()
  const at = lowered.indexOf('@')
  if (at === -1) return lowered
  let local = lowered.slice(0, at)
  let domain = lowered.slice(at + 1)
  const plus = local.indexOf('+')
  if (plus !== -1) local = local.slice(0, plus)
  if (domain === 'gmail.com' || domain === 'googlemail.com') {
    local = local.replaceAll('.', '')
    domain = 'gmail.com'
  }
  return `${local}@${domain}`
}

/** The id of the active user holding this OAuth identity. */
export async function findUserByOAuth(tx: Tx, issuer: string, subject: string): Promise<string | undefined> {
  const [row] = await tx`SELECT id FROM users WHERE oauth_issuer = ${issuer} AND oauth_subject = ${subject} AND deleted IS NULL`
  return row?.id as string | undefined
}

/**
 * Fills email, canonical email and display name where they are still NULL. `updated` moves only when a
 * column actually changed (the reference rewrote it on every request, risk R10).
 */
export async function fillUserProfile(tx: Tx, id: string, email: string | undefined, name: string | undefined): Promise<void> {
  const canonical = email === undefined ? null : canonicalEmail(email)
  await tx`
    UPDATE users SET
      email = coalesce(email, ${email ?? null}),
      canonical_email = coalesce(canonical_email, ${canonical}),
      display_name = coalesce(display_name, ${name ?? null}),
      updated = now()
    WHERE id = ${id} AND deleted IS NULL
      AND ((email IS NULL AND ${email ?? null}::text IS NOT NULL)
        OR (canonical_email IS NULL AND ${canonical}::text IS NOT NULL)
        OR (display_name IS NULL AND ${name ?? null}::text IS NOT NULL))`
}

/** Links a pre-provisioned user (matched by canonical email, not yet linked) to an OAuth identity. */
export async function linkOAuthIdentity(tx: Tx, issuer: string, subject: string, email: string): Promise<string | undefined> {
  const [row] = await tx`
    UPDATE users SET oauth_subject = ${subject}, oauth_issuer = ${issuer}, updated = now()
    WHERE id = (SELECT id FROM users WHERE canonical_email = ${canonicalEmail(email)} AND oauth_subject IS NULL AND deleted IS NULL LIMIT 1)
    RETURNING id`
  return row?.id as string | undefined
}

export interface NewUser {
  id: string
  email?: string | null
  displayName?: string | null
  phone?: string | null
  timezone?: string | null
  oauthSubject?: string | null
  oauthIssuer?: string | null
}

/** Auto-provisioning: inserts the user unless the id, canonical email or OAuth identity is taken. */
export async function createUserIfNotExists(tx: Tx, u: NewUser): Promise<boolean> {
  const rows = await tx`
    INSERT INTO users (id, email, canonical_email, display_name, oauth_subject, oauth_issuer)
    VALUES (${u.id}, ${u.email ?? null}, ${u.email == null ? null : canonicalEmail(u.email)}, ${u.displayName ?? null},
            ${u.oauthSubject ?? null}, ${u.oauthIssuer ?? null})
    ON CONFLICT DO NOTHING
    RETURNING id`
  return rows.length === 1
}

/** The CLI's `users add`: a duplicate id or canonical email raises the unique violation to the caller. */
export async function insertUser(tx: Tx, u: NewUser): Promise<void> {
  await tx`
    INSERT INTO users (id, email, canonical_email, phone, display_name, timezone)
    VALUES (${u.id}, ${u.email ?? null}, ${u.email == null ? null : canonicalEmail(u.email)}, ${u.phone ?? null},
            ${u.displayName ?? null}, ${u.timezone ?? 'UTC'})`
}

export interface UserSummary {
  id: string
  email: string | null
  displayName: string | null
  timezone: string | null
}

export async function listUsers(tx: Tx): Promise<UserSummary[]> {
  const rows = await tx`SELECT id, email, display_name, timezone FROM users WHERE deleted IS NULL ORDER BY id`
  return rows.map((r) => ({ id: r.id as string, email: r.email as string | null, displayName: r.display_name as string | null, timezone: r.timezone as string | null }))
}

export async function activeUserExists(tx: Tx, id: string): Promise<boolean> {
  const [row] = await tx`SELECT 1 AS one FROM users WHERE id = ${id} AND deleted IS NULL`
  return row !== undefined
}

export async function setPasswordHash(tx: Tx, id: string, hash: string): Promise<boolean> {
  const rows = await tx`UPDATE users SET password_hash = ${hash}, updated = now() WHERE id = ${id} AND deleted IS NULL RETURNING id`
  return rows.length === 1
}

/** The exported profile: every column except the password hash (security fix of the reference's 0.15.0). */
export async function getUserProfile(tx: Tx, id: string): Promise<Record<string, unknown> | undefined> {
  const [row] = await tx`
    SELECT id, email, canonical_email, email_verified, display_name, phone, phone_verified, timezone, preferences,
           oauth_subject, oauth_issuer, created, updated
    FROM users WHERE id = ${id} AND deleted IS NULL`
  return row === undefined ? undefined : { ...row }
}

/** Back to the connection's own role inside an owner transaction: the users table is outside the RLS role's grants. */
export async function leaveOwnerRole(tx: Tx): Promise<void> {
  await tx`RESET ROLE`
}

/** Hard-deletes the user row and its cleanup bookkeeping; true when a row was removed. */
export async function deleteUserRow(tx: Tx, id: string): Promise<boolean> {
  await tx`DELETE FROM owner_settings WHERE owner_id = ${id}`
  const rows = await tx`DELETE FROM users WHERE id = ${id} AND deleted IS NULL RETURNING id`
  return rows.length === 1
}

// ---- the owner's data, for export and erasure (run these inside withOwner: RLS applies, risk R19) ----

export interface OwnerData {
  entries: Record<string, unknown>[]
  reads: Record<string, unknown>[]
  actions: Record<string, unknown>[]
}

/** Every row the owner has, trashed entries included; `tsv` is derived, so it is left out. */
export async function ownerData(tx: Tx, owner: string): Promise<OwnerData> {
  const entries = await tx`
    SELECT id, type, source, tags, created, updated, expires, deleted, data, logical_key, language::text AS language
    FROM entries WHERE owner_id = ${owner} ORDER BY created, id`
  const reads = await tx`SELECT id, entry_id, "timestamp", platform, tool_used FROM reads WHERE owner_id = ${owner} ORDER BY "timestamp", id`
  const actions = await tx`SELECT id, entry_id, "timestamp", platform, action, detail, tags FROM actions WHERE owner_id = ${owner} ORDER BY "timestamp", id`
  return { entries: [...entries], reads: [...reads], actions: [...actions] }
}

/** Deletes reads, actions and entries (embeddings follow by cascade); returns the counts. */
export async function deleteOwnerData(tx: Tx, owner: string): Promise<{ entries: number; reads: number; actions: number }> {
  const reads = await tx`DELETE FROM reads WHERE owner_id = ${owner}`
  const actions = await tx`DELETE FROM actions WHERE owner_id = ${owner}`
  await tx`DELETE FROM embeddings WHERE owner_id = ${owner}`
  const entries = await tx`DELETE FROM entries WHERE owner_id = ${owner}`
  return { entries: entries.count, reads: reads.count, actions: actions.count }
}
