import t from 'tap'
import { userInfo } from 'node:os'
import { ConfigError, loadConfig } from '../core/config.js'

type Env = Record<string, string | undefined>

/** The problems loadConfig reports for env; fails the test when it does not throw a ConfigError. */
function problemsOf(env: Env): readonly string[] {
  try {
    loadConfig(env)
  } catch (error) {
    if (error instanceof ConfigError) return error.problems
    throw error
  }
  throw new Error(`expected a ConfigError for ${JSON.stringify(env)}`)
}

function expectedOsOwner(): string {
  try {
    const name = userInfo().username.trim()
    return name === '' || name === '_system' ? 'system' : name
  } catch {
    return 'system'
  }
}

t.test('defaults from an empty environment', async (t) => {
  const c = loadConfig({})
  t.equal(c.host, '127.0.0.1')
  t.equal(c.port, 8420)
  t.equal(c.mountPath, '')
  t.equal(c.publicUrl, '')
  t.same(c.allowedOrigins, [])
  t.equal(c.databaseUrl, '')
  t.equal(c.dataDir, './data')
  t.equal(c.defaultOwner, expectedOsOwner())
  t.equal(c.authRequired, false)
  t.equal(c.jwtSecret, '')
  t.equal(c.jwtAlgorithm, 'HS256')
  t.equal(c.maxConcurrentPerOwner, 10)
  t.same(c.oauth, { issuer: '', audience: '', jwksUri: '', userClaim: 'sub', autoProvision: false })
  t.same(c.embedding, {
    provider: '',
    model: 'granite-embedding:278m',
    ollamaUrl: 'http://ollama:11434',
    url: '',
    apiKey: '',
    dimensions: 768,
    explicit: false,
  })
  t.equal(c.logLevel, 'info')
  t.same(c.warnings, [])
})

t.test('empty and blank values count as unset', async (t) => {
  const c = loadConfig({
    AWARENESS_HOST: '',
    AWARENESS_PORT: '  ',
    AWARENESS_DEFAULT_OWNER: '',
    AWARENESS_OAUTH_USER_CLAIM: ' ',
    AWARENESS_TRANSPORT: '',
    AWARENESS_DATABASE_URL: '',
    AWARENESS_JWT_SECRET: '   ',
  })
  t.equal(c.host, '127.0.0.1')
  t.equal(c.port, 8420)
  t.equal(c.defaultOwner, expectedOsOwner())
  t.equal(c.oauth.userClaim, 'sub')
  t.equal(c.jwtSecret, '')
})

t.test('explicit values are read', async (t) => {
  const c = loadConfig({
    AWARENESS_TRANSPORT: 'streamable-http',
    AWARENESS_HOST: '0.0.0.0',
    AWARENESS_PORT: ' 9000 ',
    AWARENESS_PUBLIC_URL: 'https://awareness.example.com//',
    AWARENESS_ALLOWED_ORIGINS: ' https://a.example.com, ,*,https://b.example.com:8443 ',
    AWARENESS_DATA_DIR: 'memory://',
    AWARENESS_DEFAULT_OWNER: 'alice',
    AWARENESS_MAX_CONCURRENT_PER_OWNER: '3',
    AWARENESS_AUTH_REQUIRED: 'true',
    AWARENESS_OAUTH_ISSUER: 'https://issuer.example.com/',
    AWARENESS_OAUTH_AUDIENCE: 'awareness',
    AWARENESS_OAUTH_JWKS_URI: 'https://issuer.example.com/keys/',
    AWARENESS_OAUTH_USER_CLAIM: 'email',
    AWARENESS_JWT_ALGORITHM: 'hs512',
    AWARENESS_LOG_LEVEL: 'DEBUG',
  })
  t.equal(c.host, '0.0.0.0')
  t.equal(c.port, 9000)
  t.equal(c.publicUrl, 'https://awareness.example.com')
  t.same(c.allowedOrigins, ['https://a.example.com', '*', 'https://b.example.com:8443'])
  t.equal(c.dataDir, 'memory://')
  t.equal(c.defaultOwner, 'alice')
  t.equal(c.maxConcurrentPerOwner, 3)
  // The issuer keeps its trailing '/': tokens' iss is compared exactly.
  t.equal(c.oauth.issuer, 'https://issuer.example.com/')
  t.equal(c.oauth.audience, 'awareness')
  t.equal(c.oauth.jwksUri, 'https://issuer.example.com/keys')
  t.equal(c.oauth.userClaim, 'email')
  t.equal(c.jwtAlgorithm, 'HS512')
  t.equal(c.logLevel, 'debug')
})

