/**
 * The command-line tools (http-and-operations.md §17, §21 E, risks R8, R19, R27), spawned as a user runs
 * them — `node --import tsx cli/<entry>.ts` with a clean environment — against a throwaway
 * PostgreSQL database and a temporary embedded data directory.
 */
import t, { type Test } from 'tap'
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { decodeJwt, decodeProtectedHeader } from 'jose'
import { verify } from '@node-rs/argon2'
import { Store } from '../store/index.js'
import { insertEntry } from '../store/queries/entries.js'
import { MIGRATIONS } from '../store/migrations.js'
import { backends, createDatabase, post, startServer, type Backend } from './helpers.js'
import { cli, type Run } from './fixtures/cli.js'

/** The newest migration step, which `migrate --current` must name once everything is applied. */
const LATEST = MIGRATIONS[MIGRATIONS.length - 1].version
const SECRET = 'cli-secret-0123456789-abcdefghijklmnopq'

const oneLine = (tt: Test, r: Run, what: string) => {
  tt.equal(r.stderr.trimEnd().split('\n').length, 1, `${what}: one line on stderr`)
  tt.notMatch(r.stderr, /\n\s+at |\.ts:\d+/, `${what}: no stack trace`)
}

t.test('secret and token need no database', async (t) => {
  const a = await cli('secret', [])
  const b = await cli('main', ['secret'])
  t.equal(a.code, 0)
  t.match(a.stdout, /^[A-Za-z0-9_-]{43}\n$/, '43 base64url characters')
  t.not(a.stdout, b.stdout, 'random every time')

  const missing = await cli('token', ['--user', 'a'])
  t.equal(missing.code, 1)
  t.match(missing.stderr, /AWARENESS_JWT_SECRET/)
  oneLine(t, missing, 'no secret')
  for (const args of [['--user', 'a', '--expires', '10m'], ['--user', 'a', '--expires', '0d'], ['--user', 'a', '--expires', '366d'], [], ['--user'], ['--user', 'a', '--bogus']]) {
    const r = await cli('token', args, { AWARENESS_JWT_SECRET: SECRET })
    t.equal(r.code, 2, `usage error: ${args.join(' ')}`)
    t.match(r.stderr, /Usage: npm run awareness -- token/)
    t.equal(r.stdout, '')
  }
  const r = await cli('token', ['--user', 'alice'], { AWARENESS_JWT_SECRET: SECRET })
  t.equal(r.code, 0)
  const claims = decodeJwt(r.stdout.trim())
  t.same(Object.keys(claims).sort(), ['exp', 'iat', 'sub'])
  t.equal(claims.sub, 'alice')
  t.equal((claims.exp ?? 0) - (claims.iat ?? 0), 2_592_000, 'default lifetime 30 days')
  t.same(decodeProtectedHeader(r.stdout.trim()), { alg: 'HS256', typ: 'JWT' })
  const day = decodeJwt((await cli('main', ['token', '--user', 'a', '--expires', '24h'], { AWARENESS_JWT_SECRET: SECRET })).stdout.trim())
  t.equal((day.exp ?? 0) - (day.iat ?? 0), 86_400)
  const hs384 = await cli('token', ['--user', 'a'], { AWARENESS_JWT_SECRET: SECRET, AWARENESS_JWT_ALGORITHM: 'HS384' })
  t.equal(decodeProtectedHeader(hs384.stdout.trim()).alg, 'HS384')

  const srv = await startServer(t, { backend: backends()[0], env: { AWARENESS_AUTH_REQUIRED: 'true', AWARENESS_JWT_SECRET: SECRET } })
  const list = { jsonrpc: '2.0', id: 1, method: 'tools/list' }
  t.equal((await post(srv.url, list, { authorization: `Bearer ${r.stdout.trim()}` })).status, 200, 'a minted token is accepted by a running server')
  t.equal((await post(srv.url, list, { authorization: `bearer ${r.stdout.trim()}` })).status, 200)
  t.equal((await post(srv.url, list, { authorization: `Bearer ${hs384.stdout.trim()}` })).status, 401, 'the server pins its own algorithm')
})

