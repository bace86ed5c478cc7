/**
 * Write-time language resolution shared by the knowledge-writing tools (mcp-surface.md §2.10,
 * data-and-engine.md §7.2–§7.5): explicit code → the user's preferred language → detection → 'simple',
 * then validated against the database's own catalog so an unknown configuration never reaches the
 * generated `tsv` column (whose INSERT would fail).
 */
import type { Log } from '../../core/ports.js'
import { detectionText, isoToRegconfig, resolveLanguage, unsupportedLanguageAlert, type RegconfigCache } from '../../domain/language.js'
import type { Tx } from '../../store/index.js'
import { upsertAlert } from '../../store/queries/alerts.js'
import { catalogNames, preferredLanguage } from '../../store/queries/language.js'

/**
 * `name` when the database knows that text-search configuration, else 'simple' (one catalog reload per
 * minute at most on a miss). Every write path that sets `language` passes its value through here —
 * update_entry included.
 */
export function validRegconfig(ctx: { readonly languages: RegconfigCache; readonly log: Log }, tx: Tx, name: string): Promise<string> {
  return ctx.languages.validate(name, { load: () => catalogNames(tx), warn: (msg) => ctx.log.warn(msg) })
}

/**
 * Resolves the entry's text-search configuration inside the write's transaction. The preference is read
 * only when the explicit code does not decide (one primary-key lookup). When the text is in a language
 * without a configuration, raises (upserts) the owner's unsupported-language alert in a savepoint: its
 * failure never fails the write.
 */
export async function resolveWriteLanguage(
  ctx: { readonly owner: string; readonly languages: RegconfigCache; readonly log: Log },
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
