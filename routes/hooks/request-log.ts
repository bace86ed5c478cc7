/**
 * One log line per request on the MCP path (http-and-operations.md §12), written when the response ends
 * or the client goes away — also for hijacked replies, which skip Fastify's onResponse hook. Carries the
 * JSON-RPC method, the tool, its own duration and whether it answered an error (one line per call, where
 * the reference's tool timing made a second one), never arguments, bodies, tokens or the mount path.
 * A stateless server sees no session ids: `session` appears only when a client sends one anyway.
 */
import type { FastifyReply, FastifyRequest } from 'fastify'
import type { ToolCallOutcome } from '../../mcp/context.js'

declare module 'fastify' {
  interface FastifyRequest {
    /** Why a hook refused the request (403/401/429), for the log line. */
    rejectReason?: string
    /** The tool calls this request made (a batch can make several), noted by the MCP layer. */
    toolCalls?: ToolCallOutcome[]
  }
}

function rpcSummary(body: unknown): { rpcMethod?: string; tool?: string } {
  const first = Array.isArray(body) ? body[0] : body
  if (typeof first !== 'object' || first === null) return {}
  const m = first as { method?: unknown; params?: { name?: unknown } }
  const rpcMethod = typeof m.method === 'string' ? m.method : undefined
  const tool = rpcMethod === 'tools/call' && typeof m.params?.name === 'string' ? m.params.name : undefined
  return { rpcMethod, tool }
}

function sessionLabel(value: string | string[] | undefined): string | undefined {
  if (typeof value !== 'string' || value === '') return undefined
  return value.length > 12 ? `${value.slice(0, 12)}…` : value
}

function toolFields(calls: readonly ToolCallOutcome[] | undefined): Record<string, unknown> {
  if (calls === undefined || calls.length === 0) return {}
  if (calls.length === 1) return { toolMs: calls[0].durationMs, isError: calls[0].isError }
  return { tools: calls.map((c) => c.tool), toolMs: calls.map((c) => c.durationMs), isError: calls.some((c) => c.isError) }
}

export function logMcpRequest(request: FastifyRequest, reply: FastifyReply): void {
  const started = performance.now()
  let logged = false
  reply.raw.once('close', () => {
    if (logged) return
    logged = true
    const status = reply.raw.headersSent ? reply.raw.statusCode : 0
    const session = sessionLabel(request.headers['mcp-session-id'])
    const fields = {
      client: request.ip,
      method: request.method,
      path: '/mcp',
      status,
      durationMs: Math.round((performance.now() - started) * 10) / 10,
      ...(session === undefined ? {} : { session }),
      owner: request.ownerId,
      ...rpcSummary(request.body),
      ...toolFields(request.toolCalls),
      ...(request.rejectReason === undefined ? {} : { reason: request.rejectReason }),
    }
    const sessionPart = session === undefined ? '' : ` session=${session}`
    request.log.info(fields, `MCP ${request.method} /mcp${sessionPart} client=${request.ip} status=${status}`)
  })
}