t.test('loadConfig reads its argument, never process.env', async (t) => {
  const saved = process.env.AWARENESS_PORT
  process.env.AWARENESS_PORT = '1234'
  t.teardown(() => {
    if (saved === undefined) delete process.env.AWARENESS_PORT
    else process.env.AWARENESS_PORT = saved
  })
  t.equal(loadConfig({}).port, 8420)
})

t.test('booleans: true/1 or false/0 in any case; any other spelling is a problem (audit M5)', async (t) => {
  for (const spelling of ['yes', 'on', 'required', 'ture']) {
    // Before the fix: each of these silently meant false, and the server started without authentication.
    t.match(problemsOf({ AWARENESS_AUTH_REQUIRED: spelling, AWARENESS_JWT_SECRET: 'x'.repeat(43) }), [new RegExp(`^AWARENESS_AUTH_REQUIRED must be true or false \\(or 1 or 0\\), got "${spelling}"$`)])
  }
  const cases: [string | undefined, boolean][] = [
    ['1', true],
    ['TRUE', true],
    ['true', true],
    [' True ', true],
    ['FALSE', false],
    ['0', false],
    ['false', false],
    ['', false],
    [undefined, false],
  ]
  for (const [value, expected] of cases) {
    const c = loadConfig({
      AWARENESS_AUTH_REQUIRED: value,
      AWARENESS_JWT_SECRET: 'x'.repeat(43),
      AWARENESS_OAUTH_AUTO_PROVISION: value,
    })
    t.equal(c.authRequired, expected, `AWARENESS_AUTH_REQUIRED=${String(value)}`)
    t.equal(c.oauth.autoProvision, expected, `AWARENESS_OAUTH_AUTO_PROVISION=${String(value)}`)
  }
})

t.test('AWARENESS_EMBEDDED_FSYNC: on unless turned off; a misspelling is a problem, not a silent choice', async (t) => {
  const cases = [[undefined, true], ['', true], ['false', false], ['0', false]] as const
  for (const [v, expected] of cases) t.equal(loadConfig(v === undefined ? {} : { AWARENESS_EMBEDDED_FSYNC: v }).embeddedFsync, expected, `AWARENESS_EMBEDDED_FSYNC=${String(v)}`)
  t.match(problemsOf({ AWARENESS_EMBEDDED_FSYNC: 'off' }), [/^AWARENESS_EMBEDDED_FSYNC must be true or false/])
})

t.test('integers must be base-10 integer strings', async (t) => {
  for (const bad of ['abc', '1e3', '12.0', '0x10', '8 420']) {
    const problems = problemsOf({ AWARENESS_PORT: bad })
    t.equal(problems.length, 1, `AWARENESS_PORT=${bad}`)
    t.match(problems[0], 'AWARENESS_PORT')
    t.match(problems[0], JSON.stringify(bad), 'the message quotes the value')
  }
  const names = [
    'AWARENESS_MAX_CONCURRENT_PER_OWNER',
    'AWARENESS_EMBEDDING_DIMENSIONS',
  ]
  for (const name of names) {
    const problems = problemsOf({ [name]: 'ten' })
    t.equal(problems.length, 1, name)
    t.match(problems[0], new RegExp(`^${name} must be an integer, got "ten"$`))
  }
  t.equal(loadConfig({ AWARENESS_PORT: '+8080' }).port, 8080)
})

