/**
 * `mcp-awareness-register-schema --system …` (§17.5): the operator's way to publish a schema every owner can
 * resolve (owner `_system`), bypassing MCP and auth. Failures are one JSON line on stderr, exit 1.
 */
import { readFile } from 'node:fs/promises'
import { parseArgs } from 'node:util'
import { checkSchema } from '../../domain/json-schema.js'
import { detectionText, resolveLanguage } from '../../domain/language.js'
import { insertEntry } from '../../store/queries/entries.js'
import { knownRegconfig } from '../../store/queries/language.js'
import { findOwnSchema, lockSchemaKey } from '../../store/queries/records.js'
import { withStore } from '../db.js'
import { CLI, UsageError, readConfig, type Command, type Io } from '../run.js'
import { parse } from './secret.js'

const SYSTEM = '_system'

const USAGE = [
  `Usage: ${CLI} register-schema --system --family F --version V --schema-file PATH`,
  '                                     --source S --description D [--tags a,b]',
  '',
  'Registers a JSON Schema (Draft 2020-12) owned by _system, which every owner can use for records.',
  '--system is required as confirmation.',
].join('\n')

class StepError extends Error {
  constructor(
    readonly code: string,
    message: string,
    readonly extra: Record<string, unknown> = {},
  ) {
    super(message)
  }
}

async function register(values: Record<string, string>, tags: string[], io: Io): Promise<{ id: string; logicalKey: string }> {
  let text: string
  try {
    text = await readFile(values['schema-file'], 'utf8')
  } catch {
    throw new StepError('file_not_found', `Schema file not found or unreadable: ${values['schema-file']}`)
  }
  let schema: unknown
  try {
    schema = JSON.parse(text)
  } catch (error) {
    throw new StepError('invalid_json', `The schema file is not valid JSON: ${error instanceof Error ? error.message : String(error)}`)
  }
  const check = typeof schema === 'object' && schema !== null && !Array.isArray(schema) ? checkSchema(schema) : { ok: false as const, message: 'a schema must be a JSON object', path: '' }
  if (!check.ok) {
    throw new StepError('invalid_schema', `Schema does not conform to JSON Schema Draft 2020-12: ${check.message}`, { schema_error_path: check.path })
  }
  const { family, version, source, description } = values
  const logicalKey = `${family}:${version}`
  const data = { family, version, schema, description, learned_from: 'cli-bootstrap' }
  const config = readConfig(io)
  try {
    return await withStore(config, io, (store) =>
      store.withOwner(SYSTEM, async (tx) => {
        // One _system schema per family:version whatever its source (risk R27); the lock makes check-then-insert safe.
        await lockSchemaKey(tx, SYSTEM, logicalKey)
        const existing = await findOwnSchema(tx, SYSTEM, logicalKey)
        if (existing !== undefined) throw new Error(`a _system schema ${logicalKey} already exists (id ${existing.id})`)
        const language = await knownRegconfig(tx, resolveLanguage({ text: detectionText('schema', data) }).regconfig)
        const entry = await insertEntry(tx, SYSTEM, { type: 'schema', source, tags, data, logicalKey, language })
        return { id: entry.id, logicalKey }
      }),
    )
  } catch (error) {
    throw new StepError('store_error', error instanceof Error ? error.message.split('\n', 1)[0] : String(error))
  }
}

export const registerSchemaCommand: Command = {
  usage: USAGE,
  async run(args, io) {
    const text = { type: 'string' } as const
    const options = { system: { type: 'boolean' }, family: text, version: text, 'schema-file': text, source: text, description: text, tags: text } as const
    const { values } = parse(() => parseArgs({ args, options, strict: true, allowPositionals: false }))
    if (values.system !== true) throw new UsageError('--system is required: this writes a schema shared by every owner')
    const required = ['family', 'version', 'schema-file', 'source', 'description'] as const
    const missing = required.filter((name) => (values[name] ?? '').trim() === '')
    if (missing.length > 0) throw new UsageError(`missing ${missing.map((m) => `--${m}`).join(', ')}`)
    const tags = (values.tags ?? '').split(',').map((tag) => tag.trim()).filter((tag) => tag !== '')
    try {
      const result = await register(values as Record<string, string>, tags, io)
      io.out(`${JSON.stringify({ status: 'ok', id: result.id, logical_key: result.logicalKey })}\n`)
      return 0
    } catch (error) {
      if (!(error instanceof StepError)) throw error
      io.err(`${JSON.stringify({ error: { code: error.code, message: error.message, ...error.extra } })}\n`)
      return 1
    }
  },
}
