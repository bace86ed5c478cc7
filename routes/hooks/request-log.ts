/**
 * One log line per request on the MCP path (http-and-operations.md §12), written when the response ends
 * or the client goes away — also for hijacked replies, which skip Fastify's onResponse hook. Carries the
 * JSON-RPC method and tool name, never arguments, bodies, tokens or the mount path.
 */
import type { FastifyReply, FastifyRequest } from 'fastify'

declare module 'fastify' {
  interface FastifyRequest {
    /** Why a hook refused the request (403/401/429), for the log line. */
    rejectReason?: string
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

function sessionLabel(value: string | string[] | undefined): string {
  if (typeof value !== 'string' || value === '') return 'none'
  return value.length > 12 ? `${value.slice(0, 12)}…` : value
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
      session,
      owner: request.ownerId,
      ...rpcSummary(request.body),
      ...(request.rejectReason === undefined ? {} : { reason: request.rejectReason }),
    }
    request.log.info(fields, `MCP ${request.method} /mcp session=${session} client=${request.ip} status=${status}`)
  })
}
