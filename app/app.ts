/**
 * buildApp: the Fastify application, fully wired and never listening (tests inject into it or listen on
 * port 0 themselves). Public assets live at the root; the MCP endpoint and health under the mount path.
 */
import Fastify, { LogController, type FastifyBaseLogger, type FastifyInstance } from 'fastify'
import type { Logger } from 'pino'
import { ASSETS_DIR, assetRoutes } from '../routes/assets.js'
import { createRequestGuard } from '../routes/hooks/auth.js'
import { healthRoutes } from '../routes/health.js'
import { mcpRoutes } from '../routes/mcp.js'
import { wellKnownRoutes } from '../routes/well-known.js'
import { getStore as sharedStore, type Store } from '../store/index.js'
import type { Config } from '../core/config.js'
import { INSTRUCTIONS } from '../mcp/instructions.js'
import { createMcpLayer } from '../mcp/layer.js'
import { buildSurface } from '../mcp/index.js'
import type { EmbedScheduler, Embedder } from '../mcp/tools/define.js'
import { productVersion } from '../core/version.js'

/** 4 MiB, the SDK's own limit, which it does not apply to a body it is handed already parsed. */
export const BODY_LIMIT = 4 * 1024 * 1024

export interface AppDeps {
  readonly config: Config
  readonly logger: Logger
  /** The store provider; defaults to the process-wide lazy singleton. */
  readonly getStore?: () => Promise<Store>
  readonly embed?: EmbedScheduler
  /** The embedding provider (worker pool); undefined when none is configured. */
  readonly embedder?: Embedder
}

const NO_EMBEDDING: EmbedScheduler = { schedule: () => undefined }

export async function buildApp(deps: AppDeps): Promise<FastifyInstance> {
  const { config } = deps
  const getStore =
    deps.getStore ??
    (() => sharedStore({ databaseUrl: config.databaseUrl, dataDir: config.dataDir, dimensions: config.embedding.dimensions, warn: (m) => deps.logger.warn(m) }))
  const embed = deps.embed ?? NO_EMBEDDING
  const version = productVersion()
  const startedAt = performance.now()

  const app = Fastify({
    loggerInstance: deps.logger as unknown as FastifyBaseLogger,
    // Fastify's own request log would print the secret mount path (§7); routes/hooks/request-log.ts writes ours.
    logController: new LogController({ disableRequestLogging: true }),
    bodyLimit: BODY_LIMIT,
    routerOptions: { ignoreTrailingSlash: true },
    requestIdHeader: false,
  })
  const surface = buildSurface()
  const layer = createMcpLayer({ version, publicUrl: config.publicUrl, instructions: INSTRUCTIONS, ...surface })
  app.addHook('onClose', async () => layer.close())

  // Authentication for everything outside the MCP route (unknown paths included, §2); the MCP scope runs
  // the same guard after its Origin check.
  const guard = createRequestGuard({ config, getStore, log: deps.logger })
  app.addHook('onRequest', guard.root)
  app.setNotFoundHandler((_request, reply) => reply.code(404).send({ error: 'Not Found' }))
  await app.register(assetRoutes, { assetsDir: ASSETS_DIR })
  await app.register(wellKnownRoutes, { config })
  await app.register(
    async (scope) => {
      await scope.register(healthRoutes, { version, startedAt, getStore })
      await scope.register(mcpRoutes, { config, layer, getStore, embed, embedder: deps.embedder, guard: guard.mcp })
    },
    { prefix: config.mountPath },
  )
  return app
}
