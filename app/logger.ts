/**
 * One pino instance for the process, shared by Fastify, the tools and the worker hosts. Credentials are
 * redacted wherever they might appear; tool arguments and bodies are never logged in the first place.
 */
import pino, { type DestinationStream, type Logger } from 'pino'

const REDACT = [
  'req.headers.authorization',
  'req.headers.cookie',
  'headers.authorization',
  'headers.cookie',
  '*.token',
  '*.password',
  '*.secret',
  '*.apiKey',
]

export function createLogger(level: string, destination?: DestinationStream): Logger {
  return pino({ level, redact: { paths: REDACT, censor: '[redacted]' }, base: { service: 'awareness' } }, destination)
}
