/**
 * Starts and stops the embedded database (PGlite in its own worker thread) and guards its data directory
 * with a lock file, so two processes never open one directory (data-and-engine.md §9.4).
 */
import { closeSync, mkdirSync, mkdtempSync, openSync, readFileSync, rmSync, writeSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import { Worker } from 'node:worker_threads'
import { spawnableUrl, workerUrl } from '../core/worker-url.js'
import type { EmbeddedWorkerData, EmbeddedWorkerMessage } from './embedded-worker.js'

const START_TIMEOUT_MS = 60_000

export interface EmbeddedDatabase {
  readonly socketPath: string
  close(): Promise<void>
}

function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0)
    return true
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM'
  }
}

/** Takes `<dataDir>/awareness.lock`; a lock left by a dead process is taken over. Returns the release. */
export function lockDataDir(dataDir: string): () => void {
  mkdirSync(dataDir, { recursive: true })
  const lockPath = join(dataDir, 'awareness.lock')
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      const fd = openSync(lockPath, 'wx')
      writeSync(fd, String(process.pid))
      closeSync(fd)
      return () => rmSync(lockPath, { force: true })
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error
      const holder = Number(readFileSync(lockPath, 'utf8').trim())
      if (Number.isInteger(holder) && holder > 0 && processAlive(holder)) {
        throw new Error(`The data directory ${resolve(dataDir)} is in use by process ${holder}; only one process may open it.`)
      }
      rmSync(lockPath, { force: true })
    }
  }
  throw new Error(`Could not lock the data directory ${resolve(dataDir)}`)
}

export async function startEmbedded(dataDir: string): Promise<EmbeddedDatabase> {
  const inMemory = dataDir === 'memory://'
  const release = inMemory ? () => undefined : lockDataDir(dataDir)
  const socketDir = mkdtempSync(join(tmpdir(), 'awareness-pg-'))
  const socketPath = join(socketDir, '.s.PGSQL.5432')
  const cleanup = () => {
    rmSync(socketDir, { recursive: true, force: true })
    release()
  }
  const data: EmbeddedWorkerData = { dataDir: inMemory ? dataDir : resolve(dataDir, 'pglite'), socketPath }
  const worker = new Worker(spawnableUrl(workerUrl('embedded-worker', import.meta.url)), { workerData: data })
  try {
    await new Promise<void>((ok, fail) => {
      const timer = setTimeout(() => fail(new Error('The embedded database did not start within 60 s')), START_TIMEOUT_MS)
      worker.once('error', (e) => {
        clearTimeout(timer)
        fail(e)
      })
      worker.once('message', (msg: EmbeddedWorkerMessage) => {
        clearTimeout(timer)
        if (msg.type === 'ready') ok()
        else fail(new Error(`The embedded database failed to start: ${msg.type === 'error' ? msg.message : msg.type}`))
      })
    })
  } catch (error) {
    await worker.terminate()
    cleanup()
    throw error
  }

  let closing: Promise<void> | undefined
  return {
    socketPath,
    close: () =>
      (closing ??= (async () => {
        // Ask for an orderly close so PGlite flushes its files; terminate if it does not answer.
        const closed = new Promise<void>((ok) => {
          worker.once('message', (msg: EmbeddedWorkerMessage) => msg.type === 'closed' && ok())
          setTimeout(ok, 10_000).unref()
        })
        worker.postMessage({ type: 'close' })
        await closed
        await worker.terminate()
        cleanup()
      })()),
  }
}
