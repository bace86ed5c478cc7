/**
 * What a newcomer meets on the first start, through real processes: the `.env` that `.env.example` tells
 * them to write is read (the environment winning over it), the start line names the URL to paste into a
 * client and says which database, which search and whether a token is needed, a secret mount is never
 * printed, and the command-line tools read the same `.env` and name commands that work from the sources.
 */
import t, { type Test } from 'tap'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { callTool, listeningUrl, startProcess } from './fixtures/server-process.js'
import { cli } from './fixtures/cli.js'

const SECRET = 'first-start-secret-0123456789-abcdefghij'

function projectDir(t: Test, envFile: string): string {
  const dir = mkdtempSync(join(tmpdir(), 'awareness-first-'))
  t.teardown(() => rmSync(dir, { recursive: true, force: true }))
  writeFileSync(join(dir, '.env'), envFile)
  return dir
}

const startLine = (output: string): Record<string, unknown> | undefined =>
  output
    .split('\n')
    .filter((l) => l.startsWith('{'))
    .map((l) => JSON.parse(l) as Record<string, unknown>)
    .find((l) => typeof l.msg === 'string' && l.msg.startsWith('Awareness is ready'))

t.test('the .env in the working directory is read, and the environment wins over it', async (t) => {
  const dir = projectDir(t, ['# as copied from .env.example', 'AWARENESS_DATA_DIR=memory://', 'AWARENESS_EMBEDDING_PROVIDER=none', 'AWARENESS_DEFAULT_OWNER=from-the-file', 'AWARENESS_MOUNT_PATH=/s3cret-mount', ''].join('\n'))
  const server = startProcess({ AWARENESS_DEFAULT_OWNER: 'from-the-environment' }, { cwd: dir })
  t.teardown(() => server.child.kill('SIGKILL'))
  const base = await listeningUrl(server)
  const port = new URL(base).port

  const call = await callTool(`${base}/s3cret-mount`, 'get_stats', {})
  t.equal(call.status, 200, 'the mount from the file is in force')
  await new Promise((ok) => setTimeout(ok, 100))
  const output = server.output()
  const ready = startLine(output)
  t.ok(ready, 'one start line tells what to do next')
  t.equal(ready?.url, `http://127.0.0.1:${port}/<AWARENESS_MOUNT_PATH>/mcp`, 'the MCP URL, not the bare origin; the mount by its name only')
  t.match(ready?.msg, `add http://127.0.0.1:${port}/<AWARENESS_MOUNT_PATH>/mcp to your MCP client`)
  t.match(ready?.msg, 'Database: embedded PGlite in memory://')
  t.match(ready?.msg, 'Search: full-text only (no embedding provider)', 'AWARENESS_EMBEDDING_PROVIDER from the file')
  t.match(ready?.msg, 'no authentication')
  t.notMatch(output, /s3cret-mount/, 'the secret mount is never printed')
  t.match(output, /"owner":"from-the-environment"/, 'a variable set in the environment is not replaced by the file')
  t.notMatch(output, /session=none|"tool call"/, 'one line per call, without session noise')
})

t.test('with authentication on, the start line says how to get a token', async (t) => {
  const dir = projectDir(t, `AWARENESS_DATA_DIR=memory://\nAWARENESS_EMBEDDING_PROVIDER=none\nAWARENESS_AUTH_REQUIRED=true\nAWARENESS_JWT_SECRET=${SECRET}\n`)
  const server = startProcess({}, { cwd: dir })
  t.teardown(() => server.child.kill('SIGKILL'))
  await listeningUrl(server)
  const ready = startLine(server.output())
  t.match(ready, { auth: 'jwt', search: 'full-text', database: 'embedded' })
  t.match(ready?.msg, 'every request needs a bearer token (`npm run awareness -- token --user ID` makes one)')
})

t.test('a named env file that cannot be read stops the start, saying which', async (t) => {
  const dir = projectDir(t, '')
  const server = startProcess({ AWARENESS_ENV_FILE: 'settings/missing.env' }, { cwd: dir })
  t.teardown(() => server.child.kill('SIGKILL'))
  t.equal(await server.exited, 1)
  t.match(server.output(), 'Configuration error: settings/missing.env could not be read: ENOENT')
})

t.test('the command-line tools read the same file and name commands that work here', async (t) => {
  const dir = projectDir(t, `AWARENESS_JWT_SECRET=${SECRET}\n`)
  const token = await cli('main', ['token', '--user', 'alice'], { AWARENESS_ENV_FILE: join(dir, '.env') })
  t.equal(token.code, 0, `a token from the secret in the file (${token.stderr.trim()})`)
  t.match(token.stdout, /^ey[\w-]+\.[\w-]+\.[\w-]+\n$/)
  const noSecret = await cli('token', ['--user', 'alice'])
  t.equal(noSecret.code, 1)
  t.match(noSecret.stderr, 'generate one with `npm run awareness -- secret`', 'a command that works from the sources, not a bin that is not on PATH')
  const usage = await cli('main', [])
  t.match(usage.stderr, /^Usage: npm run awareness -- <command>/)
})
