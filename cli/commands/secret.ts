/**
 * `mcp-awareness-secret` (§17.2): 32 random bytes as unpadded base64url, for AWARENESS_JWT_SECRET.
 */
import { randomBytes } from 'node:crypto'
import { parseArgs } from 'node:util'
import { CLI, UsageError, type Command } from '../run.js'

export const secretCommand: Command = {
  usage: `Usage: ${CLI} secret\n\nPrints a new random secret for AWARENESS_JWT_SECRET (32 bytes, base64url).`,
  async run(args, io) {
    parse(() => parseArgs({ args, options: {}, strict: true, allowPositionals: false }))
    io.out(`${randomBytes(32).toString('base64url')}\n`)
    return 0
  },
}

/** node:util parseArgs failures are usage errors. */
export function parse<T>(fn: () => T): T {
  try {
    return fn()
  } catch (error) {
    throw new UsageError(error instanceof Error ? error.message : String(error))
  }
}