t.test('usage errors exit 2 with the usage on stderr', async (t) => {
  for (const [entry, args] of [['main', []], ['main', ['nope']], ['user', []], ['user', ['frob']], ['user', ['add']], ['migrate', ['--bogus']], ['register-schema', ['--family', 'x']], ['secret', ['extra']]] as const) {
    const r = await cli(entry, [...args])
    t.equal(r.code, 2, `${entry} ${args.join(' ')}`)
    t.match(r.stderr, /Usage:/)
  }
  const help = await cli('main', ['users', '--help'])
  t.equal(help.code, 0)
  t.match(help.stdout, /set-password/)
})

/** Where each backend's tools point: a fresh PostgreSQL database, or a fresh embedded data directory. */
async function target(tt: Test, backend: Backend): Promise<{ env: Record<string, string>; open: () => Promise<Store> }> {
  if (backend === 'postgres') {
    const db = await createDatabase('cli')
    tt.teardown(db.drop)
    return { env: { AWARENESS_DATABASE_URL: db.url }, open: () => Store.open({ databaseUrl: db.url, dataDir: 'memory://', dimensions: 768 }) }
  }
  const dir = mkdtempSync(join(tmpdir(), 'awareness-cli-'))
  tt.teardown(() => rmSync(dir, { recursive: true, force: true }))
  return { env: { AWARENESS_DATA_DIR: dir }, open: () => Store.open({ databaseUrl: '', dataDir: dir, dimensions: 768 }) }
}

