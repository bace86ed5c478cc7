/**
 * Record schemas cannot stall the service (security audit H1): a pattern with catastrophic backtracking,
 * `uniqueItems` over a long array and a very large schema each answer a clear error or a bounded result,
 * while `/health` and another owner's `get_stats` keep answering.
 */
import t from 'tap'
import { backends, post, startServer } from './helpers.js'
import { bystander, envelope, probeDuring, toolCall } from './fixtures/abuse.js'

/** "A few hundred milliseconds": what a bystander may wait while an attack runs beside it. */
const BYSTANDER_MS = 500

const schemaArgs = (family: string, schema: unknown) => ({ source: 'abuse', tags: [], description: 'd', family, version: '1', schema })
const recordArgs = (family: string, content: unknown, key = 'k') => ({ source: 'abuse', tags: [], description: 'r', logical_key: key, schema_ref: family, schema_version: '1', content })

for (const backend of backends()) {
  t.test(`schema attacks on ${backend}`, async (t) => {
    const attacked = await startServer(t, { backend })
    const other = await bystander(t, backend, attacked)
    const servers = { attacked, other }
    const tool = async (name: string, args: Record<string, unknown>) => envelope(await post(attacked.url, toolCall(name, args)))

    t.test('a pattern with catastrophic backtracking is matched in linear time', async (t) => {
      t.equal((await tool('register_schema', schemaArgs('schema:redos', { type: 'string', pattern: '^(a+)+$' }))).status, 'ok')
      // Before the fix (V8's backtracking RegExp on the main thread): 34 'a's and a '!' held the whole
      // process for 108 s on PGlite, and the /health request sent meanwhile failed.
      const run = await probeDuring(() => tool('create_record', recordArgs('schema:redos', `${'a'.repeat(34)}!`)), servers)
      t.equal(run.result.error?.code, 'validation_failed', 'the content does not match: a plain validation failure')
      t.ok(run.healthMs < BYSTANDER_MS, `/health answered in ${run.healthMs.toFixed(0)} ms`)
      t.ok(run.statsMs < BYSTANDER_MS, `another owner's get_stats answered in ${run.statsMs.toFixed(0)} ms`)
      t.equal((await tool('create_record', recordArgs('schema:redos', 'a'.repeat(100_000), 'r2'))).status, 'ok', 'a long matching value is fine')
    })

    t.test('uniqueItems over a long array is cut off by the time limit', async (t) => {
      t.equal((await tool('register_schema', schemaArgs('schema:unique', { type: 'array', uniqueItems: true }))).status, 'ok')
      const items = Array.from({ length: 25_000 }, (_, i) => [i])
      // Before the fix: 25,000 distinct one-item arrays (quadratic deep comparison) ran on the main thread;
      // /health sent meanwhile waited 6,665 ms.
      const run = await probeDuring(() => tool('create_record', recordArgs('schema:unique', items, 'u')), servers)
      t.equal(run.result.error?.code, 'validation_error', 'the validator ran out of time')
      t.equal(run.result.error?.retryable, false, 'retrying the same content would fail the same way')
      t.match(run.result.error?.message, /took longer than/)
      t.ok(run.healthMs < BYSTANDER_MS, `/health answered in ${run.healthMs.toFixed(0)} ms`)
      t.ok(run.statsMs < BYSTANDER_MS, `another owner's get_stats answered in ${run.statsMs.toFixed(0)} ms`)
      t.equal((await tool('create_record', recordArgs('schema:unique', [1, 2, 3], 'u-small'))).status, 'ok', 'the worker came back for the next record')
    })

    t.test('a very large schema is refused at registration', async (t) => {
      const properties = Object.fromEntries(Array.from({ length: 20_000 }, (_, i) => [`p${i}`, { type: 'string', minLength: 1 }]))
      // Before the fix: this 0.8 MB schema was accepted, and every first record of it compiled on the main
      // thread.
      const answer = await tool('register_schema', schemaArgs('schema:huge', { type: 'object', properties }))
      t.equal(answer.error?.code, 'invalid_parameter')
      t.equal(answer.error?.param, 'schema')
      t.match(answer.error?.message, /KiB/)
    })

    t.test('a schema near the size limit compiles without holding anyone up', async (t) => {
      const properties = Object.fromEntries(Array.from({ length: 750 }, (_, i) => [`p${i}`, { type: 'string', minLength: 1 }]))
      t.equal((await tool('register_schema', schemaArgs('schema:big', { type: 'object', properties }))).status, 'ok')
      const run = await probeDuring(() => tool('create_record', recordArgs('schema:big', { p1: 'x' }, 'b')), servers, 5)
      t.equal(run.result.status, 'ok')
      t.ok(run.healthMs < BYSTANDER_MS, `/health answered in ${run.healthMs.toFixed(0)} ms while it compiled`)
    })

    t.test('record content over the size limit is refused before any work', async (t) => {
      t.equal((await tool('register_schema', schemaArgs('schema:any', {}))).status, 'ok')
      const answer = await tool('create_record', recordArgs('schema:any', 'x'.repeat(300 * 1024), 'a'))
      t.equal(answer.error?.code, 'invalid_parameter')
      t.equal(answer.error?.param, 'content')
    })
  })
}
