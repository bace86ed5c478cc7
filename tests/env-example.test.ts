/** .env.example, the operator's reference: every variable the server reads is there, and it loads as written. */
import t from 'tap'
import { readFileSync } from 'node:fs'
import { loadConfig } from '../core/config.js'

type Env = Record<string, string | undefined>

t.test('.env.example lists every variable and loads cleanly', async (t) => {
  const text = readFileSync(new URL('../.env.example', import.meta.url), 'utf8')
  const set: Env = {}
  const mentioned = new Set<string>()
  for (const line of text.split('\n')) {
    const assignment = /^([A-Z_]+)=(.*)$/.exec(line)
    if (assignment) set[assignment[1]] = assignment[2]
    const any = /^#?\s*([A-Z][A-Z0-9_]+)=/.exec(line)
    if (any) mentioned.add(any[1])
  }
  const required = [
    'AWARENESS_TRANSPORT', 'AWARENESS_HOST', 'AWARENESS_PORT', 'AWARENESS_MOUNT_PATH', 'AWARENESS_DATABASE_URL',
    'AWARENESS_DEFAULT_OWNER', 'AWARENESS_AUTH_REQUIRED', 'AWARENESS_JWT_SECRET', 'AWARENESS_JWT_ALGORITHM',
    'AWARENESS_MAX_CONCURRENT_PER_OWNER', 'AWARENESS_OAUTH_ISSUER', 'AWARENESS_OAUTH_AUDIENCE',
    'AWARENESS_OAUTH_JWKS_URI', 'AWARENESS_OAUTH_USER_CLAIM', 'AWARENESS_OAUTH_AUTO_PROVISION',
    'AWARENESS_PUBLIC_URL', 'AWARENESS_OAUTH_PROXY', 'AWARENESS_OAUTH_PROXY_BAN_DURATION',
    'AWARENESS_OAUTH_PROXY_RATE_AUTHORIZE', 'AWARENESS_OAUTH_PROXY_RATE_TOKEN', 'AWARENESS_OAUTH_PROXY_RATE_REGISTER',
    'AWARENESS_OAUTH_PROXY_RATE_WINDOW', 'AWARENESS_OAUTH_PROXY_IP_HEADERS', 'AWARENESS_DATA_DIR',
    'AWARENESS_EMBEDDING_PROVIDER', 'AWARENESS_EMBEDDING_URL', 'AWARENESS_EMBEDDING_API_KEY',
    'AWARENESS_EMBEDDING_MODEL', 'AWARENESS_OLLAMA_URL', 'AWARENESS_EMBEDDING_DIMENSIONS',
    'AWARENESS_STATELESS_HTTP', 'AWARENESS_SESSION_DATABASE_URL', 'AWARENESS_SESSION_TTL',
    'AWARENESS_SESSION_POOL_MIN', 'AWARENESS_SESSION_POOL_MAX', 'AWARENESS_MAX_SESSIONS_PER_OWNER',
    'AWARENESS_SESSION_NODE_NAME', 'AWARENESS_ALLOWED_ORIGINS', 'AWARENESS_LOG_LEVEL', 'AWARENESS_EMBEDDED_FSYNC', 'AWARENESS_ENV_FILE',
  ]
  for (const name of required) t.ok(mentioned.has(name), `${name} is listed`)
  t.match(text, /mcp-awareness-secret/)
  t.equal(set.AWARENESS_JWT_SECRET, '', 'no secret is set')
  for (const header of ['server', 'database', 'auth', 'OAuth', 'embeddings', 'logging', 'origins', 'ignored']) {
    t.match(text, new RegExp(`^# --- ${header}`, 'm'), `${header} group`)
  }
  const c = loadConfig(set)
  t.same(c.warnings, [], 'the example raises no warnings')
  t.equal(c.port, 8420)
})
