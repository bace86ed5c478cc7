/**
 * What the MCP layer hands to tools, resources and prompts. The services live as long as the store they
 * were created with (app/services.ts) and are shared by every request; the rest is per request.
 */
import type { Embedder, EmbedScheduler, Log } from '../core/ports.js'
import type { RecordValidationResult } from '../domain/json-schema.js'
import type { RegconfigCache } from '../domain/language.js'
import type { SearchIndex } from '../search/search-index.js'
import type { Store } from '../store/index.js'
import type { ReadLog } from '../store/read-log.js'

/** The store and the state created with it: one of each per store, never per request. */
export interface StoreServices {
  readonly store: Store
  /** Reads returned by tools, written behind in batches (store/read-log.ts). */
  readonly reads: ReadLog
  /** The in-memory vector caches and search settings of this store. */
  readonly search: SearchIndex
  /** The text-search configurations this store's database knows (databases differ). */
  readonly languages: RegconfigCache
  /** Record validation off the main thread, under a time limit (workers/schema-validator.ts). */
  readonly schemas: RecordValidator
}

export interface RecordValidator {
  /** Validates content against a schema entry's body; throws a ToolError when it cannot be decided. */
  validate(schemaId: string, schema: object, content: unknown): Promise<RecordValidationResult>
}

/** Everything a handler may use; handlers never import the store singleton or read globals. */
export interface ToolContext extends StoreServices {
  readonly owner: string
  readonly log: Log
  readonly embed: EmbedScheduler
  /** The configured embedding provider, or undefined when none is configured (search is then lexical). */
  readonly embedder: Embedder | undefined
  /** Sends a progress notification when the caller asked for progress (a progress token); no-op otherwise. */
  readonly progress: (progress: number, total?: number, message?: string) => Promise<void>
}

/** How one tool call of a request went, for the request's single log line. */
export interface ToolCallOutcome {
  readonly tool: string
  readonly durationMs: number
  readonly isError: boolean
}

/** What a request handler needs; the tool context is built from it only when a tool runs. */
export interface RequestContext {
  readonly owner: string
  readonly log: Log
  /** Told of every tool call the request made; without it the layer logs each call on its own line. */
  readonly noteToolCall?: (outcome: ToolCallOutcome) => void
  /** Resolves the lazily opened store's services and the other per-call pieces of a ToolContext. */
  readonly toolContext: () => Promise<Omit<ToolContext, 'progress'>>
}

export interface ResourceSurface {
  readonly resources: readonly { uri: string; name: string; title?: string; description?: string; mimeType?: string }[]
  readonly templates: readonly { uriTemplate: string; name: string; title?: string; description?: string; mimeType?: string }[]
  /** Returns the contents, or undefined for an unknown URI (a protocol error). */
  read(ctx: ToolContext, uri: string): Promise<{ uri: string; mimeType: string; text: string }[] | undefined>
}

export interface PromptSurface {
  list(ctx: ToolContext): Promise<{ name: string; title?: string; description?: string; arguments?: { name: string; description?: string; required?: boolean }[] }[]>
  /** Undefined for an unknown prompt; throws InvalidPromptArguments for missing/bad arguments. */
  get(ctx: ToolContext, name: string, args: Record<string, string>): Promise<{ description?: string; messages: { role: 'user' | 'assistant'; content: { type: 'text'; text: string } }[] } | undefined>
}

export class InvalidPromptArguments extends Error {}
