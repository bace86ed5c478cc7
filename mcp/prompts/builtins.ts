/**
 * The five built-in prompts (mcp-surface.md §6.1–§6.5, D15): markdown texts built from the caller's data.
 * Each text is a list of lines joined with "\n"; a line starting with "\n" is preceded by a blank line.
 * Headings and markers are part of the contract; the prose around them is ours.
 */
import type { Store } from '../../store/index.js'
import { activeAlerts, latestStatus, sourcePatterns } from '../../store/queries/awareness.js'
import { countByType, queryKnowledge, tagCounts } from '../../store/queries/entries.js'
import { type Entry } from '../../store/rows.js'
import { ENTRY_TYPES, KNOWLEDGE_TYPES, MAX_PAGE_LIMIT } from '../params.js'

/** Large enough to mean "all of them": prompts summarise everything that matches. */
/** The most knowledge entries a prompt reads (also bounded by the page byte budget). */
const PROMPT_ENTRIES = MAX_PAGE_LIMIT
const TAGS_SHOWN = 30

const text = (v: unknown): string => (typeof v === 'string' ? v : '')

/** At most `max` characters (code points) followed by "..." when cut; "(no description)" when missing. */
function clip(description: unknown, max: number): string {
  const s = text(description)
  if (s === '') return '(no description)'
  const chars = Array.from(s)
  return chars.length > max ? `${chars.slice(0, max).join('')}...` : s
}

const levelOf = (e: Entry): string => text(e.data.level) || 'warning'
const capitalised = (s: string): string => s.charAt(0).toUpperCase() + s.slice(1)

// ---------------------------------------------------------------------------------------------------------
// §6.1 agent_instructions

const ENTRY_HEADING = /^Awareness prompt Entry \d+ \(([^)]*)\): ([\s\S]*)$/
const ENTRY_NUMBER = /Entry (\d+)/

function entryNumber(description: string): number {
  const m = ENTRY_NUMBER.exec(description)
  return m === null ? 99 : Number(m[1])
}

export async function agentInstructions(store: Store, owner: string): Promise<string> {
  const entries = await store.withOwner(owner, async (tx) => (await queryKnowledge(tx, owner, { types: KNOWLEDGE_TYPES, tags: ['memory-prompt'] }, PROMPT_ENTRIES, 0)).entries)
  if (entries.length === 0) {
    return [
      '# Awareness Agent Instructions',
      '\nNo agent instructions found. To populate this prompt, store entries with source `awareness-prompt` and tag `memory-prompt`, ' +
        'e.g. a note whose description reads "Awareness prompt Entry 1 (Core): <instructions>".',
    ].join('\n')
  }
  // Array.prototype.sort is stable, so entries with the same number keep the store's recency order.
  const sections = entries
    .map((e) => text(e.data.description))
    .sort((a, b) => entryNumber(a) - entryNumber(b))
    .map((d) => {
      const m = ENTRY_HEADING.exec(d)
      return m === null ? d : `## ${m[1]}\n${m[2].trim()}`
    })
  return ['# Awareness Agent Instructions', '', sections.join('\n\n')].join('\n')
}

// ---------------------------------------------------------------------------------------------------------
// §6.2 project_context

function alertLines(alerts: readonly Entry[], withSource: boolean): string[] {
  return alerts.map((a) => (withSource ? `- **${levelOf(a)}** [${a.source}]: ${text(a.data.message)}` : `- **${levelOf(a)}**: ${text(a.data.message)}`))
}

export async function projectContext(store: Store, owner: string, repo: string): Promise<string> {
  const { knowledge, alerts } = await store.withOwner(owner, async (tx) => ({
    knowledge: (await queryKnowledge(tx, owner, { types: KNOWLEDGE_TYPES, tags: [repo] }, PROMPT_ENTRIES, 0)).entries,
    alerts: await activeAlerts(tx, owner, { tags: [repo] }),
  }))
  const lines = [`# Project Context: ${repo}`]
  if (knowledge.length === 0 && alerts.length === 0) {
    lines.push(`\nNo knowledge or alerts found for '${repo}'.`)
    return lines.join('\n')
  }
  if (alerts.length > 0) lines.push(`\n## Active Alerts (${alerts.length})`, ...alertLines(alerts, false))
  const byType = new Map<string, Entry[]>() // insertion order = order of first appearance
  for (const e of knowledge) {
    const group = byType.get(e.type)
    if (group) group.push(e)
    else byType.set(e.type, [e])
  }
  for (const [type, group] of byType) {
    lines.push(`\n## ${capitalised(type)} (${group.length})`, ...group.map((e) => `- [${e.source}] ${clip(e.data.description, 200)}`))
  }
  return lines.join('\n')
}

// ---------------------------------------------------------------------------------------------------------
// §6.3 system_status

const plain = (v: unknown): string => (typeof v === 'string' ? v : JSON.stringify(v) ?? String(v))

