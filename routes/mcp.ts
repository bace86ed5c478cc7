/**
 * POST {mount}/mcp, stateless: every message is self-contained and served by the MCP layer; every other
 * method answers 405 (decision 1), so no client ever holds a GET stream open on a server that has none.
 */
import type { FastifyInstance } from 'fastify'
import type { Config } from '../core/config.js'
import type { RequestContext, StoreServices } from '../mcp/context.js'
import type { McpLayer } from '../mcp/layer.js'
import type { EmbedScheduler, Embedder, Log } from '../core/ports.js'
import type { GuardHook } from './hooks/auth.js'
import { jsonRpcError, mapBodyError } from './json-rpc.js'
import { originCheck } from './hooks/origin.js'
import { logMcpRequest } from './hooks/request-log.js'

export interface McpRouteOptions {
  readonly config: Config
  readonly layer: McpLayer
  readonly getServices: () => Promise<StoreServices>
  readonly embed: EmbedScheduler
  readonly embedder: Embedder | undefined
  /** Authentication and the per-owner slot (routes/hooks/auth.ts); runs after the Origin check. */
  readonly guard: GuardHook
}

const NOT_POST = ['GET', 'HEAD', 'DELETE', 'PUT', 'PATCH', 'OPTIONS'] as const
/** How long close() waits for running tool calls. */
const DRAIN_MS = 10_000

export async function mcpRoutes(app: FastifyInstance, opts: McpRouteOptions): Promise<void> {
  const { config, layer, getServices, embed, embedder } = opts
  const refuse = originCheck(config)
  // Only JSON is accepted here; without this Fastify would parse text/plain and the SDK would see a string.
  app.removeContentTypeParser('text/plain')

  app.addHook('onRequest', async (request, reply) => {
    logMcpRequest(request, reply)
    const reason = refuse(request.headers.origin, request.headers.host)
    if (reason !== undefined) {
      request.rejectReason = reason
      return jsonRpcError(reply, 403, -32000, 'Forbidden: invalid Origin')
    }
  })
  app.addHook('onRequest', opts.guard)

  app.setErrorHandler((error: { code?: string }, request, reply) => {
    const mapped = mapBodyError(error.code)
    if (mapped !== undefined) return jsonRpcError(reply, mapped.status, mapped.rpc, mapped.message)
    request.log.error({ err: error }, 'MCP request failed')
    return jsonRpcError(reply, 500, -32603, 'Internal server error')
  })

  app.route({
    method: [...NOT_POST],
    url: '/mcp',
    exposeHeadRoute: false,
    handler: async (_request, reply) => jsonRpcError(reply.header('allow', 'POST'), 405, -32000, 'Method not allowed.'),
  })

  // Handlers still running (also for clients that went away) are waited for on close, so shutdown never
  // closes the store under a running tool call.
  const inflight = new Set<Promise<void>>()
  app.addHook('onClose', async () => {
    await Promise.race([Promise.allSettled([...inflight]), new Promise((ok) => setTimeout(ok, DRAIN_MS).unref())])
  })

  app.post('/mcp', async (request, reply) => {
    const log: Log = request.log
    const ctx: RequestContext = {
      owner: request.ownerId,
      log,
      noteToolCall: (outcome) => (request.toolCalls ??= []).push(outcome),
      toolContext: async () => ({ ...(await getServices()), owner: request.ownerId, log, embed, embedder }),
    }
    reply.hijack()
    const handling = layer.handle(request.raw, reply.raw, request.body, ctx)
    inflight.add(handling)
    try {
      await handling
    } catch (err) {
      log.error({ err }, 'MCP layer failed')
      if (!reply.raw.headersSent) {
        reply.raw.writeHead(500, { 'content-type': 'application/json' })
        reply.raw.end(JSON.stringify({ jsonrpc: '2.0', error: { code: -32603, message: 'Internal server error' }, id: null }))
      } else {
        reply.raw.end()
      }
    } finally {
      inflight.delete(handling)
    }
  })
}
