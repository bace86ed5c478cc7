/**
 * WorkerHost: one worker thread behind a request/response API.
 *
 * - Requests are correlated by id; each has a timeout (WORKER_TIMEOUT), counted from when the worker is ready.
 * - The worker starts on the first request, not at construction, so an unused host costs nothing.
 * - A worker that exits unexpectedly rejects its in-flight requests (WORKER_CRASHED) and is replaced
 *   on the next request. Consecutive crashes back off exponentially (first restart immediate), so a
 *   worker that dies at start is respawned at most a handful of times per minute, never in a loop.
 *   The count resets once a worker answers a request.
 * - The worker is ref'd only while requests are in flight: an idle host never keeps the process
 *   alive, closed or not. `close()` terminates the worker; later requests reject (WORKER_CLOSED).
 * - Worker log lines are forwarded to `opts.log` with the worker's name.
 *
 * WorkerPool spreads requests over n hosts, least busy first.
 */
import { Worker } from 'node:worker_threads'
import {
  WORKER_CLOSED,
  WORKER_CRASHED,
  WORKER_ERROR,
  WORKER_TIMEOUT,
  WorkerError,
  isWorkerLogMessage,
  isWorkerReadyMessage,
  isWorkerResponse,
} from './protocol.js'
import type { WorkerLog, WorkerRequest } from './protocol.js'
import { spawnableUrl } from '../core/worker-url.js'

export interface WorkerHostOptions {
  name: string
  url: URL
  workerData?: unknown
  /** Default per-request timeout; 30 s when absent. */
  timeoutMs?: number
  log?: WorkerLog
  /** Backoff between restarts after consecutive crashes: base doubles up to max. Defaults 250 ms / 30 s. */
  restartBackoffMs?: { base: number; max: number }
  /**
   * A request that times out takes its worker down with it: the worker is terminated (so a runaway
   * computation stops using a core) and the requests queued behind it go to a fresh worker, each with its
   * full time again. For workers whose requests are pure computations on caller-supplied input.
   */
  terminateOnTimeout?: boolean
  /** V8 heap limits of the worker: a request that exhausts them ends the worker, not the process. */
  resourceLimits?: { maxOldGenerationSizeMb?: number; maxYoungGenerationSizeMb?: number }
}

export interface RequestOptions {
  timeoutMs?: number
}

export interface WorkerHostStats {
  name: string
  state: 'idle' | 'running' | 'backoff' | 'closed'
  pending: number
  /** Workers started so far (1 + restarts). */
  spawns: number
  crashes: number
  lastCrash?: string
}

interface Pending {
  resolve(v: unknown): void
  reject(e: Error): void
  timer: NodeJS.Timeout | undefined
  timeoutMs: number
  message: WorkerRequest
  /** The worker the request was posted to; undefined while waiting for a (re)start. */
  worker?: Worker
}

const DEFAULT_TIMEOUT_MS = 30_000
const STARTUP_TIMEOUT_MS = 30_000

export class WorkerHost {
  readonly name: string
  private readonly opts: WorkerHostOptions
  private readonly entry: URL
  private worker: Worker | undefined
  private readonly pending = new Map<number, Pending>()
  private nextId = 1
  private spawns = 0
  private crashes = 0
  private consecutiveCrashes = 0
  private lastCrash: string | undefined
  private notBefore = 0
  private spawnTimer: NodeJS.Timeout | undefined
  private closing: Promise<void> | undefined
  private readonly readyWorkers = new WeakSet<Worker>()

  constructor(opts: WorkerHostOptions) {
    this.name = opts.name
    this.opts = opts
    this.entry = spawnableUrl(opts.url)
  }

  /** Number of requests awaiting an answer. */
  get inFlight(): number {
    return this.pending.size
  }

  /** True while a restart is being held back after a crash. */
  get backingOff(): boolean {
    return !this.worker && this.notBefore > Date.now()
  }

  request<R>(kind: string, payload: unknown, opts: RequestOptions = {}): Promise<R> {
    if (this.closing) return Promise.reject(new WorkerError(WORKER_CLOSED, `worker ${this.name} is closed`))
    const id = this.nextId++
    const timeoutMs = opts.timeoutMs ?? this.opts.timeoutMs ?? DEFAULT_TIMEOUT_MS
    return new Promise<R>((resolve, reject) => {
      const p: Pending = { resolve: resolve as (v: unknown) => void, reject, timer: undefined, timeoutMs, message: { id, kind, payload } }
      this.pending.set(id, p)
      const w = this.ensureWorker()
      if (w) this.post(w, p)
      if (this.pending.has(id)) this.arm(p)
      this.updateRef()
    })
  }

