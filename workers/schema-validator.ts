/**
 * Record validation off the main thread, with a time limit (security audit H1). Compiling a schema and
 * validating content against it run in one worker thread (workers/schema-worker.ts). A request that takes
 * longer than VALIDATION_BUDGET_MS is answered `validation_error` and its worker is terminated, so a
 * quadratic `uniqueItems` or a huge compile costs one core for at most that long and blocks nobody else's
 * request; the validators queued behind it start again on a fresh worker.
 */
import { ToolError } from '../core/errors.js'
import type { Log } from '../core/ports.js'
import { workerUrl } from '../core/worker-url.js'
import type { RecordValidationResult } from '../domain/json-schema.js'
import { WorkerHost } from './host.js'
import { WORKER_CLOSED, WORKER_TIMEOUT, WorkerError, type ValidatePayload } from './protocol.js'

/**
 * Compile and validation together. A schema near the 32 KiB limit (750 properties) compiles in 0.42 s on
 * an idle core, and ordinary records validate in about a millisecond once compiled; the budget leaves
 * room for a busy machine.
 */
export const VALIDATION_BUDGET_MS = 2_000
/** A validation that needs more heap than this ends its worker, not the process. */
const WORKER_HEAP_MB = 256

export class SchemaValidator {
  private readonly host: WorkerHost

  constructor(log?: Log, private readonly budgetMs = VALIDATION_BUDGET_MS) {
    this.host = new WorkerHost({
      name: 'schema',
      url: workerUrl('schema-worker', import.meta.url),
      timeoutMs: budgetMs,
      terminateOnTimeout: true,
      resourceLimits: { maxOldGenerationSizeMb: WORKER_HEAP_MB },
      log,
    })
  }

  async validate(schemaId: string, schema: object, content: unknown): Promise<RecordValidationResult> {
    try {
      return await this.host.request<RecordValidationResult>('validate', { schemaId, schema, content } satisfies ValidatePayload)
    } catch (error) {
      throw asToolError(error, this.budgetMs)
    }
  }

  close(): Promise<void> {
    return this.host.close()
  }
}

function asToolError(error: unknown, budgetMs: number): ToolError {
  if (error instanceof WorkerError && error.code === 'validation_error') return new ToolError('validation_error', error.message)
  if (error instanceof WorkerError && error.code === WORKER_TIMEOUT) {
    return new ToolError('validation_error', `Validating this content against its schema took longer than ${budgetMs} ms and was stopped; the schema is too costly for content this size (e.g. uniqueItems over a long array).`)
  }
  if (error instanceof WorkerError && error.code === WORKER_CLOSED) return new ToolError('unavailable', 'The server is shutting down; retry on another instance or after it restarts.')
  return new ToolError('validation_error', 'The validator failed on this content (it ran out of memory or crashed).')
}