for (const backend of backends()) {
  t.test(`users, register-schema and migrate on ${backend}`, async (t) => {
    const { env, open } = await target(t, backend)
    const user = (args: string[], input?: string) => cli('user', args, env, input)
    // Each embedded run starts PGlite (seconds): the repeated negative cases run on one backend only.
    const full = backend === backends().at(-1)

    const migrated = await cli('migrate', [], env)
    t.equal(migrated.code, 0, migrated.stderr)
    t.match(migrated.stdout, /Applied 0001_core_tables\n[\s\S]*Migrations complete\.\n$/)
    const again = await cli('main', ['migrate'], env)
    t.equal(again.stdout, 'Migrations complete.\n', 'idempotent: nothing left to apply')
    t.equal((await cli('migrate', ['--current'], env)).stdout, `${LATEST}\n`)
    if (full) t.match((await cli('migrate', ['--history'], env)).stdout, /^0001_core_tables {2}applied \d{4}-/)
    const down = await cli('migrate', ['--downgrade', 'base'], env)
    t.equal(down.code, 1)
    oneLine(t, down, 'downgrade')

    t.equal((await user(['add', 'u1', '--email', 'U.1+x@Gmail.com', '--phone', '+44 20 7946 0958'])).stdout, "User 'u1' created.\n")
    await user(['add', 'u2', '--display-name', 'Second', '--timezone', 'Europe/Paris'])
    if (full) {
      const dup = await user(['add', 'u1'])
      t.equal(dup.code, 1)
      t.equal(dup.stderr, "Error: user 'u1' already exists\n")
      const sameMail = await user(['add', 'u3', '--email', 'u1@googlemail.com'])
      t.equal(sameMail.code, 1, 'the canonical email is unique')
      oneLine(t, sameMail, 'duplicate email')
    }
    const phone = await user(['add', 'u4', '--phone', '555-CALL-NOW'])
    t.equal(phone.code, 1)
    t.match(phone.stderr, /555-CALL-NOW/)
    const listed = (await user(['list'])).stdout.split('\n')
    t.ok(listed.includes('u1  <U.1+x@Gmail.com>  tz=UTC'), 'check 54 line')
    t.ok(listed.includes('u2  (Second)  tz=Europe/Paris'))

    // Data of u1, of another owner, and a _system schema every owner may read: only u1's may leave.
    const store = await open()
    const ids = await store.withOwner('u1', async (tx) => {
      const a = await insertEntry(tx, 'u1', { type: 'note', source: 's', tags: ['t'], data: { description: 'mine' } })
      const b = await insertEntry(tx, 'u1', { type: 'context', source: 's', tags: [], data: { description: 'also mine' } })
      await tx`INSERT INTO reads (owner_id, entry_id, tool_used) VALUES ('u1', ${a.id}, 'get_knowledge')`
      await tx`INSERT INTO actions (owner_id, entry_id, action) VALUES ('u1', ${b.id}, 'did it')`
      return [a.id, b.id]
    })
    const otherId = await store.withOwner('u2', async (tx) => (await insertEntry(tx, 'u2', { type: 'note', source: 's', tags: [], data: { description: 'not yours' } })).id)
    await store.withOwner('_system', (tx) => insertEntry(tx, '_system', { type: 'schema', source: 'ops', tags: [], data: { description: 'shared' }, logicalKey: 'schema:shared:1' }))
    await store.close()

    const exported = await user(['export', 'u1'])
    t.equal(exported.code, 0, exported.stderr)
    t.notMatch(exported.stdout, /password_hash/)
    const doc = JSON.parse(exported.stdout)
    t.same(Object.keys(doc), ['user_id', 'user', 'entries', 'reads', 'actions'])
    t.equal(doc.user.phone, '+442079460958', 'phone normalised to E.164')
    t.equal(doc.user.canonical_email, 'u1@gmail.com')
    t.same(doc.entries.map((e: { id: string }) => e.id).sort(), [...ids].sort(), "exactly u1's entries: no other owner's, no _system schema")
    t.ok(doc.entries[0].created <= doc.entries[1].created, 'oldest first')
    t.equal(doc.reads.length, 1)
    t.equal(doc.actions.length, 1)
    t.match(doc.entries[0].created, /^\d{4}-\d\d-\d\dT.*Z$/, 'ISO timestamps')
    const file = join(tmpdir(), `export-${process.pid}-${backend}.json`)
    t.teardown(() => rmSync(file, { force: true }))
    t.equal((await user(['export', 'u1', '-o', file])).stdout, `Exported to ${file}\n`)
    t.same(JSON.parse(readFileSync(file, 'utf8')), doc)
    if (full) {
      const missing = await user(['export', 'nobody'])
      t.equal(missing.stderr, "Error: user 'nobody' not found\n")
      t.equal(missing.code, 1)
    }

    const weak = await user(['set-password', 'u1'], 'short\npassword123456\naaaaaaaaaaaaaaaaaa\n')
    t.equal(weak.code, 1)
    t.match(weak.stderr, /Must be at least 14 characters \(got 5\)\.[\s\S]*Please try again \(2 attempt\(s\) remaining\)[\s\S]*Too many failed attempts\./)
    const good = 'plum kettle orbit 42 violet'
    const set = await user(['set-password', 'u1'], `${good}\n${good}x\n${good}\n${good}\n`)
    t.equal(set.code, 0, set.stderr)
    t.match(set.stderr, /Passwords do not match\./)
    t.equal(set.stdout, "Password set for 'u1'.\n")
    const check = await open()
    const [row] = await check.system((tx) => tx`SELECT password_hash FROM users WHERE id = 'u1'`)
    await check.close()
    t.match(row.password_hash, /^\$argon2id\$v=19\$m=65536,t=3,p=4\$[A-Za-z0-9+/]{22}\$[A-Za-z0-9+/]{43}$/, 'PHC string with the reference parameters')
    t.equal(await verify(row.password_hash as string, good), true)
    if (full) t.equal((await user(['set-password', 'ghost'])).stderr, "Error: user 'ghost' not found\n")

    const schemaFile = join(tmpdir(), `schema-${process.pid}-${backend}.json`)
    const badFile = join(tmpdir(), `bad-${process.pid}-${backend}.json`)
    writeFileSync(schemaFile, JSON.stringify({ type: 'object', properties: { name: { type: 'string' } } }))
    writeFileSync(badFile, JSON.stringify({ type: 'object', properties: { name: { type: 'strnig' } } }))
    t.teardown(() => [schemaFile, badFile].forEach((f) => rmSync(f, { force: true })))
    const reg = (extra: string[]) => cli('register-schema', ['--system', '--family', 'schema:person', '--version', '1', '--description', 'A person record with a name', ...extra], env)
    const ok = await reg(['--schema-file', schemaFile, '--source', 'ops', '--tags', ' people, ,core '])
    t.equal(ok.code, 0, ok.stderr)
    const result = JSON.parse(ok.stdout)
    t.match(result, { status: 'ok', logical_key: 'schema:person:1' })
    const dupSource = await reg(['--schema-file', schemaFile, '--source', 'elsewhere'])
    t.equal(dupSource.code, 1, 'the same family:version under another source is refused too (R27)')
    t.equal(JSON.parse(dupSource.stderr).error.code, 'store_error')
    const invalid = await reg(['--schema-file', badFile, '--source', 'ops'])
    t.equal(invalid.code, 1)
    t.match(JSON.parse(invalid.stderr), { error: { code: 'invalid_schema', schema_error_path: '/properties/name/type' } })
    t.equal(JSON.parse((await reg(['--schema-file', `${badFile}.none`, '--source', 'ops'])).stderr).error.code, 'file_not_found')
    const view = await open()
    const [schema] = await view.withOwner('u2', (tx) => tx`SELECT owner_id, type, tags, data->>'learned_from' AS lf FROM entries WHERE id = ${result.id}`)
    t.same({ ...schema }, { owner_id: '_system', type: 'schema', tags: ['people', 'core'], lf: 'cli-bootstrap' }, 'readable by any owner')

    if (backend === 'pglite') {
      const locked = await user(['list'])
      t.equal(locked.code, 1, 'the embedded directory is in use by this test process')
      t.match(locked.stderr, /in use by process/)
      oneLine(t, locked, 'locked data directory')
    }
    await view.close()

    const refuse = await user(['delete', 'u1'])
    t.equal(refuse.code, 1)
    t.match(refuse.stderr, /--confirm/)
    oneLine(t, refuse, 'delete without --confirm')
    const deleted = await user(['delete', 'u1', '--confirm'])
    t.equal(deleted.stdout, "Deleted user 'u1': 2 entries, 1 reads, 1 actions.\n", deleted.stderr)
    if (full) t.equal((await user(['delete', 'u1', '--confirm'])).stderr, "Error: user 'u1' not found\n")
    const after = await open()
    const left = await after.withOwner('u2', (tx) => tx`SELECT id FROM entries WHERE owner_id = 'u2'`)
    t.same(left.map((r) => r.id), [otherId], "another owner's data is untouched")
    const gone = await after.withOwner('u1', (tx) => tx`SELECT (SELECT count(*)::int FROM entries WHERE owner_id = 'u1') AS e, (SELECT count(*)::int FROM users WHERE id = 'u1') AS u`)
    t.same({ ...gone[0] }, { e: 0, u: 0 })
    await after.close()
  })

  t.test(`migrate --stamp on a fresh ${backend} database`, async (t) => {
    const { env } = await target(t, backend)
    t.equal((await cli('migrate', ['--current'], env)).stdout, 'No migrations applied.\n')
    t.equal((await cli('migrate', ['--stamp'], env)).stdout, 'Database stamped as current.\n')
    t.equal((await cli('migrate', ['--current'], env)).stdout, `${LATEST}\n`)
  })
}