  /**
   * Starts the request's clock. A request's timeout is for its work: while the worker it was sent to is still
   * loading its modules (0.6 s under tsx, several seconds on a busy machine: an embedding test once timed out
   * there) the request waits up to STARTUP_TIMEOUT_MS, and its own timeout starts when the worker reports
   * ready. A request held back by a restart backoff (no worker yet) keeps its own timeout.
   */
  private arm(p: Pending): void {
    const { id, kind } = p.message
    clearTimeout(p.timer)
    const starting = p.worker !== undefined && !this.readyWorkers.has(p.worker)
    const ms = starting ? Math.max(p.timeoutMs, STARTUP_TIMEOUT_MS) : p.timeoutMs
    p.timer = setTimeout(() => {
      if (!this.pending.delete(id)) return
      this.log('warn', { kind, timeoutMs: p.timeoutMs }, 'worker request timed out')
      p.reject(new WorkerError(WORKER_TIMEOUT, `worker ${this.name}: '${kind}' got no answer within ${p.timeoutMs} ms`))
      if (this.opts.terminateOnTimeout === true && p.worker !== undefined && p.worker === this.worker) this.replaceStuck(p.worker)
      this.updateRef()
    }, ms)
  }

  /** Terminates a worker stuck on a timed-out request; what was queued behind it starts again on a new one. */
  private replaceStuck(stuck: Worker): void {
    this.worker = undefined // its exit is then not counted as a crash
    void stuck.terminate()
    const waiting = [...this.pending.values()].filter((q) => q.worker === stuck)
    if (waiting.length === 0) return
    const next = this.ensureWorker()
    for (const q of waiting) {
      q.worker = undefined
      if (next) this.post(next, q)
      if (this.pending.has(q.message.id)) this.arm(q)
    }
  }

  /** Starts the worker ahead of the first request (optional warm-up). */
  start(): void {
    if (!this.closing) this.ensureWorker()
    this.updateRef()
  }

  stats(): WorkerHostStats {
    const state = this.closing ? 'closed' : this.worker ? 'running' : this.backingOff ? 'backoff' : 'idle'
    const s: WorkerHostStats = { name: this.name, state, pending: this.pending.size, spawns: this.spawns, crashes: this.crashes }
    if (this.lastCrash !== undefined) s.lastCrash = this.lastCrash
    return s
  }

  close(): Promise<void> {
    this.closing ??= this.doClose()
    return this.closing
  }

  private async doClose(): Promise<void> {
    if (this.spawnTimer) clearTimeout(this.spawnTimer)
    this.spawnTimer = undefined
    this.rejectWhere(() => true, WORKER_CLOSED, `worker ${this.name} closed`)
    const w = this.worker
    this.worker = undefined
    if (w) await w.terminate()
  }

  /** Returns the running worker, starts one, or (during backoff) schedules a start and returns undefined. */
  private ensureWorker(): Worker | undefined {
    if (this.worker) return this.worker
    const wait = this.notBefore - Date.now()
    if (wait <= 0) return this.spawn()
    this.spawnTimer ??= setTimeout(() => {
      this.spawnTimer = undefined
      if (this.closing || this.worker || this.pending.size === 0) return
      const w = this.spawn()
      for (const p of this.pending.values()) if (!p.worker) this.post(w, p)
      this.updateRef()
    }, wait)
    return undefined
  }

  private spawn(): Worker {
    const w = new Worker(this.entry, { workerData: this.opts.workerData, resourceLimits: this.opts.resourceLimits })
    this.worker = w
    this.spawns++
    if (this.spawns > 1) this.log('info', { spawns: this.spawns }, 'worker restarted')
    let failure: string | undefined
    w.on('message', (msg: unknown) => this.onMessage(w, msg))
    w.on('messageerror', (err) => this.log('warn', { err: err.message }, 'worker message could not be deserialised'))
    w.on('error', (err) => {
      failure = err.message
      this.log('error', { err: err.message, stack: err.stack }, 'worker failed')
    })
    w.on('exit', (code) => {
      if (this.worker !== w) return // terminated by close()
      this.worker = undefined
      this.crashes++
      this.consecutiveCrashes++
      const base = this.opts.restartBackoffMs?.base ?? 250
      const max = this.opts.restartBackoffMs?.max ?? 30_000
      const delay = this.consecutiveCrashes <= 1 ? 0 : Math.min(max, base * 2 ** (this.consecutiveCrashes - 2))
      this.notBefore = Date.now() + delay
      this.lastCrash = failure ?? `exited with code ${code}`
      this.log('error', { code, err: failure, restartDelayMs: delay }, 'worker exited unexpectedly')
      this.rejectWhere((p) => p.worker === w, WORKER_CRASHED, `worker ${this.name} crashed: ${this.lastCrash}`)
      // Requests may still be queued (none today: all are posted once a worker exists); restart for them.
      if (this.pending.size > 0) {
        const next = this.ensureWorker()
        if (next) for (const p of this.pending.values()) if (!p.worker) this.post(next, p)
      }
      this.updateRef()
    })
    return w
  }

