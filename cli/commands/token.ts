/**
 * `mcp-awareness-token --user <id> [--expires <dur>]` (§17.3): a self-signed JWT `{ sub, iat, exp }` signed
 * with AWARENESS_JWT_SECRET and AWARENESS_JWT_ALGORITHM, printed on stdout.
 */
import { parseArgs } from 'node:util'
import { signSelfSignedToken } from '../../auth/jwt.js'
import { CLI, CliError, UsageError, readConfig, type Command } from '../run.js'
import { parse } from './secret.js'

/** Tokens cannot be revoked (risk R8), so their lifetime is capped at a year. */
const MAX_LIFETIME_SEC = 365 * 86_400

export function parseDuration(text: string): number {
  const match = /^(\d{1,6})([dh])$/.exec(text)
  const seconds = match === null ? 0 : Number(match[1]) * (match[2] === 'd' ? 86_400 : 3_600)
  if (seconds <= 0 || seconds > MAX_LIFETIME_SEC) {
    throw new UsageError(`Invalid duration '${text}': use a whole number of days or hours, such as 30d or 24h (at most 365d)`)
  }
  return seconds
}

export const tokenCommand: Command = {
  usage: [
    `Usage: ${CLI} token --user <id> [--expires <duration>]`,
    '',
    'Prints a signed bearer token for <id> (its "sub"). --expires: days or hours, e.g. 30d (default) or 24h.',
    'Needs AWARENESS_JWT_SECRET (and AWARENESS_JWT_ALGORITHM when not HS256), the same values the server uses.',
  ].join('\n'),
  async run(args, io) {
    const { values } = parse(() => parseArgs({ args, options: { user: { type: 'string' }, expires: { type: 'string', default: '30d' } }, strict: true, allowPositionals: false }))
    const user = values.user ?? ''
    if (user.trim() === '') throw new UsageError('--user is required')
    if (user === '_system') throw new UsageError("'_system' is reserved for system schemas and cannot act through the server")
    const lifetime = parseDuration(values.expires ?? '30d')
    const config = readConfig(io)
    if (config.jwtSecret === '') {
      throw new CliError(`Error: AWARENESS_JWT_SECRET is not set; generate one with \`${CLI} secret\` and give the server the same value`)
    }
    io.out(`${await signSelfSignedToken(config.jwtSecret, config.jwtAlgorithm, user, lifetime)}\n`)
    return 0
  },
}
