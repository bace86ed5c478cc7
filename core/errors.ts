/**
 * Tool errors: stable string codes (mcp-surface.md §2.4), raised anywhere below the tool boundary and
 * turned into the JSON envelope in exactly one place (mcp/tools/define.ts).
 */

export const ERROR_CODES = [
  'invalid_parameter',
  'not_found',
  'unavailable',
  'invalid_schema',
  'schema_already_exists',
  'schema_not_found',
  'validation_failed',
  'validation_error',
  'schema_immutable',
  'schema_in_use',
  'record_schema_pin_immutable',
  'internal_error',
] as const

export type ErrorCode = (typeof ERROR_CODES)[number]

/** Codes a client may retry unchanged (a provider or the database may come back). */
const RETRYABLE: ReadonlySet<ErrorCode> = new Set<ErrorCode>(['unavailable', 'internal_error'])

export interface ToolErrorFields {
  param?: string
  value?: unknown
  valid?: readonly string[]
  suggestion?: string
  help_url?: string
  /** Code-specific extra fields, placed at the same level as `code` (§2.4). */
  [extra: string]: unknown
}

export class ToolError extends Error {
  readonly code: ErrorCode
  readonly retryable: boolean
  readonly fields: ToolErrorFields

  constructor(code: ErrorCode, message: string, fields: ToolErrorFields = {}) {
    super(message)
    this.name = 'ToolError'
    this.code = code
    this.retryable = RETRYABLE.has(code)
    this.fields = fields
  }

  /** The §2.4 envelope; absent fields are omitted, never null. */
  toEnvelope(): { status: 'error'; error: Record<string, unknown> } {
    const error: Record<string, unknown> = { code: this.code, message: this.message, retryable: this.retryable }
    for (const [key, value] of Object.entries(this.fields)) {
      if (value !== undefined) error[key] = value
    }
    return { status: 'error', error }
  }
}

export function invalidParameter(param: string, value: unknown, message: string, extra: ToolErrorFields = {}): ToolError {
  return new ToolError('invalid_parameter', message, { param, value, ...extra })
}

export function notFound(param: string, value: unknown, message: string): ToolError {
  return new ToolError('not_found', message, { param, value })
}

/** PostgreSQL SQLSTATE classes that mean "the database is not there right now", not a bug. */
const UNAVAILABLE_SQLSTATE_PREFIXES = ['08', '53', '57P']

/**
 * The driver's and the socket's codes for a connection that could not be made or was cut: postgres.js
 * names its own (a connection closed or destroyed mid-query, a connect timeout), the rest are Node's
 * (ENOENT: the embedded database's socket is gone with its thread).
 */
const CONNECTION_ERROR_CODES: ReadonlySet<string> = new Set([
  'CONNECTION_CLOSED',
  'CONNECTION_DESTROYED',
  'CONNECTION_ENDED',
  'CONNECT_TIMEOUT',
  'ECONNREFUSED',
  'ECONNRESET',
  'EPIPE',
  'ENOENT',
  'ETIMEDOUT',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'EAI_AGAIN',
])

/** True for an error that says the database is unavailable right now (connection, resources, shutdown): worth a retry. */
export function isDatabaseUnavailable(error: unknown): boolean {
  const code = typeof error === 'object' && error !== null ? (error as { code?: unknown }).code : undefined
  if (typeof code !== 'string') return false
  return CONNECTION_ERROR_CODES.has(code) || UNAVAILABLE_SQLSTATE_PREFIXES.some((p) => code.startsWith(p))
}

/**
 * The database cannot be reached, or is restarting: `unavailable`, retryable, with no driver detail. A write
 * answered so may or may not have been committed (the connection can break after COMMIT was sent); it was
 * never answered "ok" without being committed.
 */
export function databaseUnavailable(): ToolError {
  return new ToolError('unavailable', 'The database is unavailable right now; retry shortly.')
}

/** The database's disk is full (PostgreSQL's 53100, or the embedded reserve of store/disk-space.ts). */
export function diskFull(): ToolError {
  return new ToolError('unavailable', "The database's disk is full: nothing was changed. Reads still work; retry the write once space has been freed on the server.")
}

/**
 * SQLSTATE classes of input the database cannot take (22: data exception, e.g. a malformed value; 54:
 * program limit, e.g. an index row or tsquery too big): the same call fails the same way, so it is not
 * retryable (security audit L5).
 */
const INPUT_SQLSTATE_PREFIXES = ['22', '54']

/** Unexpected failures never leak driver detail to the client (D2); the caller logs the original. */
export function internalError(cause: unknown): ToolError {
  const sqlstate = typeof cause === 'object' && cause !== null ? (cause as { code?: unknown }).code : undefined
  if (typeof sqlstate === 'string' && INPUT_SQLSTATE_PREFIXES.some((p) => sqlstate.startsWith(p))) {
    return new ToolError('invalid_parameter', 'The database cannot store or search this input (a value is too large or malformed); change the arguments.')
  }
  if (sqlstate === '53100') return diskFull()
  if (isDatabaseUnavailable(cause)) return databaseUnavailable()
  // Deadlock or serialisation failure: the database aborted this call in favour of a concurrent change.
  const conflict = sqlstate === '40P01' || sqlstate === '40001'
  const message = conflict
    ? 'The change conflicted with a concurrent change and was not applied; retry it.'
    : 'An internal error occurred; it has been logged. Retry, or report it if it persists.'
  return new ToolError('internal_error', message)
}

/** True for a PostgreSQL unique violation, optionally on one named constraint or index. */
export function isUniqueViolation(error: unknown, constraint?: string): boolean {
  if (typeof error !== 'object' || error === null) return false
  const e = error as { code?: unknown; constraint_name?: unknown }
  return e.code === '23505' && (constraint === undefined || e.constraint_name === constraint)
}

/**
 * What a log line may say about an unexpected failure (audit L3): the class, SQLSTATE, constraint and table,
 * and the first 200 characters of the message. PostgreSQL's `detail`, `where` and query text echo stored
 * values (a key, a search text), so they are left out.
 */
export function loggableFailure(error: unknown): Record<string, unknown> {
  if (!(error instanceof Error)) return { message: String(error).slice(0, 200) }
  const e = error as Error & { code?: unknown; constraint_name?: unknown; table_name?: unknown }
  const out: Record<string, unknown> = { type: e.name, message: e.message.slice(0, 200) }
  if (typeof e.code === 'string') out.code = e.code
  if (typeof e.constraint_name === 'string') out.constraint = e.constraint_name
  if (typeof e.table_name === 'string') out.table = e.table_name
  if (e.stack !== undefined) out.stack = e.stack.split('\n').slice(1, 6).join('\n')
  return out
}