  private post(w: Worker, p: Pending): void {
    p.worker = w
    try {
      w.postMessage(p.message)
    } catch (err) {
      // An uncloneable payload: fail this request only.
      this.pending.delete(p.message.id)
      clearTimeout(p.timer)
      p.reject(new WorkerError(WORKER_ERROR, `worker ${this.name}: cannot send '${p.message.kind}': ${(err as Error).message}`))
    }
  }

  private onMessage(w: Worker, msg: unknown): void {
    if (isWorkerResponse(msg)) {
      const p = this.pending.get(msg.id)
      if (!p || p.worker !== w) {
        this.log('debug', { id: msg.id }, 'late worker answer dropped')
        return
      }
      this.pending.delete(msg.id)
      clearTimeout(p.timer)
      this.consecutiveCrashes = 0
      if (msg.ok) p.resolve(msg.result)
      else p.reject(new WorkerError(msg.error.code ?? WORKER_ERROR, msg.error.message))
      this.updateRef()
    } else if (isWorkerReadyMessage(msg)) {
      this.readyWorkers.add(w)
      for (const p of this.pending.values()) if (p.worker === w) this.arm(p)
    } else if (isWorkerLogMessage(msg)) {
      this.log(msg.log.level, msg.log.fields ?? {}, msg.log.msg)
    } else {
      this.log('warn', {}, 'unrecognised worker message ignored')
    }
  }

  private rejectWhere(match: (p: Pending) => boolean, code: string, message: string): void {
    for (const [id, p] of this.pending) {
      if (!match(p)) continue
      this.pending.delete(id)
      clearTimeout(p.timer)
      p.reject(new WorkerError(code, message))
    }
  }

  /** Keep the process alive only while someone is waiting for an answer. */
  private updateRef(): void {
    if (this.pending.size === 0 && this.spawnTimer) {
      clearTimeout(this.spawnTimer) // nobody waits for the restart any more; the next request reschedules it
      this.spawnTimer = undefined
    }
    if (!this.worker) return
    if (this.pending.size > 0) this.worker.ref()
    else this.worker.unref()
  }

  private log(level: keyof WorkerLog, fields: object, msg: string): void {
    this.opts.log?.[level]({ ...fields, worker: this.name }, msg)
  }
}

export interface WorkerPoolOptions extends WorkerHostOptions {
  /** Number of worker threads; 2 when absent. */
  size?: number
}

export class WorkerPool {
  readonly size: number
  private readonly hosts: WorkerHost[]
  private cursor = 0

  constructor(opts: WorkerPoolOptions) {
    const size = opts.size ?? 2
    if (!Number.isInteger(size) || size < 1) throw new RangeError(`worker pool size must be a positive integer, got ${size}`)
    this.size = size
    this.hosts = Array.from({ length: size }, (_, i) => new WorkerHost({ ...opts, name: `${opts.name}-${i + 1}` }))
  }

  /** Sends to the least busy host (a host holding back a restart counts as busy); ties rotate. */
  request<R>(kind: string, payload: unknown, opts?: RequestOptions): Promise<R> {
    let best: WorkerHost | undefined
    let bestLoad = Infinity
    for (let i = 0; i < this.size; i++) {
      const h = this.hosts[(this.cursor + i) % this.size]
      const load = h.inFlight + (h.backingOff ? 1_000_000 : 0)
      if (load < bestLoad) {
        best = h
        bestLoad = load
      }
    }
    this.cursor = (this.cursor + 1) % this.size
    return best!.request<R>(kind, payload, opts)
  }

  start(): void {
    for (const h of this.hosts) h.start()
  }

  stats(): WorkerHostStats[] {
    return this.hosts.map((h) => h.stats())
  }

  async close(): Promise<void> {
    await Promise.all(this.hosts.map((h) => h.close()))
  }
}
