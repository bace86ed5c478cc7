/**
 * Tools are data: `defineTool({...})` declares one, and `callTool` is the single boundary where a result
 * becomes text JSON content and any failure becomes the §2.4 envelope with `isError: true` (D1–D3).
 */
import type { Logger } from 'pino'
import type { Store } from '../../store/index.js'
import { ToolError, internalError } from '../../core/errors.js'
import { argumentError, type Param, type ParamSchema } from '../params.js'

/** Fire-and-forget embedding of a written entry (mcp-surface.md §2.11). */
export interface EmbedScheduler {
  schedule(owner: string, entryId: string): void
}

/** Embedding provider access for search and backfill; computed in worker threads. */
export interface Embedder {
  readonly modelName: string
  readonly dimensions: number
  embed(texts: string[]): Promise<number[][]>
  available(): Promise<boolean>
}

/** The logging a handler may do (pino's methods; Fastify's request logger satisfies it too). */
export type Log = Pick<Logger, 'debug' | 'info' | 'warn' | 'error'>

/** Everything a handler may use; handlers never import the store singleton or read globals. */
export interface ToolContext {
  readonly owner: string
  readonly log: Log
  readonly store: Store
  readonly embed: EmbedScheduler
  /** The configured embedding provider, or undefined when none is configured (search is then lexical). */
  readonly embedder: Embedder | undefined
  /** Sends a progress notification when the caller asked for progress (a progress token); no-op otherwise. */
  readonly progress: (progress: number, total?: number, message?: string) => Promise<void>
}

/** Logs a read of each returned entry (§2.12), written behind; a failure is logged, never the tool's. */
export function recordReads(ctx: ToolContext, entryIds: readonly string[], tool: string): Date {
  return ctx.store.reads.record(ctx.owner, entryIds, tool, (err: unknown) => ctx.log.warn({ err, tool }, 'read logging failed'))
}

export interface ToolAnnotations {
  readOnlyHint?: boolean
  destructiveHint?: boolean
  idempotentHint?: boolean
  openWorldHint?: boolean
}

export interface ToolDefinition<A = Record<string, unknown>> {
  readonly name: string
  readonly title: string
  readonly description: string
  readonly input: ParamSchema<Record<string, Param>>
  readonly annotations: ToolAnnotations
  readonly run: (ctx: ToolContext, args: A) => Promise<unknown>
}

export type AnyTool = ToolDefinition<never>

export function defineTool<S extends Record<string, Param>>(def: {
  name: string
  title: string
  description: string
  input: ParamSchema<S>
  annotations: ToolAnnotations
  run: (ctx: ToolContext, args: { [K in keyof S]: S[K] extends Param<infer T> ? T : never }) => Promise<unknown>
}): AnyTool {
  return def as unknown as AnyTool
}

/** Every description ends with this promise (mcp-surface.md §3). */
export const STRUCTURED_NOTE =
  ' Always answers with structured JSON (errors too: {"status":"error","error":{code,message,retryable,…}}); an unstructured failure means a transport or platform problem, not this tool.'

/** Output schema advertised for every tool, for parity with the reference's clients (§2.2). */
export const RESULT_OUTPUT_SCHEMA = { type: 'object', properties: { result: { type: 'string' } }, required: ['result'] } as const

export interface CallResult {
  [key: string]: unknown
  content: { type: 'text'; text: string }[]
  structuredContent: { result: string }
  isError?: boolean
}

function textResult(text: string, isError: boolean): CallResult {
  const out: CallResult = { content: [{ type: 'text', text }], structuredContent: { result: text } }
  if (isError) out.isError = true
  return out
}

/** Validates arguments, runs the handler, and encodes the outcome. Never throws. */
export async function callTool(tool: AnyTool, rawArgs: unknown, ctx: ToolContext): Promise<CallResult> {
  const args = (typeof rawArgs === 'object' && rawArgs !== null && !Array.isArray(rawArgs) ? rawArgs : {}) as Record<string, unknown>
  try {
    const parsed = tool.input.zod.safeParse(args)
    if (!parsed.success) throw argumentError(parsed.error, args)
    const result = await tool.run(ctx, parsed.data as never)
    return textResult(JSON.stringify(result), false)
  } catch (error) {
    const toolError = error instanceof ToolError ? error : internalError(error)
    if (!(error instanceof ToolError)) ctx.log.error({ err: error, tool: tool.name }, 'tool failed unexpectedly')
    return textResult(JSON.stringify(toolError.toEnvelope()), true)
  }
}
