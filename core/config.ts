import { userInfo } from 'node:os'
import { dsnToUrl, postgresUrlProblem } from './database-url.js'

export type JwtAlgorithm = 'HS256' | 'HS384' | 'HS512'
export type EmbeddingProviderName = '' | 'ollama' | 'openai' | 'hash' | 'local'

export interface Config {
  readonly host: string
  readonly port: number
  readonly mountPath: string
  readonly publicUrl: string
  readonly allowedOrigins: readonly string[]
  readonly databaseUrl: string
  readonly dataDir: string
  /** The embedded database flushes each commit to stable storage (store/durable-nodefs.ts). */
  readonly embeddedFsync: boolean
  /** Free space (MB) the embedded database keeps on its disk: writes are refused below it (store/disk-space.ts). */
  readonly embeddedMinFreeMb: number
  readonly defaultOwner: string
  readonly authRequired: boolean
  readonly jwtSecret: string
  readonly jwtAlgorithm: JwtAlgorithm
  readonly maxConcurrentPerOwner: number
  /** How long a client may take to send a whole request (headers and body), in ms (security audit L4). */
  readonly requestTimeoutMs: number
  readonly oauth: {
    readonly issuer: string
    readonly audience: string
    readonly jwksUri: string
    readonly userClaim: string
    readonly autoProvision: boolean
  }
  readonly embedding: {
    readonly provider: EmbeddingProviderName
    readonly model: string
    readonly ollamaUrl: string
    readonly url: string
    readonly apiKey: string
    readonly dimensions: number
    /** AWARENESS_EMBEDDING_PROVIDER was set; otherwise the database's recorded provider applies (app/embedding-choice.ts). */
    readonly explicit: boolean
  }
  readonly logLevel: string
  /** Non-fatal notes for the caller to log once at start. */
  readonly warnings: readonly string[]
}

/**
 * The provider a new database is created for: the configured one, or — when none is named — the built-in
 * sentence model on the embedded database (semantic search with nothing to install) and none on PostgreSQL.
 */
export function creationProvider(config: Pick<Config, 'databaseUrl' | 'embedding'>): EmbeddingProviderName {
  if (config.embedding.explicit) return config.embedding.provider
  return config.databaseUrl === '' ? 'local' : ''
}

/** Every configuration problem found in one pass; the message joins them with '; '. */
export class ConfigError extends Error {
  readonly problems: readonly string[]
  constructor(problems: readonly string[]) {
    super(problems.join('; '))
    this.name = 'ConfigError'
    this.problems = Object.freeze([...problems])
  }
}

type Env = Readonly<Record<string, string | undefined>>

const JWT_ALGORITHMS: readonly JwtAlgorithm[] = ['HS256', 'HS384', 'HS512']
const PROVIDERS: readonly EmbeddingProviderName[] = ['ollama', 'openai', 'hash', 'local']
const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']
const SESSION_VARIABLES = [
  'AWARENESS_SESSION_DATABASE_URL',
  'AWARENESS_SESSION_TTL',
  'AWARENESS_SESSION_POOL_MIN',
  'AWARENESS_SESSION_POOL_MAX',
  'AWARENESS_MAX_SESSIONS_PER_OWNER',
]
/**
 * The reference's OAuth proxy (a workaround for clients that ignore authorization-server metadata). Not
 * built: every client tried so far follows the metadata. Accepted so an existing .env still starts, and
 * named in one warning so nobody believes it is on.
 */
const OAUTH_PROXY_VARIABLES = [
  'AWARENESS_OAUTH_PROXY',
  'AWARENESS_OAUTH_PROXY_BAN_DURATION',
  'AWARENESS_OAUTH_PROXY_RATE_AUTHORIZE',
  'AWARENESS_OAUTH_PROXY_RATE_TOKEN',
  'AWARENESS_OAUTH_PROXY_RATE_REGISTER',
  'AWARENESS_OAUTH_PROXY_RATE_WINDOW',
  'AWARENESS_OAUTH_PROXY_IP_HEADERS',
]
const RESERVED_OWNER = '_system'
/** The model name the hash provider's vectors are stored under (workers/embedder.ts uses it too). */
export const HASH_MODEL = 'hash-ngram-v1'
/** The built-in sentence model (workers/local-provider.ts): its stored model name and fixed vector size. */
export const LOCAL_MODEL = 'use-lite-en-512'
export const LOCAL_DIMENSIONS = 512
/** The PostgreSQL pool size (http-and-operations.md §1: max 10); store/store.ts opens this many. */
export const POOL_CONNECTIONS = 10
// RFC 7518 §3.2: an HMAC key should be at least as long as the hash output (32 bytes for HS256).
const MIN_SECRET_BYTES = 32