export async function systemStatus(store: Store, owner: string, source: string): Promise<string> {
  const { status, alerts, patterns } = await store.withOwner(owner, async (tx) => ({
    status: await latestStatus(tx, owner, source),
    alerts: await activeAlerts(tx, owner, { source }),
    patterns: await sourcePatterns(tx, owner, source),
  }))
  // activeAlerts treats '' as "every source"; this prompt is about exactly one source.
  const own = alerts.filter((a) => a.source === source)
  const lines = [`# System Status: ${source}`]
  if (status === undefined && own.length === 0) {
    lines.push(`\nNo status or alerts found for '${source}'.`)
    return lines.join('\n')
  }
  if (status !== undefined) {
    lines.push('\n## Current Status')
    const metrics = status.data.metrics
    if (typeof metrics === 'object' && metrics !== null && !Array.isArray(metrics)) {
      for (const [key, value] of Object.entries(metrics)) lines.push(`- ${key}: ${plain(value)}`)
    }
    if (text(status.data.description) !== '') lines.push(`- ${text(status.data.description)}`)
    lines.push(`- Last report: ${(status.updated ?? status.created).toISOString()}`)
  }
  if (own.length > 0) lines.push(`\n## Active Alerts (${own.length})`, ...alertLines(own, false))
  if (patterns.length > 0) {
    // D15: the conditions object itself, as compact JSON (the reference read a key that never exists).
    lines.push(`\n## Known Patterns (${patterns.length})`, ...patterns.map((p) => `- When: ${JSON.stringify(p.data.conditions ?? {})} -> ${text(p.data.effect)}`))
  }
  return lines.join('\n')
}

// ---------------------------------------------------------------------------------------------------------
// §6.4 write_guide

const TYPE_ORDER = ['status', 'alert', 'pattern', 'suppression', 'context', 'preference', 'note', 'intention', 'schema', 'record'] as const satisfies readonly (typeof ENTRY_TYPES)[number][]

export async function writeGuide(store: Store, owner: string): Promise<string> {
  const { stats, tags } = await store.withOwner(owner, async (tx) => ({ stats: await countByType(tx, owner), tags: await tagCounts(tx, owner) }))
  const counts = TYPE_ORDER.map((type) => [type, stats.counts[type] ?? 0] as const)
  const total = counts.reduce((n, [, c]) => n + c, 0)
  const lines = ['# Awareness Write Guide', '\n## Store Overview', `Total entries: ${total}`, ...counts.filter(([, c]) => c > 0).map(([type, c]) => `- ${type}: ${c}`)]
  lines.push(`\n## Active Sources (${stats.sources.length})`, 'Reuse these exact source names instead of inventing variants:', ...stats.sources.map((s) => `- \`${s}\``))
  lines.push(`\n## Tags in Use (${tags.length})`, 'Check this list before creating a new tag:', ...tags.slice(0, TAGS_SHOWN).map((t) => `- \`${t.tag}\` (${t.count})`))
  if (tags.length > TAGS_SHOWN) lines.push(`- ... and ${tags.length - TAGS_SHOWN} more`)
  lines.push(
    '\n## Quick Reference',
    '- `remember` for general notes and durable facts (the default write tool)',
    '- `learn_pattern` only for condition/effect pairs ("when X, expect Y") that the collator uses to explain alerts',
    '- `add_context` for time-limited context that will go stale',
    '- `set_preference` for behavioural preferences (upserted by key + scope)',
    '- use `logical_key` for living documents that should be updated in place (upsert) rather than duplicated',
  )
  return lines.join('\n')
}

// ---------------------------------------------------------------------------------------------------------
// §6.5 catchup

export async function catchup(store: Store, owner: string, hours: number, now = new Date()): Promise<string> {
  // A window reaching before 1970 covers everything this service can hold; clamping keeps the date valid.
  const since = new Date(Math.max(0, now.getTime() - hours * 3_600_000))
  const { knowledge, alerts } = await store.withOwner(owner, async (tx) => ({
    knowledge: (await queryKnowledge(tx, owner, { types: KNOWLEDGE_TYPES, since }, PROMPT_ENTRIES, 0)).entries,
    alerts: await activeAlerts(tx, owner, { since }),
  }))
  const lines = [`# Catchup — last ${hours} hours`]
  if (knowledge.length === 0 && alerts.length === 0) {
    lines.push(`\nNothing changed in the last ${hours} hours — you are up to date.`)
    return lines.join('\n')
  }
  if (alerts.length > 0) lines.push(`\n## New/Updated Alerts (${alerts.length})`, ...alertLines(alerts, true))
  if (knowledge.length > 0) {
    lines.push(`\n## Updated Knowledge (${knowledge.length} entries)`)
    const bySource = new Map<string, Entry[]>()
    for (const e of knowledge) {
      const group = bySource.get(e.source)
      if (group) group.push(e)
      else bySource.set(e.source, [e])
    }
    for (const source of [...bySource.keys()].sort()) {
      const group = bySource.get(source) ?? []
      lines.push(`\n### ${source} (${group.length})`)
      for (const e of group) {
        const changed = Array.isArray(e.data.changelog) && e.data.changelog.length > 0
        lines.push(`- ${clip(e.data.description, 150)}${changed ? ' [updated]' : ' [new]'}`)
      }
    }
  }
  return lines.join('\n')
}
