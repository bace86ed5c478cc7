/**
 * Worker entry: compiles record schemas and validates record content against them (domain/json-schema.ts),
 * so that neither can hold the main thread. It keeps the compiled validators; the host terminates it when
 * one request overruns its time limit (workers/schema-validator.ts).
 */
import { parentPort } from 'node:worker_threads'
import { validateRecord } from '../domain/json-schema.js'
import { WORKER_BAD_REQUEST, WorkerError, serveWorker } from './protocol.js'
import type { ValidatePayload } from './protocol.js'

function payloadOf(payload: unknown): ValidatePayload {
  const p = payload as Partial<ValidatePayload> | null
  if (typeof p?.schemaId !== 'string' || typeof p.schema !== 'object' || p.schema === null) {
    throw new WorkerError(WORKER_BAD_REQUEST, "'validate' needs { schemaId, schema, content }")
  }
  return p as ValidatePayload
}

serveWorker(parentPort, {
  validate(payload) {
    const { schemaId, schema, content } = payloadOf(payload)
    return validateRecord(schema, content, schemaId)
  },
})
