/**
 * Custom prompts `user/<key>` (mcp-surface.md §6.6, D16): built from the CALLER's own live entries with
 * source `custom-prompt`, never from another owner's. A small per-owner cache (a few seconds, bounded in
 * size) absorbs the usual prompts/list → prompts/get burst; changes show well within the 60 s the spec allows.
 */
import type { Store } from '../../store/index.js'
import { entriesOfSource } from '../../store/queries/awareness.js'
import type { Entry } from '../../store/rows.js'

export const CUSTOM_PROMPT_SOURCE = 'custom-prompt'
export const CUSTOM_PREFIX = 'user/'

export interface CustomPrompt {
  name: string
  description: string
  template: string
  /** Distinct `{{name}}` placeholders, in order of first appearance. */
  arguments: string[]
}

const PLACEHOLDER = /\{\{([A-Za-z0-9_]+)\}\}/g

export function placeholders(template: string): string[] {
  return [...new Set(Array.from(template.matchAll(PLACEHOLDER), (m) => m[1]))]
}

/** Replaces every `{{name}}` whose name has a value; other text is left exactly as written. */
export function renderTemplate(template: string, values: Readonly<Record<string, string>>): string {
  return template.replace(PLACEHOLDER, (whole, name: string) => (Object.hasOwn(values, name) ? values[name] : whole))
}

/** One definition per name; entries arrive newest activity first, so the most recently active one wins. */
export function customPrompts(entries: readonly Entry[]): Map<string, CustomPrompt> {
  const prompts = new Map<string, CustomPrompt>()
  for (const e of entries) {
    const name = `${CUSTOM_PREFIX}${e.logicalKey ?? e.id}`
    if (prompts.has(name)) continue
    const description = typeof e.data.description === 'string' ? e.data.description : ''
    const template = typeof e.data.content === 'string' ? e.data.content : description
    prompts.set(name, { name, description, template, arguments: placeholders(template) })
  }
  return prompts
}

export interface CustomPromptCacheOptions {
  /** How long one owner's definitions are reused (the spec allows up to 60 s). */
  readonly ttlMs?: number
  /** Owners kept at most; the least recently loaded is dropped first. */
  readonly maxOwners?: number
}

export class CustomPromptCache {
  private readonly entries = new Map<string, { at: number; prompts: Promise<Map<string, CustomPrompt>> }>()
  private readonly ttlMs: number
  private readonly maxOwners: number

  constructor(opts: CustomPromptCacheOptions = {}) {
    this.ttlMs = opts.ttlMs ?? 5_000
    this.maxOwners = opts.maxOwners ?? 256
  }

  /** The owner's custom prompts; concurrent callers share one load. A failed load is not kept. */
  get(store: Store, owner: string, now = Date.now()): Promise<Map<string, CustomPrompt>> {
    const hit = this.entries.get(owner)
    if (hit !== undefined && now - hit.at < this.ttlMs) return hit.prompts
    const prompts = store.withOwner(owner, (tx) => entriesOfSource(tx, owner, CUSTOM_PROMPT_SOURCE)).then(customPrompts)
    this.entries.delete(owner) // re-inserted last: Map order is the eviction order
    this.entries.set(owner, { at: now, prompts })
    prompts.catch(() => {
      if (this.entries.get(owner)?.prompts === prompts) this.entries.delete(owner)
    })
    while (this.entries.size > this.maxOwners) {
      const oldest = this.entries.keys().next().value
      if (oldest === undefined) break
      this.entries.delete(oldest)
    }
    return prompts
  }
}
