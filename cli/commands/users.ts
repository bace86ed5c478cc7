/**
 * `mcp-awareness-user add|list|set-password|export|delete` (§17.4). Export and delete run inside the user's
 * own owner transaction, so row-level security applies to them like to the server (risk R19).
 */
import { writeFile } from 'node:fs/promises'
import { parseArgs } from 'node:util'
import { hash } from '@node-rs/argon2'
import type { Algorithm } from '@node-rs/argon2'
import { isUniqueViolation } from '../../core/errors.js'
import {
  activeUserExists,
  deleteOwnerData,
  deleteUserRow,
  getUserProfile,
  insertUser,
  leaveOwnerRole,
  listUsers,
  ownerData,
  setPasswordHash,
} from '../../store/queries/users.js'
import { withStore } from '../db.js'
import { MAX_LENGTH, MIN_LENGTH, passwordIssues } from '../password.js'
import { secretReader } from '../prompt.js'
import { CLI, CliError, UsageError, readConfig, type Command, type Io } from '../run.js'
import { parse } from './secret.js'

const USAGE = [
  `Usage: ${CLI} users <subcommand>`,
  '',
  '  add <user_id> [--email E] [--display-name N] [--phone P] [--timezone TZ]',
  '  list',
  '  set-password <user_id>            (asks for the password twice, without echo)',
  '  export <user_id> [-o|--output FILE]',
  '  delete <user_id> [--confirm]      (permanent: the user and all their data)',
  '',
  'Uses AWARENESS_DATABASE_URL, or the embedded database in AWARENESS_DATA_DIR (not while a server holds it).',
].join('\n')

/** argon2id with the reference's parameters, so hashes interoperate (PHC string, 16-byte salt, 32-byte tag). */
const ARGON2 = { algorithm: 2 as Algorithm, timeCost: 3, memoryCost: 65_536, parallelism: 4, outputLen: 32 }
const ATTEMPTS = 3

const notFound = (id: string) => new CliError(`Error: user '${id}' not found`)

/** E.164 without a phone library: separators dropped, then '+', a non-zero digit and 6–14 more digits. */
export function normalisePhone(text: string): string {
  const compact = text.trim().replace(/[\s().-]/g, '')
  if (!/^\+[1-9]\d{6,14}$/.test(compact)) {
    throw new CliError(`Error: invalid phone number '${text}': use the international format with the country code, e.g. +14155550123`)
  }
  return compact
}

function userIdArg(positionals: string[], sub: string): string {
  if (positionals.length !== 1 || positionals[0].trim() === '') throw new UsageError(`${sub} takes exactly one <user_id>`)
  return positionals[0]
}

async function add(args: string[], io: Io): Promise<number> {
  const options = { email: { type: 'string' }, 'display-name': { type: 'string' }, phone: { type: 'string' }, timezone: { type: 'string' } } as const
  const { values, positionals } = parse(() => parseArgs({ args, options, strict: true, allowPositionals: true }))
  const id = userIdArg(positionals, 'add')
  const phone = values.phone === undefined ? undefined : normalisePhone(values.phone)
  const config = readConfig(io)
  await withStore(config, io, async (store) => {
    try {
      await store.system((tx) => insertUser(tx, { id, email: values.email, displayName: values['display-name'], phone, timezone: values.timezone ?? 'UTC' }))
    } catch (error) {
      if (isUniqueViolation(error, 'users_pkey')) throw new CliError(`Error: user '${id}' already exists`)
      if (isUniqueViolation(error)) throw new CliError(`Error: the email '${values.email ?? ''}' already belongs to another user`)
      throw error
    }
  })
  io.out(`User '${id}' created.\n`)
  return 0
}

async function list(args: string[], io: Io): Promise<number> {
  parse(() => parseArgs({ args, options: {}, strict: true, allowPositionals: false }))
  const users = await withStore(readConfig(io), io, (store) => store.system((tx) => listUsers(tx)))
  if (users.length === 0) io.out('No users found.\n')
  for (const u of users) {
    const parts = [u.id]
    if (u.email !== null) parts.push(`<${u.email}>`)
    if (u.displayName !== null) parts.push(`(${u.displayName})`)
    parts.push(`tz=${u.timezone ?? 'UTC'}`)
    io.out(`${parts.join('  ')}\n`)
  }
  return 0
}