t.test('ranges: port, concurrency, rates, dimensions', async (t) => {
  t.equal(loadConfig({ AWARENESS_PORT: '0' }).port, 0)
  t.equal(loadConfig({ AWARENESS_PORT: '65535' }).port, 65535)
  t.match(problemsOf({ AWARENESS_PORT: '65536' }), [/AWARENESS_PORT must be between 0 and 65535, got "65536"/])
  t.match(problemsOf({ AWARENESS_PORT: '-1' }), [/AWARENESS_PORT must be between 0 and 65535/])
  t.match(problemsOf({ AWARENESS_MAX_CONCURRENT_PER_OWNER: '0' }), [/AWARENESS_MAX_CONCURRENT_PER_OWNER must be between 1 and 10/])
  // The cap can never exceed the connection pool (audit M6).
  t.match(problemsOf({ AWARENESS_MAX_CONCURRENT_PER_OWNER: '11' }), [/AWARENESS_MAX_CONCURRENT_PER_OWNER must be between 1 and 10/])
  t.match(problemsOf({ AWARENESS_REQUEST_TIMEOUT_SECONDS: '0' }), [/AWARENESS_REQUEST_TIMEOUT_SECONDS must be between 1 and 3600/])
  t.match(problemsOf({ AWARENESS_EMBEDDING_DIMENSIONS: '0' }), [/AWARENESS_EMBEDDING_DIMENSIONS must be at least 1, got "0"/])
  t.equal(loadConfig({ AWARENESS_EMBEDDING_DIMENSIONS: '384' }).embedding.dimensions, 384)
  const local = loadConfig({ AWARENESS_EMBEDDING_PROVIDER: 'local' }).embedding
  t.same([local.provider, local.model, local.dimensions, local.explicit], ['local', 'use-lite-en-512', 512, true], 'local has its own model name and size')
})

