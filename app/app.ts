/**
 * buildApp: the Fastify application, fully wired and never listening (tests inject into it or listen on
 * port 0 themselves). Public assets live at the root; the MCP endpoint and health under the mount path.
 */
import Fastify, { LogController, type FastifyBaseLogger, type FastifyInstance } from 'fastify'
import type { Logger } from 'pino'
import type { Config } from '../core/config.js'
import type { EmbedScheduler, Embedder } from '../core/ports.js'
import { productVersion } from '../core/version.js'
import type { StoreServices } from '../mcp/context.js'
import { buildSurface } from '../mcp/index.js'
import { INSTRUCTIONS } from '../mcp/instructions.js'
import { createMcpLayer } from '../mcp/layer.js'
import { registerRoutes } from '../routes/index.js'
import { getStore as sharedStore, storeOptions } from '../store/index.js'
import { lazyServices } from './services.js'

/** 4 MiB, the SDK's own limit, which it does not apply to a body it is handed already parsed. */
export const BODY_LIMIT = 4 * 1024 * 1024

export interface AppDeps {
  readonly config: Config
  readonly logger: Logger
  /** The store's services (app/services.ts); default: over the process-wide lazy store singleton. */
  readonly getServices?: () => Promise<StoreServices>
  readonly embed?: EmbedScheduler
  /** The embedding provider (worker pool); undefined when none is configured. */
  readonly embedder?: Embedder
}

const NO_EMBEDDING: EmbedScheduler = { schedule: () => undefined }

export async function buildApp(deps: AppDeps): Promise<FastifyInstance> {
  const { config } = deps
  // Used only without deps.getServices; it opens nothing until asked.
  const lazy = lazyServices(() => sharedStore(storeOptions(config, (m) => deps.logger.warn(m))))
  const getServices = deps.getServices ?? lazy.get
  const embed = deps.embed ?? NO_EMBEDDING
  const version = productVersion()
  const startedAt = performance.now()

  const app = Fastify({
    loggerInstance: deps.logger as unknown as FastifyBaseLogger,
    // Fastify's own request log would print the secret mount path (§7); routes/hooks/request-log.ts writes ours.
    logController: new LogController({ disableRequestLogging: true }),
    bodyLimit: BODY_LIMIT,
    // A request whose headers and body have not all arrived in time is answered 408 and closed, so a
    // half-sent body cannot hold a connection and an owner's slot for ever (Fastify's default: no limit).
    requestTimeout: config.requestTimeoutMs,
    // Node 20 honours the timeout only when the server is created with it (Fastify's own assignment comes
    // after creation and is not enforced: measured, the socket stayed open), and checks it every
    // connectionsCheckingInterval (default 30 s); once a second keeps the bound close to the setting.
    http: { requestTimeout: config.requestTimeoutMs, connectionsCheckingInterval: Math.min(1_000, config.requestTimeoutMs) },
    routerOptions: { ignoreTrailingSlash: true },
    requestIdHeader: false,
  })
  const surface = buildSurface()
  const layer = createMcpLayer({ version, publicUrl: config.publicUrl, instructions: INSTRUCTIONS, ...surface })
  app.addHook('onClose', async () => {
    await layer.close()
    // Services this app made itself (none when they were given): their pending reads are written before the
    // store can be closed.
    await lazy.flush()
  })
  await registerRoutes(app, { config, log: deps.logger, layer, version, startedAt, getServices, embed, embedder: deps.embedder })
  return app
}
