/**
 * A benchmark server in its own process, so its CPU time can be measured apart from the load generator.
 * BENCH_KIND selects what it serves:
 *  - awareness:    the product (buildApp) on BENCH_DATABASE_URL, or the embedded database when empty;
 *  - bare-fastify: a Fastify POST route answering a constant JSON-RPC result (the HTTP floor);
 *  - bare-sdk:     the SDK's own high-level McpServer, built per request as its examples do, with one tool
 *                  running one indexed query on the same backend (the baseline for our MCP layer).
 * It answers IPC commands from the parent: cpu, memory, sql (seeding), run (call a bench module function).
 */
import Fastify from 'fastify'
import { McpServer } from '@modelcontextprotocol/server'
import { NodeStreamableHTTPServerTransport } from '@modelcontextprotocol/node'
import type { AddressInfo } from 'node:net'
import { buildApp } from '../app/app.js'
import { loadConfig } from '../core/config.js'
import { createLogger } from '../app/logger.js'
import { startBackground } from '../app/background.js'
import { createServices } from '../app/services.js'
import type { SearchIndex } from '../search/search-index.js'
import { getStore, closeStore, type Store } from '../store/index.js'

const kind = process.env.BENCH_KIND ?? 'awareness'
const owner = process.env.AWARENESS_DEFAULT_OWNER ?? 'bench'

async function openStore(): Promise<Store> {
  return getStore({ databaseUrl: process.env.BENCH_DATABASE_URL ?? '', dataDir: 'memory://', dimensions: Number(process.env.AWARENESS_EMBEDDING_DIMENSIONS ?? 768) })
}

async function bareSdk(store: Store) {
  const app = Fastify()
  app.post('/mcp', async (request, reply) => {
    const server = new McpServer({ name: 'bare', version: '1.0.0' })
    server.registerTool('count', { description: 'one query' }, async () => {
      const [row] = await store.withOwner(owner, (tx) => tx`SELECT count(*)::int AS n FROM entries WHERE owner_id = ${owner} AND deleted IS NULL`)
      return { content: [{ type: 'text' as const, text: JSON.stringify({ n: row.n }) }] }
    })
    const transport = new NodeStreamableHTTPServerTransport({ sessionIdGenerator: undefined, enableJsonResponse: true })
    reply.hijack()
    reply.raw.once('close', () => {
      void transport.close()
      void server.close()
    })
    await server.connect(transport)
    await transport.handleRequest(request.raw, reply.raw, request.body)
  })
  return app
}

function bareFastify() {
  const app = Fastify()
  const answer = { jsonrpc: '2.0', id: 1, result: { content: [{ type: 'text', text: '{"n":0}' }] } }
  app.post('/mcp', async () => answer)
  return app
}

const store = kind === 'bare-fastify' ? undefined : await openStore()
const services = store === undefined ? undefined : createServices(store)
let close: () => Promise<void> = async () => undefined
let app
if (kind === 'awareness') {
  const config = loadConfig({ ...process.env, AWARENESS_DATABASE_URL: process.env.BENCH_DATABASE_URL ?? '', AWARENESS_DATA_DIR: 'memory://', AWARENESS_DEFAULT_OWNER: owner })
  const log = createLogger('warn')
  const background = await startBackground({ config, log, index: services!.search })
  app = await buildApp({ config, logger: log, getServices: async () => services!, embed: background.embed, embedder: background.embeddings })
  close = () => background.close()
} else {
  app = kind === 'bare-sdk' ? await bareSdk(store!) : bareFastify()
}
await app.listen({ host: '127.0.0.1', port: 0 })
const { port } = app.server.address() as AddressInfo

type Command = { id: number; cmd: 'cpu' | 'memory' | 'sql' | 'run' | 'close'; sql?: string; params?: unknown[]; module?: string; fn?: string; args?: unknown }

process.on('message', (m: Command) => {
  void (async () => {
    try {
      let result: unknown
      if (m.cmd === 'cpu') {
        const u = process.cpuUsage()
        result = u.user + u.system
      } else if (m.cmd === 'memory') {
        result = process.memoryUsage()
      } else if (m.cmd === 'sql') {
        result = await store!.sql.unsafe(m.sql!, (m.params ?? []) as never[])
      } else if (m.cmd === 'run') {
        const mod = (await import(m.module!)) as Record<string, (ctx: { store: Store; search: SearchIndex; owner: string }, args: unknown) => Promise<unknown>>
        result = await mod[m.fn!]({ store: store!, search: services!.search, owner }, m.args)
      } else {
        await app.close()
        await close()
        await services?.reads.flush()
        await closeStore()
        result = 'closed'
      }
      process.send!({ id: m.id, ok: true, result })
      if (m.cmd === 'close') process.exit(0)
    } catch (error) {
      process.send!({ id: m.id, ok: false, error: error instanceof Error ? error.message : String(error) })
    }
  })()
})
process.send!({ ready: true, url: `http://127.0.0.1:${port}/mcp`, backend: store?.backend, vectorMode: store?.vectorMode })