/** Reads typed values from env and records every problem instead of stopping at the first. */
class Reader {
  readonly problems: string[] = []
  readonly warnings: string[] = []
  constructor(private readonly env: Env) {}

  /** Trimmed value; empty counts as unset. */
  str(name: string, fallback = ''): string {
    const value = (this.env[name] ?? '').trim()
    return value === '' ? fallback : value
  }

  isSet(name: string): boolean {
    return this.str(name) !== ''
  }

  /**
   * Only the documented spellings (true/1, false/0; unset or blank is `fallback`, false unless said). Anything
   * else is a problem, not a silent false: AWARENESS_AUTH_REQUIRED=yes must never start an open server (M5).
   */
  bool(name: string, fallback = false): boolean {
    const value = this.str(name).toLowerCase()
    if (value === 'true' || value === '1') return true
    if (value === 'false' || value === '0') return false
    if (value !== '') this.problems.push(`${name} must be true or false (or 1 or 0), got ${JSON.stringify(this.str(name))}`)
    return fallback
  }

  int(name: string, fallback: number, min: number, max = Number.MAX_SAFE_INTEGER): number {
    const text = this.str(name)
    if (text === '') return fallback
    const value = /^[+-]?\d+$/.test(text) ? Number(text) : Number.NaN
    if (!Number.isSafeInteger(value)) {
      this.problems.push(`${name} must be an integer, got ${JSON.stringify(text)}`)
      return fallback
    }
    if (value < min || value > max) {
      const range = max === Number.MAX_SAFE_INTEGER ? `at least ${min}` : `between ${min} and ${max}`
      this.problems.push(`${name} must be ${range}, got ${JSON.stringify(text)}`)
      return fallback
    }
    return value
  }

  list(name: string, fallback: readonly string[] = []): string[] {
    const items = this.str(name).split(',').map((item) => item.trim()).filter((item) => item !== '')
    return items.length > 0 ? items : [...fallback]
  }

  /** An http(s) URL (trailing '/' removed unless kept), or '' when unset. Never echoes the value. */
  httpUrl(name: string, fallback = '', keepTrailingSlash = false): string {
    const text = this.str(name, fallback)
    const value = keepTrailingSlash ? text : stripTrailingSlashes(text)
    if (value !== '' && !isHttpUrl(value)) this.problems.push(`${name} must be an absolute http:// or https:// URL`)
    return value
  }
}

const OPEN_NETWORK = 'AWARENESS_ALLOW_UNAUTHENTICATED_NETWORK'

/** 127.0.0.0/8, ::1 and localhost: addresses no other machine can reach. */
export function isLoopbackHost(host: string): boolean {
  const h = host.toLowerCase().replace(/^\[|\]$/g, '')
  return h === 'localhost' || h === '::1' || /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(h)
}

function stripTrailingSlashes(value: string): string {
  return value.replace(/\/+$/, '')
}

function isHttpUrl(value: string): boolean {
  try {
    const url = new URL(value)
    return (url.protocol === 'http:' || url.protocol === 'https:') && url.hostname !== ''
  } catch {
    return false
  }
}

/** §7: '' when disabled, otherwise exactly one leading '/' and no trailing '/'. */
function normaliseMountPath(value: string): string {
  const trimmed = stripTrailingSlashes(value.trim()).replace(/^\/+/, '')
  return trimmed === '' ? '' : `/${trimmed}`
}

