/**
 * The MCP layer (decision 2), the only module that touches the SDK. Definitions are built once; per request
 * only a low-level Server sharing them and a transport are created. Both protocol eras share one URL:
 * 2025-era messages go to a stateless transport that answers with JSON (SSE only when the caller asked for
 * progress), 2026-07-28 messages to the SDK's per-request handler.
 */
import type { IncomingMessage, ServerResponse } from 'node:http'
import { Server, classifyInboundRequest, createMcpHandler, ResourceNotFoundError, type AuthInfo } from '@modelcontextprotocol/server'
import { NodeStreamableHTTPServerTransport } from '@modelcontextprotocol/node'
import { Mutex } from 'async-mutex'
import { databaseUnavailable, loggableFailure } from '../core/errors.js'
import { InvalidPromptArguments, type PromptSurface, type RequestContext, type ResourceSurface, type ToolContext } from './context.js'
import { RESULT_OUTPUT_SCHEMA, callTool, errorResult, type AnyTool } from './tools/define.js'

export interface McpSurfaceOptions {
  readonly version: string
  readonly publicUrl: string
  readonly instructions: string
  readonly tools: readonly AnyTool[]
  readonly resources: ResourceSurface
  readonly prompts: PromptSurface
}

const WEBSITE = 'https://mcpawareness.com'
const INVALID_PARAMS = -32602
const INTERNAL_ERROR = -32603

function icons(publicUrl: string) {
  if (publicUrl === '') return undefined // relative icon URLs help no client (risk R26)
  return [32, 64, 200].flatMap((size) => [
    { src: `${publicUrl}/icons/awareness-${size}.svg`, mimeType: 'image/svg+xml', sizes: [`${size}x${size}`], theme: 'light' as const },
    { src: `${publicUrl}/icons/awareness-${size}-dark.svg`, mimeType: 'image/svg+xml', sizes: [`${size}x${size}`], theme: 'dark' as const },
  ])
}

function progressToken(body: unknown): string | number | undefined {
  const meta = (body as { params?: { _meta?: { progressToken?: unknown } } } | undefined)?.params?._meta
  const token = meta?.progressToken
  return typeof token === 'string' || typeof token === 'number' ? token : undefined
}

export interface McpLayer {
  /** Serves one POSTed message. The caller has validated Accept and Content-Type and parsed the body. */
  handle(req: IncomingMessage, res: ServerResponse, body: unknown, ctx: RequestContext): Promise<void>
  close(): Promise<void>
}

