/**
 * Write-time language resolution shared by the knowledge-writing tools (mcp-surface.md §2.10,
 * data-and-engine.md §7.2–§7.5): explicit code → the user's preferred language → detection → 'simple',
 * then validated against the database's own catalog so an unknown configuration never reaches the
 * generated `tsv` column (whose INSERT would fail).
 */
import type { Store, Tx } from '../../store/index.js'
import { upsertAlert } from '../../store/queries/alerts.js'
import { RegconfigCache, detectionText, isoToRegconfig, resolveLanguage, unsupportedLanguageAlert } from '../../domain/language.js'
import type { Log } from './define.js'

/** One catalog cache per store: databases differ (PGlite has `estonian`, PostgreSQL 15 does not). */
const caches = new WeakMap<Store, RegconfigCache>()

async function catalogNames(tx: Tx): Promise<string[]> {
  // In a savepoint: a failed read must not abort the caller's write transaction.
  const rows = await tx.savepoint((sp) => sp`SELECT cfgname::text AS name FROM pg_catalog.pg_ts_config`)
  return rows.map((r) => r.name as string)
}

function cacheFor(store: Store, log: Log): RegconfigCache {
  let cache = caches.get(store)
  if (cache === undefined) {
    // The default loader and sink are never used: every call passes its own transaction and logger.
    cache = new RegconfigCache(async () => ['simple'], { warn: (msg) => log.warn(msg) })
    caches.set(store, cache)
  }
  return cache
}

/**
 * `name` when the database knows that text-search configuration, else 'simple' (one catalog reload per
 * minute at most on a miss). Every write path that sets `language` passes its value through here —
 * update_entry included.
 */
export function validRegconfig(ctx: { readonly store: Store; readonly log: Log }, tx: Tx, name: string): Promise<string> {
  return cacheFor(ctx.store, ctx.log).validate(name, { load: () => catalogNames(tx), warn: (msg) => ctx.log.warn(msg) })
}

/** The owner's preferred language (users.preferences.language, an ISO 639-1 code), when a users row has one. */
export async function preferredLanguage(tx: Tx, owner: string): Promise<string | undefined> {
  const [row] = await tx`SELECT preferences->>'language' AS language FROM users WHERE id = ${owner} AND deleted IS NULL`
  const value = row?.language as string | null | undefined
  return typeof value === 'string' && value.trim() !== '' ? value : undefined
}

/**
 * Resolves the entry's text-search configuration inside the write's transaction. The preference is read
 * only when the explicit code does not decide (one primary-key lookup). When the text is in a language
 * without a configuration, raises (upserts) the owner's unsupported-language alert in a savepoint: its
 * failure never fails the write.
 */
export async function resolveWriteLanguage(
  ctx: { readonly owner: string; readonly store: Store; readonly log: Log },
  tx: Tx,
  type: string,
  data: Record<string, unknown>,
  explicit: string | undefined,
): Promise<string> {
  const preference = isoToRegconfig(explicit) === 'simple' ? await preferredLanguage(tx, ctx.owner) : undefined
  const { regconfig, unsupportedIso } = resolveLanguage({ explicit, preference, text: detectionText(type, data) })
  if (unsupportedIso !== null) {
    const alert = unsupportedLanguageAlert(unsupportedIso)
    await tx
      .savepoint((sp) => upsertAlert(sp, ctx.owner, { source: alert.source, alertId: alert.alertId, tags: alert.tags, data: alert.data }))
      .catch((err: unknown) => ctx.log.warn({ err }, 'could not record the unsupported-language alert'))
  }
  return validRegconfig(ctx, tx, regconfig)
}
