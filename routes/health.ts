/**
 * GET {mount}/health: a small JSON status for curl, load balancers and the image's HEALTHCHECK. It answers
 * 503 when the database does not answer, so deploy scripts that use it as readiness are told the truth.
 * With authentication on it stays public, but its details are shown only to a caller with a valid token.
 */
import type { FastifyInstance } from 'fastify'
import type { Store } from '../store/index.js'

export interface HealthOptions {
  /** Whether the caller may see the details (version, backend, uptime): see routes/hooks/auth.ts `admits`. */
  readonly admits: (authorization: string | undefined) => Promise<boolean>
  readonly version: string
  readonly startedAt: number
  readonly getStore: () => Promise<Store>
}

export async function healthRoutes(app: FastifyInstance, opts: HealthOptions): Promise<void> {
  app.get('/health', async (request, reply) => {
    let database: 'up' | 'down' = 'down'
    let backend: string | undefined
    try {
      const store = await opts.getStore()
      backend = store.backend
      if (await store.ping()) database = 'up'
    } catch {
      // reported as down below
    }
    const code = database === 'up' ? 200 : 503
    const status = database === 'up' ? 'ok' : 'degraded'
    // With authentication on, a stranger learns only whether the service is up: no version to match
    // against advisories, no backend, no uptime (audit L12). A valid token sees everything.
    if (!(await opts.admits(request.headers.authorization))) return reply.code(code).send({ status, database })
    const uptime = Math.round((performance.now() - opts.startedAt) / 100) / 10
    return reply.code(code).send({
      status,
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
