/**
 * `mcp-awareness-migrate [--current | --history | --stamp | --downgrade REV]` (§17.6), over the runner the
 * server itself uses at start (store/migrate.ts: one transaction, advisory lock, idempotent).
 */
import { parseArgs } from 'node:util'
import { appliedMigrations, migrate, stampMigrations } from '../../store/migrate.js'
import { MIGRATIONS } from '../../store/migrations.js'
import { withConnection } from '../db.js'
import { storeOptions } from '../../store/index.js'
import { CLI, CliError, readConfig, type Command } from '../run.js'
import { parse } from './secret.js'

const USAGE = [
  `Usage: ${CLI} migrate [--current | --history | --stamp | --downgrade REV]`,
  '',
  '  (no flag)         apply every pending migration',
  '  --current         print the latest applied migration',
  '  --history         list every migration and whether it is applied',
  '  --stamp           record every migration as applied without running it',
  '  --downgrade REV   not supported',
  '',
  'Uses AWARENESS_DATABASE_URL (postgresql://user:password@host:5432/db, or a quoted libpq DSN such as',
  '"host=db user=awareness dbname=awareness"), else the embedded database in AWARENESS_DATA_DIR.',
].join('\n')

export const migrateCommand: Command = {
  usage: USAGE,
  async run(args, io) {
    const options = { current: { type: 'boolean' }, history: { type: 'boolean' }, stamp: { type: 'boolean' }, downgrade: { type: 'string' } } as const
    const { values } = parse(() => parseArgs({ args, options, strict: true, allowPositionals: false }))
    const config = readConfig(io)
    if (!values.current && !values.history && !values.stamp && values.downgrade !== undefined) {
      throw new CliError(`Error: downgrading (to ${values.downgrade}) is not supported; restore a backup taken before the upgrade instead`)
    }
    return withConnection(config, async (sql) => {
      if (values.current) {
        const done = [...(await appliedMigrations(sql)).keys()]
        io.out(done.length === 0 ? 'No migrations applied.\n' : `${done[done.length - 1]}\n`)
      } else if (values.history) {
        const done = await appliedMigrations(sql)
        for (const m of MIGRATIONS) io.out(`${m.version}  ${done.has(m.version) ? `applied ${done.get(m.version)?.toISOString()}` : 'pending'}\n`)
      } else if (values.stamp) {
        await stampMigrations(sql)
        io.out('Database stamped as current.\n')
      } else {
        const { dimensions, provider } = storeOptions(config, () => undefined)
        const result = await migrate(sql, { dimensions, provider })
        for (const version of result.applied) io.out(`Applied ${version}\n`)
        io.out('Migrations complete.\n')
      }
      return 0
    })
  },
}
