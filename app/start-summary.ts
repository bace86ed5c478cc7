/**
 * The line a person reads after `npm start`: the URL to paste into an MCP client (the bare origin answers
 * 404), the database in use, whether search understands meaning or matches words, and whether a token is
 * needed. A secret mount path is shown as its variable's name, never its value (§12: logs never carry it).
 */
import type { Config } from '../core/config.js'

export interface StartFacts {
  /** The port actually bound (AWARENESS_PORT=0 picks one). */
  readonly port: number
  readonly backend: string
  readonly vectors: string
}

/** Where a client reaches the server: the public URL when one is set, else the bound address. */
function clientUrl(config: Config, port: number): string {
  const mount = config.mountPath === '' ? '' : '/<AWARENESS_MOUNT_PATH>'
  if (config.publicUrl !== '') return `${config.publicUrl.replace(/\/+$/, '')}${mount}/mcp`
  // A wildcard bind is reached through any of the host's addresses; loopback is the one that always works.
  const host = config.host === '0.0.0.0' || config.host === '::' ? 'localhost' : config.host.includes(':') ? `[${config.host}]` : config.host
  return `http://${host}:${port}${mount}/mcp`
}

/** The PostgreSQL server and database, without user name or password. */
function databaseLabel(config: Config): string {
  if (config.databaseUrl === '') return `embedded PGlite in ${config.dataDir}`
  try {
    const url = new URL(config.databaseUrl)
    return `PostgreSQL ${url.host || 'local socket'}${url.pathname}`
  } catch {
    return 'PostgreSQL' // several hosts (a,b:5433) are not one URL authority; nothing else is worth guessing
  }
}

export function startSummary(config: Config, facts: StartFacts): { fields: Record<string, unknown>; message: string } {
  const url = clientUrl(config, facts.port)
  const database = databaseLabel(config)
  const search = config.embedding.provider === '' ? 'full-text only (no embedding provider)' : `semantic + full-text (${config.embedding.provider})`
  const auth = config.authRequired ? [config.jwtSecret && 'jwt', config.oauth.issuer && 'oauth'].filter(Boolean).join('+') : 'none'
  const fields = {
    url,
    transport: 'streamable-http',
    host: config.host,
    port: facts.port,
    mount: config.mountPath !== '',
    auth,
    database: facts.backend,
    vectors: facts.vectors,
    search: config.embedding.provider === '' ? 'full-text' : `hybrid (${config.embedding.provider})`,
    stateless: true,
  }
  const mint = (process.argv[1] ?? '').endsWith('.ts') ? 'npm run awareness -- token --user ID' : 'node dist/cli/main.js token --user ID'
  const token = config.authRequired ? `; every request needs a bearer token (\`${mint}\` makes one)` : '; no authentication'
  const message = `Awareness is ready: add ${url} to your MCP client. Database: ${database}. Search: ${search}${token}.`
  return { fields, message }
}
