/**
 * The message protocol between the main thread and its worker threads.
 *
 * Host → worker: a request `{ id, kind, payload }`.
 * Worker → host: either the response to one request `{ id, ok, result | error }`, or a log line
 * `{ log: { level, msg, fields } }` that the host forwards to the process logger (workers never
 * write logs themselves, so redaction and formatting live in one place).
 *
 * `serveWorker` is the worker side of the protocol, shared by every worker entry.
 */
import type { MessagePort } from 'node:worker_threads'

export type LogLevel = 'debug' | 'info' | 'warn' | 'error'

/** The logger shape the host writes to; a pino logger satisfies it. */
export interface WorkerLog {
  debug(obj: object, msg: string): void
  info(obj: object, msg: string): void
  warn(obj: object, msg: string): void
  error(obj: object, msg: string): void
}

export interface WorkerRequest<K extends string = string, P = unknown> {
  id: number
  kind: K
  payload: P
}

export interface WorkerErrorInfo {
  message: string
  code?: string
}

export type WorkerResponse =
  | { id: number; ok: true; result: unknown }
  | { id: number; ok: false; error: WorkerErrorInfo }

export interface WorkerLogMessage {
  log: { level: LogLevel; msg: string; fields?: Record<string, unknown> }
}

/** Sent once when the worker's modules are loaded and it serves requests. */
export interface WorkerReadyMessage {
  ready: true
}

export type WorkerToHostMessage = WorkerResponse | WorkerLogMessage | WorkerReadyMessage

const LEVELS: ReadonlySet<string> = new Set<LogLevel>(['debug', 'info', 'warn', 'error'])

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v)
}

export function isWorkerRequest(m: unknown): m is WorkerRequest {
  return isRecord(m) && typeof m.id === 'number' && typeof m.kind === 'string' && 'payload' in m
}

export function isWorkerResponse(m: unknown): m is WorkerResponse {
  if (!isRecord(m) || typeof m.id !== 'number') return false
  if (m.ok === true) return 'result' in m
  return m.ok === false && isRecord(m.error) && typeof m.error.message === 'string'
}

export function isWorkerLogMessage(m: unknown): m is WorkerLogMessage {
  return isRecord(m) && isRecord(m.log) && typeof m.log.msg === 'string' && LEVELS.has(m.log.level as string)
}

export function isWorkerReadyMessage(m: unknown): m is WorkerReadyMessage {
  return isRecord(m) && m.ready === true
}

/** An error with a stable string code; also what the host rejects with. */
export class WorkerError extends Error {
  readonly code: string
  constructor(code: string, message: string) {
    super(message)
    this.name = 'WorkerError'
    this.code = code
  }
}

/** Host-side failure codes; handler errors keep the code the worker reported. */
export const WORKER_TIMEOUT = 'WORKER_TIMEOUT'
export const WORKER_CRASHED = 'WORKER_CRASHED'
export const WORKER_CLOSED = 'WORKER_CLOSED'
/** A handler threw an error without a string `code`. */
export const WORKER_ERROR = 'WORKER_ERROR'
/** The worker has no handler for the request's kind, or the payload is malformed. */
export const WORKER_BAD_REQUEST = 'WORKER_BAD_REQUEST'

export function toErrorInfo(err: unknown): WorkerErrorInfo {
  if (err instanceof Error) {
    const code = (err as { code?: unknown }).code
    return typeof code === 'string' ? { message: err.message, code } : { message: err.message }
  }
  return { message: String(err) }
}

// ---------------------------------------------------------------------------------------------
// Embedding worker messages

export interface EmbeddingProviderConfig {
  /** '' = no provider: lexical search only, no worker is started. */
  provider: '' | 'ollama' | 'openai' | 'hash' | 'local'
  model: string
  ollamaUrl: string
  /** Base URL of an OpenAI-compatible server (the `openai` provider). */
  url: string
  apiKey: string
  dimensions: number
  /** Embedding call timeout; 30 s when absent. */
  timeoutMs?: number
  /** Availability probe timeout; 5 s when absent. */
  availabilityTimeoutMs?: number
}

export interface EmbedPayload {
  texts: string[]
}
export interface EmbedResult {
  vectors: number[][]
}
export type AvailablePayload = Record<string, never>
export interface AvailableResult {
  available: boolean
}

// ---------------------------------------------------------------------------------------------
// Schema worker messages

export interface ValidatePayload {
  /** The schema entry's id: its compiled validator is cached under it (schemas are immutable). */
  schemaId: string
  schema: object
  content: unknown
}

// ---------------------------------------------------------------------------------------------
// Worker side

export type WorkerHandlers = Record<string, (payload: unknown) => unknown>

/**
 * Answers requests arriving on `port` (a worker's `parentPort`) with `handlers[kind](payload)`.
 * Handlers run concurrently; a thrown error becomes `{ ok: false, error: { message, code } }`.
 * Returns a logger whose lines travel to the host.
 */
export function serveWorker(port: MessagePort | null, handlers: WorkerHandlers): WorkerLog {
  if (!port) throw new Error('serveWorker must run inside a worker thread')
  const send = (msg: WorkerToHostMessage): void => {
    try {
      port.postMessage(msg)
    } catch (err) {
      // An uncloneable result or log field: answer with the clone error rather than never answering.
      if ('ready' in msg) throw err
      if ('id' in msg) port.postMessage({ id: msg.id, ok: false, error: toErrorInfo(err) } satisfies WorkerResponse)
      else port.postMessage({ log: { level: msg.log.level, msg: msg.log.msg } } satisfies WorkerLogMessage)
    }
  }
  port.on('message', (msg: unknown) => {
    if (!isWorkerRequest(msg)) {
      send({ log: { level: 'warn', msg: 'worker ignored a malformed message' } })
      return
    }
    const handler = Object.hasOwn(handlers, msg.kind) ? handlers[msg.kind] : undefined
    if (!handler) {
      send({ id: msg.id, ok: false, error: { message: `unknown request kind '${msg.kind}'`, code: WORKER_BAD_REQUEST } })
      return
    }
    Promise.resolve()
      .then(() => handler(msg.payload))
      .then(
        (result) => send({ id: msg.id, ok: true, result }),
        (err: unknown) => send({ id: msg.id, ok: false, error: toErrorInfo(err) }),
      )
  })
  send({ ready: true })
  const line =
    (level: LogLevel) =>
    (fields: object, msg: string): void =>
      send({ log: { level, msg, fields: { ...fields } } })
  return { debug: line('debug'), info: line('info'), warn: line('warn'), error: line('error') }
}