export function createMcpLayer(opts: McpSurfaceOptions): McpLayer {
  const info = { name: 'mcp-awareness', version: opts.version, websiteUrl: WEBSITE, icons: icons(opts.publicUrl) }
  const capabilities = { tools: {}, resources: {}, prompts: {} }
  const toolsByName = new Map(opts.tools.map((t) => [t.name, t]))
  const toolList = opts.tools.map((t) => ({
    name: t.name,
    title: t.title,
    description: t.description,
    inputSchema: t.input.json as { type: 'object' },
    outputSchema: RESULT_OUTPUT_SCHEMA as unknown as { type: 'object' },
    annotations: { title: t.title, ...t.annotations },
  }))
  const resourceList = { resources: [...opts.resources.resources] }
  const templateList = { resourceTemplates: [...opts.resources.templates] }

  function buildServer(ctx: RequestContext): Server {
    const server = new Server(info, { capabilities, instructions: opts.instructions })
    /**
     * Resources and prompts answer protocol errors; a failure of ours becomes a generic -32603 and one log
     * line without values, as tools do (audit L2, L3): the driver's text never reaches the client.
     */
    async function guarded<A extends unknown[], R>(handler: (...args: A) => Promise<R>, args: A): Promise<R> {
      try {
        return await handler(...args)
      } catch (error) {
        if (error instanceof ResourceNotFoundError || typeof (error as { code?: unknown }).code === 'number') throw error
        ctx.log.error({ failure: loggableFailure(error) }, 'MCP request failed unexpectedly')
        throw Object.assign(new Error('Internal error; it has been logged'), { code: INTERNAL_ERROR })
      }
    }
    // The messages of one request (a JSON-RPC batch of up to 100) run one at a time, so a request holds at
    // most one database connection and the per-owner cap bounds work, not just requests (audit M6).
    const oneAtATime = new Mutex()
    const serial = <A extends unknown[], R>(handler: (...args: A) => Promise<R>) => (...args: A) => oneAtATime.runExclusive(() => guarded(handler, args))
    const toolContext = async (progress: ToolContext['progress']): Promise<ToolContext> => ({ ...(await ctx.toolContext()), progress })
    server.setRequestHandler('tools/list', () => ({ tools: toolList }))
    server.setRequestHandler('tools/call', serial(async (request, sdk) => {
      const tool = toolsByName.get(request.params.name)
      if (tool === undefined) throw Object.assign(new Error(`Unknown tool: ${request.params.name}`), { code: INVALID_PARAMS })
      const token = request.params._meta?.progressToken
      const progress: ToolContext['progress'] = async (done, total, message) => {
        if (token === undefined) return
        await sdk.mcpReq.notify({ method: 'notifications/progress', params: { progressToken: token, progress: done, total, message } })
      }
      const started = performance.now()
      let tc: ToolContext
      try {
        tc = await toolContext(progress)
      } catch (err) {
        ctx.log.error({ err, tool: tool.name }, 'store unavailable')
        return errorResult(databaseUnavailable())
      }
      const result = await callTool(tool, request.params.arguments, tc)
      const outcome = { tool: tool.name, durationMs: Math.round((performance.now() - started) * 10) / 10, isError: result.isError === true }
      if (ctx.noteToolCall === undefined) ctx.log.info(outcome, 'tool call')
      else ctx.noteToolCall(outcome)
      return result
    }))
    server.setRequestHandler('resources/list', () => resourceList)
    server.setRequestHandler('resources/templates/list', () => templateList)
    server.setRequestHandler('resources/read', serial(async (request) => {
      const contents = await opts.resources.read(await toolContext(async () => undefined), request.params.uri)
      if (contents === undefined) throw new ResourceNotFoundError(request.params.uri)
      return { contents }
    }))
    server.setRequestHandler('prompts/list', serial(async () => ({ prompts: await opts.prompts.list(await toolContext(async () => undefined)) })))
    server.setRequestHandler('prompts/get', serial(async (request) => {
      try {
        const result = await opts.prompts.get(await toolContext(async () => undefined), request.params.name, request.params.arguments ?? {})
        if (result === undefined) throw Object.assign(new Error(`Unknown prompt: ${request.params.name}`), { code: INVALID_PARAMS })
        return result
      } catch (error) {
        if (error instanceof InvalidPromptArguments) throw Object.assign(new Error(error.message), { code: INVALID_PARAMS })
        throw error
      }
    }))
    return server
  }

  // The 2026-07-28 leg: the SDK's handler owns its validation ladder; our context rides in authInfo.extra.
  const modern = createMcpHandler(
    (sdk) => buildServer((sdk.authInfo?.extra as { ctx: RequestContext }).ctx),
    { legacy: 'reject', responseMode: 'auto' },
  )

  async function handleLegacy(req: IncomingMessage, res: ServerResponse, body: unknown, ctx: RequestContext): Promise<void> {
    const server = buildServer(ctx)
    // JSON by default (decision 14); a caller that asked for progress gets an SSE stream to carry it.
    const transport = new NodeStreamableHTTPServerTransport({ sessionIdGenerator: undefined, enableJsonResponse: progressToken(body) === undefined })
    res.once('close', () => {
      void transport.close()
      void server.close()
    })
    await server.connect(transport)
    await transport.handleRequest(req, res, body)
  }

  async function handleModern(req: IncomingMessage, res: ServerResponse, body: unknown, ctx: RequestContext): Promise<void> {
    const headers = new Headers()
    for (const [k, v] of Object.entries(req.headers)) if (typeof v === 'string') headers.set(k, v)
    const abort = new AbortController()
    res.once('close', () => abort.abort())
    const request = new Request(`http://localhost${req.url ?? '/mcp'}`, { method: 'POST', headers, signal: abort.signal })
    const authInfo: AuthInfo = { token: '', clientId: ctx.owner, scopes: [], extra: { ctx } }
    const response = await modern.fetch(request, { parsedBody: body, authInfo })
    res.statusCode = response.status
    response.headers.forEach((value, key) => res.setHeader(key, value))
    if (response.body === null) return void res.end()
    const reader = response.body.getReader()
    for (;;) {
      const { done, value } = await reader.read()
      if (done) break
      res.write(value)
    }
    res.end()
  }

  return {
    async handle(req, res, body, ctx) {
      const h = req.headers
      const header = (name: string) => (typeof h[name] === 'string' ? (h[name] as string) : undefined)
      const route = classifyInboundRequest({ httpMethod: 'POST', protocolVersionHeader: header('mcp-protocol-version'), mcpMethodHeader: header('mcp-method'), mcpNameHeader: header('mcp-name'), body })
      if (route.kind === 'legacy') return handleLegacy(req, res, body, ctx)
      return handleModern(req, res, body, ctx)
    },
    close: () => modern.close(),
  }
}