function mountPathProblem(mount: string): string | undefined {
  // The mount becomes a route prefix: only unreserved URL characters, so ':' or '*' can never turn it
  // into a route parameter or wildcard.
  if (!/^[A-Za-z0-9._~/-]+$/.test(mount)) {
    return 'AWARENESS_MOUNT_PATH may contain only letters, digits, "-", "_", ".", "~" and "/"'
  }
  if (mount.split('/').some((segment) => segment === '.' || segment === '..')) {
    return 'AWARENESS_MOUNT_PATH must not contain "." or ".." segments'
  }
  return undefined
}

function resolveDefaultOwner(reader: Reader): string {
  const configured = reader.str('AWARENESS_DEFAULT_OWNER')
  if (configured === RESERVED_OWNER) {
    reader.problems.push(`AWARENESS_DEFAULT_OWNER must not be "${RESERVED_OWNER}" (reserved for system-owned schemas)`)
    return 'system'
  }
  if (configured !== '') return configured
  let osUser = ''
  try {
    osUser = userInfo().username.trim()
  } catch {
    // A uid without a passwd entry (common in containers run with --user) throws here.
  }
  return osUser === '' || osUser === RESERVED_OWNER ? 'system' : osUser
}

// ---- database URL -------------------------------------------------------------------------------

const DB = 'AWARENESS_DATABASE_URL'

function resolveDatabaseUrl(reader: Reader): string {
  const value = reader.str(DB)
  if (value === '') return ''
  // Problems below never quote the value: it usually carries a password.
  if (!value.includes('://') && /^[A-Za-z_][A-Za-z0-9_]*\s*=/.test(value)) {
    const converted = dsnToUrl(value)
    if (converted.problem !== undefined) {
      reader.problems.push(`${DB} is not a valid libpq key=value DSN: ${converted.problem}`)
      return ''
    }
    return converted.url
  }
  const problem = postgresUrlProblem(value)
  if (problem !== undefined) {
    reader.problems.push(`${DB} ${problem}`)
    return ''
  }
  return value
}

// ---- the loader ---------------------------------------------------------------------------------

/**
 * The only reader of the environment: pass it process.env (or a test's record). Pure apart from
 * os.userInfo() for the default owner. Throws one ConfigError listing every problem found.
 */