t.test('every problem class is reported', async (t) => {
  const cases: [string, Env, RegExp][] = [
    ['transport', { AWARENESS_TRANSPORT: 'stdio' }, /^AWARENESS_TRANSPORT must be "streamable-http".*"stdio"/],
    [
      'auth without secret or issuer',
      { AWARENESS_AUTH_REQUIRED: 'true' },
      /AWARENESS_JWT_SECRET or AWARENESS_OAUTH_ISSUER/,
    ],
    ['jwt algorithm', { AWARENESS_JWT_ALGORITHM: 'RS256' }, /^AWARENESS_JWT_ALGORITHM must be HS256, HS384 or HS512, got "RS256"$/],
    ['integer', { AWARENESS_MAX_CONCURRENT_PER_OWNER: '6o' }, /^AWARENESS_MAX_CONCURRENT_PER_OWNER must be an integer/],
    ['port range', { AWARENESS_PORT: '99999' }, /^AWARENESS_PORT must be between 0 and 65535/],
    ['dimensions', { AWARENESS_EMBEDDING_DIMENSIONS: '0' }, /^AWARENESS_EMBEDDING_DIMENSIONS must be at least 1/],
    ['reserved owner', { AWARENESS_DEFAULT_OWNER: '_system' }, /^AWARENESS_DEFAULT_OWNER must not be "_system"/],
    ['public URL scheme', { AWARENESS_PUBLIC_URL: 'ftp://awareness.example.com' }, /^AWARENESS_PUBLIC_URL must be an absolute http/],
    ['public URL relative', { AWARENESS_PUBLIC_URL: 'awareness.example.com' }, /^AWARENESS_PUBLIC_URL must be an absolute http/],
    ['database URL scheme', { AWARENESS_DATABASE_URL: 'mysql://u:p@h/db' }, /^AWARENESS_DATABASE_URL must start with postgres:\/\/ or postgresql:\/\//],
    ['database URL without scheme', { AWARENESS_DATABASE_URL: 'localhost:5432/db' }, /^AWARENESS_DATABASE_URL must start with/],
    ['unencoded @ in password', { AWARENESS_DATABASE_URL: 'postgresql://u:p@ss@h/db' }, /^AWARENESS_DATABASE_URL has an unencoded '@'.*%40/],
    ['@ after a slash in password', { AWARENESS_DATABASE_URL: 'postgresql://u:pa/ss@h/db' }, /^AWARENESS_DATABASE_URL has an '@' after a '\/'/],
    ['bad percent-encoding', { AWARENESS_DATABASE_URL: 'postgres://u:p%zz@h/db' }, /malformed percent-encoding/],
    ['database port', { AWARENESS_DATABASE_URL: 'postgres://u@h:70000/db' }, /port above 65535/],
    ['malformed DSN', { AWARENESS_DATABASE_URL: 'host=db password' }, /^AWARENESS_DATABASE_URL is not a valid libpq key=value DSN: every item must be keyword=value$/],
    ['unterminated DSN quote', { AWARENESS_DATABASE_URL: "host=db password='abc" }, /a quoted value is not terminated/],
    ['DSN port', { AWARENESS_DATABASE_URL: 'host=db port=five' }, /port must be a number/],
    [
      'openai without URL',
      { AWARENESS_EMBEDDING_PROVIDER: 'openai' },
      /^AWARENESS_EMBEDDING_PROVIDER=openai requires AWARENESS_EMBEDDING_URL/,
    ],
    ['embedding URL', { AWARENESS_EMBEDDING_PROVIDER: 'openai', AWARENESS_EMBEDDING_URL: 'not a url' }, /^AWARENESS_EMBEDDING_URL must be an absolute http/],
    ['ollama URL', { AWARENESS_EMBEDDING_PROVIDER: 'ollama', AWARENESS_OLLAMA_URL: 'ollama:11434' }, /^AWARENESS_OLLAMA_URL must be an absolute http/],
    ['OAuth issuer', { AWARENESS_OAUTH_ISSUER: 'issuer.example.com' }, /^AWARENESS_OAUTH_ISSUER must be an absolute http/],
    ['log level', { AWARENESS_LOG_LEVEL: 'verbose' }, /^AWARENESS_LOG_LEVEL must be one of fatal, error, warn, info, debug, trace, silent, got "verbose"$/],
    ['mount path characters', { AWARENESS_MOUNT_PATH: 'a b?c' }, /^AWARENESS_MOUNT_PATH may contain only letters/],
    ['mount path route syntax', { AWARENESS_MOUNT_PATH: '/:secret' }, /^AWARENESS_MOUNT_PATH may contain only letters/],
    ['mount path wildcard', { AWARENESS_MOUNT_PATH: '/s*' }, /^AWARENESS_MOUNT_PATH may contain only letters/],
    ['mount path dot segments', { AWARENESS_MOUNT_PATH: '/a/../b' }, /^AWARENESS_MOUNT_PATH must not contain "\." or "\.\." segments$/],
  ]
  for (const [name, env, pattern] of cases) {
    const problems = problemsOf(env)
    t.equal(problems.length, 1, `${name}: exactly one problem`)
    t.match(problems[0], pattern, name)
    t.notMatch(problems[0], '; ', `${name}: the separator of ConfigError.message never appears inside a problem`)
  }
})

t.test('all problems are reported at once in one error', async (t) => {
  const env: Env = {
    AWARENESS_TRANSPORT: 'stdio',
    AWARENESS_PORT: 'eighty',
    AWARENESS_AUTH_REQUIRED: '1',
    AWARENESS_JWT_ALGORITHM: 'none',
    AWARENESS_DEFAULT_OWNER: '_system',
    AWARENESS_EMBEDDING_DIMENSIONS: '-3',
    AWARENESS_DATABASE_URL: 'postgresql://u:p@ss@h/db',
  }
  let caught: unknown
  try {
    loadConfig(env)
  } catch (error) {
    caught = error
  }
  t.ok(caught instanceof ConfigError, 'throws a ConfigError')
  t.ok(caught instanceof Error, 'which is an Error')
  const error = caught as ConfigError
  t.equal(error.name, 'ConfigError')
  t.equal(error.problems.length, 7)
  t.equal(error.message, error.problems.join('; '))
  for (const name of [
    'AWARENESS_TRANSPORT',
    'AWARENESS_PORT',
    'AWARENESS_JWT_SECRET or AWARENESS_OAUTH_ISSUER',
    'AWARENESS_JWT_ALGORITHM',
    'AWARENESS_DEFAULT_OWNER',
    'AWARENESS_EMBEDDING_DIMENSIONS',
    'AWARENESS_DATABASE_URL',
  ]) {
    t.ok(error.problems.some((p) => p.includes(name)), `names ${name}`)
  }
  t.ok(Object.isFrozen(error.problems), 'problems are frozen')
})

t.test('database problems never echo the URL (it carries the password)', async (t) => {
  for (const url of ['postgresql://admin:hunter2@@db/x', 'mysql://admin:hunter2@db/x', "host=db password='hunter2"]) {
    const problems = problemsOf({ AWARENESS_DATABASE_URL: url })
    t.notMatch(problems.join('; '), 'hunter2', url.slice(0, 8))
  }
})

t.test('auth requirements are met by a secret, an issuer, or both', async (t) => {
  const secret = 'x'.repeat(43)
  t.equal(loadConfig({ AWARENESS_AUTH_REQUIRED: 'true', AWARENESS_JWT_SECRET: secret }).jwtSecret, secret)
  const issuerOnly = loadConfig({ AWARENESS_AUTH_REQUIRED: 'true', AWARENESS_OAUTH_ISSUER: 'https://id.example.com', AWARENESS_PUBLIC_URL: 'https://mem.example' })
  t.equal(issuerOnly.oauth.issuer, 'https://id.example.com')
  t.equal(issuerOnly.oauth.audience, 'https://mem.example/mcp', 'the default audience is this MCP endpoint (audit M4)')
  t.equal(loadConfig({ AWARENESS_AUTH_REQUIRED: 'true', AWARENESS_OAUTH_ISSUER: 'https://id.example.com', AWARENESS_PUBLIC_URL: 'https://mem.example', AWARENESS_MOUNT_PATH: '/m' }).oauth.audience, 'https://mem.example/m/mcp')
  // Before the fix: accepted, tokens for any audience passed and the metadata named the caller's Host.
  t.match(problemsOf({ AWARENESS_AUTH_REQUIRED: 'true', AWARENESS_OAUTH_ISSUER: 'https://id.example.com' }), [/^AWARENESS_OAUTH_ISSUER needs AWARENESS_PUBLIC_URL/])
  const both = loadConfig({
    AWARENESS_AUTH_REQUIRED: 'true',
    AWARENESS_JWT_SECRET: secret,
    AWARENESS_OAUTH_ISSUER: 'https://id.example.com',
    AWARENESS_PUBLIC_URL: 'https://mem.example',
  })
  t.equal(both.authRequired, true)
  // With auth off, a missing secret is fine.
  t.equal(loadConfig({ AWARENESS_AUTH_REQUIRED: 'false' }).authRequired, false)
})

t.test('default owner', async (t) => {
  t.equal(loadConfig({ AWARENESS_DEFAULT_OWNER: ' bob ' }).defaultOwner, 'bob')
  t.equal(loadConfig({ AWARENESS_DEFAULT_OWNER: '' }).defaultOwner, expectedOsOwner())
  t.not(loadConfig({}).defaultOwner, '', 'never empty')
  t.match(problemsOf({ AWARENESS_DEFAULT_OWNER: '_system' }), [/_system/])
})

t.test('mount path normalisation', async (t) => {
  const cases: [string, string][] = [
    ['s3cret/', '/s3cret'],
    ['/s3cret', '/s3cret'],
    ['s3cret', '/s3cret'],
    ['/', ''],
    ['///', ''],
    ['', ''],
    ['  /a/b//  ', '/a/b'],
    ['//x', '/x'],
  ]
  for (const [input, expected] of cases) {
    t.equal(loadConfig({ AWARENESS_MOUNT_PATH: input }).mountPath, expected, JSON.stringify(input))
  }
})

t.test('libpq DSN is converted to a postgresql:// URL', async (t) => {
  const url = (dsn: string): string => loadConfig({ AWARENESS_DATABASE_URL: dsn }).databaseUrl
  t.equal(
    url('host=localhost port=5432 dbname=awareness user=awareness password=awareness-dev'),
    'postgresql://awareness:awareness-dev@localhost:5432/awareness',
  )
  t.equal(
    url("host=db user=me password='p@ss w\\'rd' dbname='my db' sslmode=require application_name=aw"),
    "postgresql://me:p%40ss%20w'rd@db/my%20db?sslmode=require&application_name=aw",
    'quoted values, escapes, reserved characters and extra keywords',
  )
  t.equal(url('user = bob password = s3 host = h'), 'postgresql://bob:s3@h', 'spaces around "="')
  t.equal(url('host=/var/run/postgresql dbname=x'), 'postgresql:///x?host=%2Fvar%2Frun%2Fpostgresql', 'Unix socket')
  t.equal(url('host=::1,db2 port=5432,5433 dbname=x'), 'postgresql://[::1]:5432,db2:5433/x', 'several hosts, IPv6')
  t.equal(url('host=a,b port=6432 dbname=x'), 'postgresql://a:6432,b:6432/x', 'one port applies to every host')
  t.equal(url('dbname=x'), 'postgresql:///x')
  t.equal(url('host=db password=a\\ b'), 'postgresql://:a%20b@db', 'backslash escape in an unquoted value')
  t.equal(url('HOST=db DBNAME=x'), 'postgresql://db/x', 'keywords are case-insensitive')

  const converted = url('host=db user=u password=p@ss/word dbname=x')
  t.equal(converted, 'postgresql://u:p%40ss%2Fword@db/x')
  t.equal(decodeURIComponent(new URL(converted).password), 'p@ss/word', 'the password round-trips')
})

t.test('postgres URLs are kept as written', async (t) => {
  for (const url of [
    'postgresql://awareness:awareness-dev@localhost:5432/awareness',
    'postgres://u:p%40ss@h/db?sslmode=require',
    'POSTGRESQL://h/db',
    'postgresql:///db?host=/tmp',
    'postgres://u@[::1]:5432,h2/db',
  ]) {
    t.equal(loadConfig({ AWARENESS_DATABASE_URL: ` ${url} ` }).databaseUrl, url)
  }
})

t.test('embedding provider selection', async (t) => {
  const hash = loadConfig({ AWARENESS_EMBEDDING_PROVIDER: ' Hash ', AWARENESS_EMBEDDING_MODEL: 'nomic-embed-text' })
  t.equal(hash.embedding.provider, 'hash')
  t.equal(hash.embedding.model, 'hash-ngram-v1', 'the hash model name ignores AWARENESS_EMBEDDING_MODEL')
  t.same(hash.warnings, [])

  const ollama = loadConfig({
    AWARENESS_EMBEDDING_PROVIDER: 'OLLAMA',
    AWARENESS_EMBEDDING_MODEL: 'nomic-embed-text',
    AWARENESS_OLLAMA_URL: 'http://localhost:11434/',
  })
  t.equal(ollama.embedding.provider, 'ollama')
  t.equal(ollama.embedding.model, 'nomic-embed-text')
  t.equal(ollama.embedding.ollamaUrl, 'http://localhost:11434')

  const openai = loadConfig({
    AWARENESS_EMBEDDING_PROVIDER: 'openai',
    AWARENESS_EMBEDDING_URL: 'https://embed.example.com/v1/',
    AWARENESS_EMBEDDING_API_KEY: 'placeholder-key',
    AWARENESS_EMBEDDING_DIMENSIONS: '1536',
  })
  t.equal(openai.embedding.provider, 'openai')
  t.equal(openai.embedding.url, 'https://embed.example.com/v1')
  t.equal(openai.embedding.apiKey, 'placeholder-key')
  t.equal(openai.embedding.dimensions, 1536)
  t.equal(openai.embedding.model, 'granite-embedding:278m')

  const unknown = loadConfig({ AWARENESS_EMBEDDING_PROVIDER: 'cohere' })
  t.equal(unknown.embedding.provider, '')
  t.equal(unknown.warnings.length, 1)
  t.match(unknown.warnings[0], /AWARENESS_EMBEDDING_PROVIDER "cohere" is unknown/)
})

t.test('warnings', async (t) => {
  const sessions = loadConfig({
    AWARENESS_SESSION_DATABASE_URL: 'postgresql://h/sessions',
    AWARENESS_SESSION_TTL: '1800',
    AWARENESS_MAX_SESSIONS_PER_OWNER: '10',
  })
  t.equal(sessions.warnings.length, 1, 'one warning for all session variables')
  t.match(sessions.warnings[0], /AWARENESS_SESSION_DATABASE_URL, AWARENESS_SESSION_TTL, AWARENESS_MAX_SESSIONS_PER_OWNER/)
  t.match(sessions.warnings[0], /stateless/)
  for (const name of ['AWARENESS_SESSION_POOL_MIN', 'AWARENESS_SESSION_POOL_MAX']) {
    t.equal(loadConfig({ [name]: '1' }).warnings.length, 1, name)
  }
  t.same(loadConfig({ AWARENESS_SESSION_TTL: '' }).warnings, [], 'an empty session variable is not set')
  t.equal(loadConfig({ AWARENESS_SESSION_TTL: 'not-a-number' }).warnings.length, 1, 'ignored values are not validated')

  // The OAuth proxy is not built: its variables are accepted (an old .env still starts), not validated,
  // and named in one warning.
  const proxy = loadConfig({ AWARENESS_OAUTH_PROXY: 'true', AWARENESS_OAUTH_PROXY_RATE_TOKEN: '6o', AWARENESS_OAUTH_PROXY_IP_HEADERS: 'X-Real-IP' })
  t.equal(proxy.warnings.length, 1, 'one warning for all proxy variables')
  t.match(proxy.warnings[0], /^ignoring AWARENESS_OAUTH_PROXY, AWARENESS_OAUTH_PROXY_RATE_TOKEN, AWARENESS_OAUTH_PROXY_IP_HEADERS: the OAuth proxy is not part of this server/)
  t.notOk('oauthProxy' in proxy, 'nothing of it reaches the configuration')

  const statelessOff = loadConfig({ AWARENESS_STATELESS_HTTP: 'false' })
  t.equal(statelessOff.warnings.length, 1)
  t.match(statelessOff.warnings[0], /AWARENESS_STATELESS_HTTP=false is ignored/)
  t.same(loadConfig({ AWARENESS_STATELESS_HTTP: 'true' }).warnings, [])
  t.same(loadConfig({ AWARENESS_STATELESS_HTTP: '1' }).warnings, [])

  const short = loadConfig({ AWARENESS_AUTH_REQUIRED: 'true', AWARENESS_JWT_SECRET: 'x'.repeat(31) })
  t.equal(short.warnings.length, 1)
  t.match(short.warnings[0], /AWARENESS_JWT_SECRET is shorter than 32 bytes/)
  t.notMatch(short.warnings[0], 'x'.repeat(31), 'the secret is not echoed')
  t.same(loadConfig({ AWARENESS_AUTH_REQUIRED: 'true', AWARENESS_JWT_SECRET: 'x'.repeat(32) }).warnings, [])
  t.same(loadConfig({ AWARENESS_AUTH_REQUIRED: 'true', AWARENESS_JWT_SECRET: 'é'.repeat(16) }).warnings, [], 'length counts bytes')
  // Before the fix: a secret with authentication off started silently, every token ignored (audit M5).
  t.match(loadConfig({ AWARENESS_JWT_SECRET: 'x'.repeat(32) }).warnings, [/AWARENESS_JWT_SECRET is set but AWARENESS_AUTH_REQUIRED is not true/])

  const origin = loadConfig({ AWARENESS_ALLOWED_ORIGINS: 'https://ok.example.com,https://bad.example.com/' })
  t.equal(origin.warnings.length, 1)
  t.match(origin.warnings[0], /"https:\/\/bad\.example\.com\/" is not an origin/)

  const many = loadConfig({ AWARENESS_SESSION_TTL: '5', AWARENESS_STATELESS_HTTP: 'false', AWARENESS_AUTH_REQUIRED: 'true', AWARENESS_JWT_SECRET: 'short' })
  t.equal(many.warnings.length, 3, 'warnings accumulate')
})

t.test('never open to the network by default (audit H4)', async (t) => {
  // Before the fix: the image's AWARENESS_HOST=0.0.0.0 with authentication off started, no warning.
  t.match(problemsOf({ AWARENESS_HOST: '0.0.0.0' }), [/^AWARENESS_HOST=0\.0\.0\.0 serves the network, and authentication is off/])
  t.match(problemsOf({ AWARENESS_HOST: '192.168.1.5' }), [/serves the network/])
  for (const host of ['127.0.0.1', 'localhost', '::1', '[::1]', '127.1.2.3']) t.equal(loadConfig({ AWARENESS_HOST: host }).host, host, `${host} is loopback`)
  t.equal(loadConfig({ AWARENESS_HOST: '0.0.0.0', AWARENESS_AUTH_REQUIRED: 'true', AWARENESS_JWT_SECRET: 'x'.repeat(32) }).authRequired, true)
  const open = loadConfig({ AWARENESS_HOST: '0.0.0.0', AWARENESS_ALLOW_UNAUTHENTICATED_NETWORK: 'true' })
  t.match(open.warnings, [/authentication is off on 0\.0\.0\.0: anyone who can reach port 8420/], 'the explicit opt-in still warns at every start')
})

t.test('the JWT secret is used byte for byte', async (t) => {
  const secret = ` ${'k'.repeat(40)} `
  t.equal(loadConfig({ AWARENESS_JWT_SECRET: secret }).jwtSecret, secret)
})

t.test('the result is deeply frozen', async (t) => {
  const c = loadConfig({ AWARENESS_ALLOWED_ORIGINS: 'https://a.example.com', AWARENESS_SESSION_TTL: '1' })
  for (const [name, value] of Object.entries({
    config: c,
    allowedOrigins: c.allowedOrigins,
    oauth: c.oauth,
    embedding: c.embedding,
    warnings: c.warnings,
  })) {
    t.ok(Object.isFrozen(value), `${name} is frozen`)
  }
  t.throws(() => {
    ;(c as { port: number }).port = 1
  }, TypeError)
  t.throws(() => {
    ;(c.embedding as { dimensions: number }).dimensions = 1
  }, TypeError)
  t.throws(() => {
    ;(c.allowedOrigins as string[]).push('*')
  }, TypeError)
  t.equal(c.port, 8420)
})
