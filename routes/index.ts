/**
 * Every hook and route of the HTTP surface, registered in one place: public assets and discovery at the
 * root, health and the MCP endpoint under the mount path, and the authentication guard in front of all.
 */
import type { FastifyInstance } from 'fastify'
import type { Config } from '../core/config.js'
import type { EmbedScheduler, Embedder, Log } from '../core/ports.js'
import type { StoreServices } from '../mcp/context.js'
import type { McpLayer } from '../mcp/layer.js'
import { ASSETS_DIR, assetRoutes } from './assets.js'
import { healthRoutes } from './health.js'
import { createRequestGuard } from './hooks/auth.js'
import { mcpRoutes } from './mcp.js'
import { wellKnownRoutes } from './well-known.js'

export interface RouteOptions {
  readonly config: Config
  readonly log: Log
  readonly layer: McpLayer
  readonly version: string
  readonly startedAt: number
  readonly getServices: () => Promise<StoreServices>
  readonly embed: EmbedScheduler
  readonly embedder: Embedder | undefined
}

export async function registerRoutes(app: FastifyInstance, opts: RouteOptions): Promise<void> {
  const { config, getServices } = opts
  const getStore = async () => (await getServices()).store
  // Authentication for everything outside the MCP route (unknown paths included, §2); the MCP scope runs
  // the same guard after its Origin check.
  const guard = createRequestGuard({ config, getStore, log: opts.log })
  app.addHook('onRequest', guard.root)
  app.setNotFoundHandler((_request, reply) => reply.code(404).send({ error: 'Not Found' }))
  await app.register(assetRoutes, { assetsDir: ASSETS_DIR })
  await app.register(wellKnownRoutes, { config })
  await app.register(
    async (scope) => {
      await scope.register(healthRoutes, { admits: guard.admits, version: opts.version, startedAt: opts.startedAt, getStore })
      await scope.register(mcpRoutes, { config, layer: opts.layer, getServices, embed: opts.embed, embedder: opts.embedder, guard: guard.mcp })
    },
    { prefix: config.mountPath },
  )
}
