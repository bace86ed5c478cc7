/**
 * Starts and stops the embedded database (PGlite in its own worker thread) and guards its data directory
 * with a kernel-held lock (store/data-dir-lock.ts), so two processes never open one directory (§9.4).
 */
import { chmodSync, mkdirSync, mkdtempSync, readdirSync, rmSync, statSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import { Worker } from 'node:worker_threads'
import { spawnableUrl, workerUrl } from '../core/worker-url.js'
import { lockDataDir } from './data-dir-lock.js'
import { DiskFullError, DiskSpaceGuard } from './disk-space.js'
import type { EmbeddedWorkerData, EmbeddedWorkerMessage } from './embedded-worker.js'

const START_TIMEOUT_MS = 60_000

export interface EmbeddedDatabase {
  readonly socketPath: string
  /** Throws DiskFullError when the data directory's disk is below its free-space reserve (store/disk-space.ts). */
  assertWritable(): void
  close(): Promise<void>
}

/**
 * The data directory holds every owner's data: it is made (or made again) 0700, its files 0600 and its
 * directories 0700, at every start (audit M7: PGlite creates files 0666 and directories 0755). The
 * directory's own mode already shuts other local users out; the inner modes keep a copied or moved
 * directory private too.
 */
export function makePrivate(dataDir: string): void {
  mkdirSync(dataDir, { recursive: true, mode: 0o700 })
  const walk = (path: string, isDir: boolean): void => {
    const want = isDir ? 0o700 : 0o600
    if ((statSync(path).mode & 0o777) !== want) chmodSync(path, want)
    if (isDir) for (const entry of readdirSync(path, { withFileTypes: true })) if (entry.isDirectory() || entry.isFile()) walk(join(path, entry.name), entry.isDirectory())
  }
  walk(dataDir, true)
}

export interface EmbeddedOptions {
  /** Flush commits to stable storage (default true; store/durable-nodefs.ts). */
  readonly fsync?: boolean
  /**
   * Called once if the database's thread ends without being asked to (a crash inside PGlite, or the
   * thread terminated): every query fails from then on, so the server exits for its supervisor to restart
   * it (app/main.ts) rather than answer errors forever.
   */
  readonly onLost?: (reason: Error) => void
  /** Free space kept on the data directory's disk: writes are refused below it (default 64 MB). */
  readonly minFreeBytes?: number
}

const DEFAULT_MIN_FREE_BYTES = 64 * 1024 * 1024

export async function startEmbedded(dataDir: string, opts: EmbeddedOptions = {}): Promise<EmbeddedDatabase> {
  const inMemory = dataDir === 'memory://'
  if (!inMemory) makePrivate(dataDir)
  const guard = inMemory ? undefined : new DiskSpaceGuard(dataDir, opts.minFreeBytes ?? DEFAULT_MIN_FREE_BYTES)
  try {
    guard?.assertWritable() // a start writes (recovery, migrations): refused as clearly as a write
  } catch (error) {
    if (!(error instanceof DiskFullError)) throw error
    throw new Error(`The embedded database cannot start: ${error.message} (AWARENESS_EMBEDDED_MIN_FREE_MB)`)
  }
  const release = inMemory ? () => undefined : lockDataDir(dataDir)
  const socketDir = mkdtempSync(join(tmpdir(), 'awareness-pg-'))
  const socketPath = join(socketDir, '.s.PGSQL.5432')
  const cleanup = () => {
    rmSync(socketDir, { recursive: true, force: true })
    // Files PGlite made while running (0666 unless the process umask says otherwise, as app/main.ts does).
    if (!inMemory) makePrivate(dataDir)
    release()
  }
  const data: EmbeddedWorkerData = { dataDir: inMemory ? dataDir : resolve(dataDir, 'pglite'), socketPath, fsync: opts.fsync ?? true }
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
  let lost = false
  const onLost = (reason: Error): void => {
    if (closing !== undefined || lost) return
    lost = true
    opts.onLost?.(reason)
  }
  worker.on('error', (error) => onLost(error))
  worker.on('exit', (code) => onLost(new Error(`The embedded database thread ended unexpectedly (exit code ${code})`)))
  return {
    socketPath,
    assertWritable: () => guard?.assertWritable(),
    close: () =>
      (closing ??= (async () => {
        // Ask for an orderly close so PGlite flushes its files; terminate if it does not answer. A thread that
        // already ended has nothing to flush.
        if (!lost) {
          const closed = new Promise<void>((ok) => {
            worker.once('message', (msg: EmbeddedWorkerMessage) => msg.type === 'closed' && ok())
            worker.once('exit', () => ok())
            setTimeout(ok, 10_000).unref()
          })
          worker.postMessage({ type: 'close' })
          await closed
        }
        await worker.terminate()
        cleanup()
      })()),
  }
}
