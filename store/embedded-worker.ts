/**
 * Worker thread hosting PGlite and its socket server (decision 4): PGlite executes on the thread that
 * hosts it, so keeping it off the main thread lets the two cores serve HTTP and the database in parallel.
 * The main thread talks to it with ordinary postgres.js over a private Unix socket.
 */
import { parentPort, workerData } from 'node:worker_threads'
import { vector } from '@electric-sql/pglite-pgvector'
import { PGLiteSocketServer } from '@electric-sql/pglite-socket'
import { openPGlite } from './durable-nodefs.js'

export interface EmbeddedWorkerData {
  /** A directory path, or 'memory://' for an in-memory database. */
  readonly dataDir: string
  readonly socketPath: string
  /** Flush commits and checkpoints to stable storage (store/durable-nodefs.ts); false keeps PGlite's no-fsync default. */
  readonly fsync: boolean
}

export type EmbeddedWorkerMessage = { type: 'ready' } | { type: 'error'; message: string } | { type: 'closed' }

const { dataDir, socketPath, fsync } = workerData as EmbeddedWorkerData
const port = parentPort
if (port === null) throw new Error('embedded-worker must run in a worker thread')

try {
  const db = await openPGlite(dataDir === 'memory://' ? undefined : dataDir, fsync, { vector })
  // One connection: PGlite is a single session, so two client connections would interleave transactions.
  const server = new PGLiteSocketServer({ db, path: socketPath, maxConnections: 1 })
  await server.start()
  port.on('message', (msg: { type: string }) => {
    if (msg.type !== 'close') return
    void (async () => {
      await server.stop().catch(() => undefined)
      await db.close().catch(() => undefined)
      port.postMessage({ type: 'closed' } satisfies EmbeddedWorkerMessage)
    })()
  })
  port.postMessage({ type: 'ready' } satisfies EmbeddedWorkerMessage)
} catch (error) {
  port.postMessage({ type: 'error', message: error instanceof Error ? error.message : String(error) } satisfies EmbeddedWorkerMessage)
}
