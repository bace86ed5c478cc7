/**
 * Tools are data: `defineTool({...})` declares one, and `callTool` is the single boundary where a result
 * becomes text JSON content and any failure becomes the §2.4 envelope with `isError: true` (D1–D3).
 */
import { ToolError, internalError, isDatabaseUnavailable, loggableFailure } from '../../core/errors.js'
import type { ToolContext } from '../context.js'
import { argumentError, type Param, type ParamSchema } from '../params.js'

/** Logs a read of each returned entry (§2.12), written behind; a failure is logged, never the tool's. */
export function recordReads(ctx: ToolContext, entryIds: readonly string[], tool: string): Date {
  return ctx.reads.record(ctx.owner, entryIds, tool, (err: unknown) => ctx.log.warn({ err, tool }, 'read logging failed'))
}

/**
 * How a tool relates to the read log. 'fresh': its answer includes logged reads, so the dispatcher writes
 * every pending read before the handler runs (a reader can no longer forget to); a function decides per
 * call. Without it, pending reads are left to the log's own timer.
 */
export type ReadFreshness<A> = 'fresh' | ((args: A) => boolean)

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
  readonly reads?: ReadFreshness<A>
  readonly stores?: boolean
  readonly run: (ctx: ToolContext, args: A) => Promise<unknown>
}

export type AnyTool = ToolDefinition<never>

type Args<S extends Record<string, Param>> = { [K in keyof S]: S[K] extends Param<infer T> ? T : never }

/** Declares a tool; its description gets the structured-output promise every tool makes appended here. */
export function defineTool<S extends Record<string, Param>>(def: {
  name: string
  title: string
  description: string
  input: ParamSchema<S>
  annotations: ToolAnnotations
  reads?: ReadFreshness<Args<S>>
  /**
   * Whether the tool stores what it is given: only such tools are refused up front on a full disk. Defaults
   * to !readOnlyHint; readers the reference annotates as not read-only (they log reads, §2.12, or mark a
   * reminder delivered) say false, so reading goes on while writing cannot.
   */
  stores?: boolean
  run: (ctx: ToolContext, args: Args<S>) => Promise<unknown>
}): AnyTool {
  return { ...def, description: def.description + STRUCTURED_NOTE } as unknown as AnyTool
}

/** Every description ends with this promise (mcp-surface.md §3). */
const STRUCTURED_NOTE =
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
    const fresh = tool.reads === 'fresh' || (typeof tool.reads === 'function' && tool.reads(parsed.data as never))
    if (fresh) await ctx.reads.flush() // reads still waiting to be written are part of the answer
    if (tool.stores ?? tool.annotations.readOnlyHint !== true) ctx.store.assertWritable() // a full disk refuses writes up front
    const result = await tool.run(ctx, parsed.data as never)
    return textResult(JSON.stringify(result), false)
  } catch (error) {
    // An outage fails every call at once: one warning line each, not an error with a stack.
    if (isDatabaseUnavailable(error)) {
      const code = (error as { code: string }).code
      ctx.log.warn({ code, tool: tool.name }, code === '53100' ? 'database disk full' : 'database unavailable')
    }
    else if (!(error instanceof ToolError)) ctx.log.error({ failure: loggableFailure(error), tool: tool.name }, 'tool failed unexpectedly')
    return errorResult(error)
  }
}

/** The §2.4 envelope of a failure as a tool result: a ToolError as it is, anything else as internal_error. */
export function errorResult(error: unknown): CallResult {
  const toolError = error instanceof ToolError ? error : internalError(error)
  return textResult(JSON.stringify(toolError.toEnvelope()), true)
}
