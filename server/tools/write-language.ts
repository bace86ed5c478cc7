/**
 * Write-time language resolution shared by the knowledge-writing tools (mcp-surface.md §2.10).
 */
import type { Tx } from '../../store/index.js'
import { upsertAlert } from '../../store/queries/alerts.js'
import { detectionText, resolveLanguage, unsupportedLanguageAlert } from '../language.js'
import type { ToolContext } from './define.js'

/**
 * Resolves the entry's text-search configuration. When the text is in a language without a configuration,
 * raises (upserts) the owner's unsupported-language alert in a savepoint: its failure never fails the write.
 */
export async function resolveWriteLanguage(ctx: ToolContext, tx: Tx, type: string, data: Record<string, unknown>, explicit: string | undefined): Promise<string> {
  const { regconfig, unsupportedIso } = resolveLanguage({ explicit, text: detectionText(type, data) })
  if (unsupportedIso !== null) {
    const alert = unsupportedLanguageAlert(unsupportedIso)
    await tx
      .savepoint((sp) => upsertAlert(sp, ctx.owner, { source: alert.source, alertId: alert.alertId, tags: alert.tags, data: alert.data }))
      .catch((err: unknown) => ctx.log.warn({ err }, 'could not record the unsupported-language alert'))
  }
  return regconfig
}
