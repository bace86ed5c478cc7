/**
 * GET {mount}/health: a small JSON status for curl, load balancers and the image's HEALTHCHECK. It answers
 * 503 when the database does not answer, so deploy scripts that use it as readiness are told the truth.
 */
import type { FastifyInstance } from 'fastify'
import type { Store } from '../store/index.js'

export interface HealthOptions {
  readonly version: string
  readonly startedAt: number
  readonly getStore: () => Promise<Store>
}

export async function healthRoutes(app: FastifyInstance, opts: HealthOptions): Promise<void> {
  app.get('/health', async (_request, reply) => {
    let database: 'up' | 'down' = 'down'
    let backend: string | undefined
    try {
      const store = await opts.getStore()
      backend = store.backend
      if (await store.ping()) database = 'up'
    } catch {
      // reported as down below
    }
    const uptime = Math.round((performance.now() - opts.startedAt) / 100) / 10
    return reply.code(database === 'up' ? 200 : 503).send({
      status: database === 'up' ? 'ok' : 'degraded',
      version: opts.version,
      uptime,
      uptime_sec: uptime,
      timestamp: new Date().toISOString(),
      transport: 'streamable-http',
      database,
      ...(backend === undefined ? {} : { backend }),
    })
  })
}