async function setPassword(args: string[], io: Io): Promise<number> {
  const { positionals } = parse(() => parseArgs({ args, options: {}, strict: true, allowPositionals: true }))
  const id = userIdArg(positionals, 'set-password')
  const config = readConfig(io)
  return withStore(config, io, async (store) => {
    // Asked first, so nobody types a password for a user that does not exist.
    if (!(await store.system((tx) => activeUserExists(tx, id)))) throw notFound(id)
    io.err(`Password rules: ${MIN_LENGTH} to ${MAX_LENGTH} characters, and hard to guess (no user id, common passwords or keyboard runs).\n`)
    const reader = secretReader(io.stdin, { write: (text: string) => io.err(text) })
    try {
      for (let attempt = 1; attempt <= ATTEMPTS; attempt++) {
        const retry = () => attempt < ATTEMPTS && io.err(`Please try again (${ATTEMPTS - attempt} attempt(s) remaining).\n`)
        const password = await reader.read('Password: ')
        if (password === undefined) throw new CliError('Error: no password given (input ended)')
        const issues = passwordIssues(password, id)
        if (issues.length > 0) {
          io.err(`Password does not meet requirements:\n${issues.map((i) => `  - ${i}\n`).join('')}`)
          retry()
          continue
        }
        const confirmation = await reader.read('Confirm password: ')
        if (confirmation !== password) {
          io.err('Passwords do not match.\n')
          retry()
          continue
        }
        const digest = await hash(password, ARGON2)
        if (!(await store.system((tx) => setPasswordHash(tx, id, digest)))) throw notFound(id)
        io.out(`Password set for '${id}'.\n`)
        return 0
      }
      io.err('Too many failed attempts.\n')
      return 1
    } finally {
      reader.close()
    }
  })
}

async function exportUser(args: string[], io: Io): Promise<number> {
  const { values, positionals } = parse(() => parseArgs({ args, options: { output: { type: 'string', short: 'o', default: '-' } }, strict: true, allowPositionals: true }))
  const id = userIdArg(positionals, 'export')
  const document = await withStore(readConfig(io), io, (store) =>
    store.withOwner(id, async (tx) => {
      const user = await getUserProfile(tx, id)
      if (user === undefined) throw notFound(id)
      return { user_id: id, user, ...(await ownerData(tx, id)) }
    }),
  )
  const text = `${JSON.stringify(document, null, 2)}\n`
  const output = values.output ?? '-'
  if (output === '-') io.out(text)
  else {
    await writeFile(output, text, { mode: 0o600 }) // personal data: readable by the operator only
    io.out(`Exported to ${output}\n`)
  }
  return 0
}

async function deleteUser(args: string[], io: Io): Promise<number> {
  const { values, positionals } = parse(() => parseArgs({ args, options: { confirm: { type: 'boolean', default: false } }, strict: true, allowPositionals: true }))
  const id = userIdArg(positionals, 'delete')
  if (id === '_system') throw new CliError("Error: '_system' holds the shared system schemas and cannot be deleted")
  if (values.confirm !== true) {
    io.err(`Error: this permanently deletes user '${id}' and all of their entries, reads and actions; re-run with --confirm to proceed\n`)
    return 1
  }
  const counts = await withStore(readConfig(io), io, (store) =>
    store.withOwner(id, async (tx) => {
      if (!(await activeUserExists(tx, id))) throw notFound(id) // nothing deleted: the transaction rolls back
      const deleted = await deleteOwnerData(tx, id)
      // The users table is the operator's, outside the RLS role's grants: leave that role for the last step.
      if (store.rlsRole) await leaveOwnerRole(tx)
      if (!(await deleteUserRow(tx, id))) throw notFound(id)
      return deleted
    }),
  )
  io.out(`Deleted user '${id}': ${counts.entries} entries, ${counts.reads} reads, ${counts.actions} actions.\n`)
  return 0
}

const SUBCOMMANDS: Record<string, (args: string[], io: Io) => Promise<number>> = {
  add,
  list,
  'set-password': setPassword,
  export: exportUser,
  delete: deleteUser,
}

export const usersCommand: Command = {
  usage: USAGE,
  async run(args, io) {
    const [sub, ...rest] = args
    const handler = sub === undefined ? undefined : SUBCOMMANDS[sub]
    if (handler === undefined || !Object.hasOwn(SUBCOMMANDS, sub ?? '')) {
      throw new UsageError(sub === undefined ? 'a subcommand is required' : `unknown subcommand '${sub}'`)
    }
    return handler(rest, io)
  },
}