export function loadConfig(env: Env): Config {
  const r = new Reader(env)

  const transport = r.str('AWARENESS_TRANSPORT')
  if (transport !== '' && transport.toLowerCase() !== 'streamable-http') {
    r.problems.push(
      `AWARENESS_TRANSPORT must be "streamable-http" (the only transport), got ${JSON.stringify(transport)}`,
    )
  }

  const host = r.str('AWARENESS_HOST', '127.0.0.1')
  const port = r.int('AWARENESS_PORT', 8420, 0, 65535)

  const mountPath = normaliseMountPath(r.str('AWARENESS_MOUNT_PATH'))
  const mountProblem = mountPath === '' ? undefined : mountPathProblem(mountPath)
  if (mountProblem !== undefined) r.problems.push(mountProblem)

  const publicUrl = r.httpUrl('AWARENESS_PUBLIC_URL')
  const allowedOrigins = r.list('AWARENESS_ALLOWED_ORIGINS')
  for (const origin of allowedOrigins) {
    if (origin !== '*' && !/^[a-z][a-z0-9+.-]*:\/\/[^/?#\s]+$/i.test(origin)) {
      r.warnings.push(
        `AWARENESS_ALLOWED_ORIGINS entry ${JSON.stringify(origin)} is not an origin ` +
          '(scheme://host[:port], no path) and will never match',
      )
    }
  }

  const databaseUrl = resolveDatabaseUrl(r)
  const dataDir = r.str('AWARENESS_DATA_DIR', './data')
  const embeddedFsync = r.bool('AWARENESS_EMBEDDED_FSYNC', true)
  const embeddedMinFreeMb = r.int('AWARENESS_EMBEDDED_MIN_FREE_MB', 64, 0)
  const defaultOwner = resolveDefaultOwner(r)

  const authRequired = r.bool('AWARENESS_AUTH_REQUIRED')
  // The secret is used byte for byte (the token CLI signs with the same value); blank means unset.
  const rawSecret = env.AWARENESS_JWT_SECRET ?? ''
  const jwtSecret = rawSecret.trim() === '' ? '' : rawSecret
  const algorithmText = r.str('AWARENESS_JWT_ALGORITHM', 'HS256').toUpperCase()
  const jwtAlgorithm = JWT_ALGORITHMS.find((a) => a === algorithmText)
  if (jwtAlgorithm === undefined) {
    const given = JSON.stringify(r.str('AWARENESS_JWT_ALGORITHM'))
    r.problems.push(`AWARENESS_JWT_ALGORITHM must be HS256, HS384 or HS512, got ${given}`)
  }
  if (jwtSecret !== '' && Buffer.byteLength(jwtSecret, 'utf8') < MIN_SECRET_BYTES) {
    r.warnings.push(
      `AWARENESS_JWT_SECRET is shorter than ${MIN_SECRET_BYTES} bytes: generate a strong one with \`npm run awareness -- secret\` (installed: \`awareness secret\`)`,
    )
  }
  // One owner's requests may hold at most every pooled connection, never queue for more (audit M6).
  const maxConcurrentPerOwner = r.int('AWARENESS_MAX_CONCURRENT_PER_OWNER', 10, 1, POOL_CONNECTIONS)
  const requestTimeoutMs = r.int('AWARENESS_REQUEST_TIMEOUT_SECONDS', 30, 1, 3600) * 1000

  const oauth = Object.freeze({
    // Kept as written: tokens' iss is compared exactly, and many issuers end in '/' (risk R6).
    issuer: r.httpUrl('AWARENESS_OAUTH_ISSUER', '', true),
    // Default: the MCP endpoint's own URL, the resource indicator clients request tokens for (RFC 8707).
    audience: r.str('AWARENESS_OAUTH_AUDIENCE', publicUrl === '' ? '' : `${publicUrl}${mountPath}/mcp`),
    jwksUri: r.httpUrl('AWARENESS_OAUTH_JWKS_URI'),
    userClaim: r.str('AWARENESS_OAUTH_USER_CLAIM', 'sub'),
    autoProvision: r.bool('AWARENESS_OAUTH_AUTO_PROVISION'),
  })
  if (!authRequired && (jwtSecret !== '' || oauth.issuer !== '')) {
    r.warnings.push(
      `${jwtSecret !== '' ? 'AWARENESS_JWT_SECRET' : 'AWARENESS_OAUTH_ISSUER'} is set but AWARENESS_AUTH_REQUIRED is not true: tokens are ignored and every client acts as the default owner`,
    )
  }
  // Tokens must have been issued for this server (MCP authorization: audience validation), and the
  // metadata must not name whatever Host a caller sent (audit M4, L12): both come from the public URL.
  if (oauth.issuer !== '' && isHttpUrl(oauth.issuer) && publicUrl === '') {
    r.problems.push('AWARENESS_OAUTH_ISSUER needs AWARENESS_PUBLIC_URL (the URL clients reach this server at): it names the resource in the metadata and is the default token audience')
  }
  if (authRequired && jwtSecret === '' && oauth.issuer === '') {
    r.problems.push(
      'AWARENESS_AUTH_REQUIRED is on: auth requires AWARENESS_JWT_SECRET or AWARENESS_OAUTH_ISSUER (or both), and neither is set',
    )
  }

  // Never open to the network by default (audit H4): without authentication only a loopback bind serves
  // owner data, unless the operator says otherwise in so many words.
  const allowOpenNetwork = r.bool(OPEN_NETWORK)
  if (!authRequired && !isLoopbackHost(host)) {
    if (allowOpenNetwork) r.warnings.push(`authentication is off on ${host}: anyone who can reach port ${port} reads and changes all data (${OPEN_NETWORK}=true)`)
    else r.problems.push(`AWARENESS_HOST=${host} serves the network, and authentication is off: set AWARENESS_AUTH_REQUIRED=true with AWARENESS_JWT_SECRET (then mint tokens with \`npm run awareness -- token\`), bind 127.0.0.1, or set ${OPEN_NETWORK}=true to serve without credentials`)
  }

  const providerText = r.str('AWARENESS_EMBEDDING_PROVIDER').toLowerCase()
  const provider: EmbeddingProviderName = PROVIDERS.find((p) => p === providerText) ?? ''
  // 'none' names no provider on purpose: full-text search only, whatever the database was created for.
  if (providerText !== '' && providerText !== 'none' && provider === '') {
    r.warnings.push(
      `AWARENESS_EMBEDDING_PROVIDER ${JSON.stringify(providerText)} is unknown (expected local, hash, ollama, openai or none): ` +
        'embeddings are off and search is lexical only',
    )
  }
  const embeddingUrl = r.httpUrl('AWARENESS_EMBEDDING_URL')
  if (provider === 'openai' && embeddingUrl === '') {
    r.problems.push(
      'AWARENESS_EMBEDDING_PROVIDER=openai requires AWARENESS_EMBEDDING_URL ' +
        '(the base URL of an OpenAI-compatible /v1/embeddings server)',
    )
  }
  const ollamaUrl =
    provider === 'ollama'
      ? r.httpUrl('AWARENESS_OLLAMA_URL', 'http://ollama:11434')
      : stripTrailingSlashes(r.str('AWARENESS_OLLAMA_URL', 'http://ollama:11434'))
  const dimensions = r.int('AWARENESS_EMBEDDING_DIMENSIONS', provider === 'local' ? LOCAL_DIMENSIONS : 768, 1)
  if (provider === 'local' && dimensions !== LOCAL_DIMENSIONS) {
    r.problems.push(`AWARENESS_EMBEDDING_PROVIDER=local makes ${LOCAL_DIMENSIONS}-dimensional vectors; AWARENESS_EMBEDDING_DIMENSIONS is ${dimensions}`)
  }
  const embedding = Object.freeze({
    provider,
    model: provider === 'hash' ? HASH_MODEL : provider === 'local' ? LOCAL_MODEL : r.str('AWARENESS_EMBEDDING_MODEL', 'granite-embedding:278m'),
    ollamaUrl,
    url: embeddingUrl,
    apiKey: r.str('AWARENESS_EMBEDDING_API_KEY'),
    dimensions,
    explicit: providerText !== '',
  })

  const logLevel = r.str('AWARENESS_LOG_LEVEL', 'info').toLowerCase()
  if (!LOG_LEVELS.includes(logLevel)) {
    const given = JSON.stringify(r.str('AWARENESS_LOG_LEVEL'))
    r.problems.push(`AWARENESS_LOG_LEVEL must be one of ${LOG_LEVELS.join(', ')}, got ${given}`)
  }

  const sessionVariables = SESSION_VARIABLES.filter((name) => r.isSet(name))
  if (sessionVariables.length > 0) {
    r.warnings.push(
      `ignoring ${sessionVariables.join(', ')}: the service is always stateless and keeps no sessions`,
    )
  }
  const proxyVariables = OAUTH_PROXY_VARIABLES.filter((name) => r.isSet(name))
  if (proxyVariables.length > 0) {
    r.warnings.push(`ignoring ${proxyVariables.join(', ')}: the OAuth proxy is not part of this server (clients use the authorization server's metadata)`)
  }
  if (r.isSet('AWARENESS_STATELESS_HTTP') && !r.bool('AWARENESS_STATELESS_HTTP')) {
    r.warnings.push('AWARENESS_STATELESS_HTTP=false is ignored: the service is always stateless')
  }

  if (r.problems.length > 0) throw new ConfigError(r.problems)

  return Object.freeze({
    host,
    port,
    mountPath,
    publicUrl,
    allowedOrigins: Object.freeze(allowedOrigins),
    databaseUrl,
    dataDir,
    embeddedFsync,
    embeddedMinFreeMb,
    defaultOwner,
    authRequired,
    jwtSecret,
    jwtAlgorithm: jwtAlgorithm ?? 'HS256',
    maxConcurrentPerOwner,
    requestTimeoutMs,
    oauth,
    embedding,
    logLevel,
    warnings: Object.freeze([...r.warnings]),
  })
}
