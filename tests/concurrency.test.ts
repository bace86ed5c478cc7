/**
 * Concurrent writers on one entry or key, through several MCP clients of both eras at once, on every
 * backend (mcp-surface.md §2.14, §2.15, §3.28, §3.29, D8). On PostgreSQL the calls really overlap (a pool
 * of 10 connections); the embedded database runs one transaction at a time, where the same invariants
 * must hold trivially. Each test states what a naive read-then-write implementation would leave behind,
 * which is what its assertions catch.
 */
import t from 'tap'
import { randomUUID } from 'node:crypto'
import type { Store } from '../store/index.js'
import { backends, call, clientV1, clientV2, startServer, type McpClient } from './helpers.js'

const DAY = 86_400_000
const PARALLEL = 20

async function clientsFor(t: Parameters<typeof startServer>[0], url: string): Promise<McpClient[]> {
  return [await clientV1(t, url), await clientV2(t, url), await clientV1(t, url), await clientV2(t, url)]
}

async function liveRows(store: Store, owner: string, where: { source?: string; key?: string; id?: string }): Promise<Record<string, unknown>[]> {
  return store.withOwner(owner, (tx) => tx`
    SELECT id, type, tags, updated, expires, deleted, data FROM entries
    WHERE owner_id = ${owner}
      AND ${where.id === undefined ? tx`source = ${where.source ?? ''} AND logical_key = ${where.key ?? ''} AND deleted IS NULL` : tx`id = ${where.id}`}`)
}

type Change = { updated: string; changed: Record<string, unknown> }

for (const backend of backends()) {
  t.test(`concurrent writers on ${backend}`, async (t) => {
    t.test('parallel remember upserts of one (source, logical_key) lose no change', async (t) => {
      // Naive read-then-write (select the holder, insert when absent, else rewrite data from the copy read):
      // several calls insert side by side (a duplicate key error or two live entries), and calls that read
      // the same version each append one changelog record to their own copy, so the last write drops the
      // others' records (fewer than 19) and repeats a previous value.
      const srv = await startServer(t, { backend })
      const clients = await clientsFor(t, srv.url)
      const descriptions = Array.from({ length: PARALLEL }, (_, i) => `version ${i}`)
      const answers = await Promise.all(
        descriptions.map((description, i) => call(clients[i % clients.length], 'remember', { source: 'race', tags: ['doc'], description, logical_key: 'one-doc' })),
      )
      t.ok(answers.every((r) => !r.isError), 'no call failed')
      t.equal(new Set(answers.map((r) => r.body.id)).size, 1, 'every call answered the same id')
      t.equal(answers.filter((r) => r.body.action === 'created').length, 1, 'exactly one created it')
      const rows = await liveRows(srv.store, srv.owner, { source: 'race', key: 'one-doc' })
      t.equal(rows.length, 1, 'exactly one live entry')
      const data = rows[0].data as { description: string; changelog: Change[] }
      t.equal(data.changelog.length, PARALLEL - 1, 'one changelog record per change after the first')
      const previous = data.changelog.map((c) => c.changed.description as string)
      t.equal(new Set(previous).size, PARALLEL - 1, 'each previous value recorded once')
      t.same([...previous, data.description].sort(), [...descriptions].sort(), 'the previous values and the final one are exactly the 20 sent')
      t.ok(data.changelog.every((c) => Object.keys(c.changed).join() === 'description'), 'only the description changed')
      const times = data.changelog.map((c) => Date.parse(c.updated))
      t.same(times, [...times].sort((x, y) => x - y), 'records are appended in commit order')
    })

    t.test('parallel update_entry calls on one entry lose no change and no changelog record', async (t) => {
      // Naive read-then-write (read the entry without FOR UPDATE, apply the change to that copy, write the
      // whole data back): two calls that read the same version both record the same previous description
      // and the later write erases the earlier one's change and changelog record: fewer than 20 records,
      // a previous value repeated, and a description sent by a successful call missing from the history.
      const srv = await startServer(t, { backend })
      const clients = await clientsFor(t, srv.url)
      const note = await call(clients[0], 'remember', { source: 's', tags: [], description: 'original' })
      const descriptions = Array.from({ length: PARALLEL }, (_, i) => `edit ${i}`)
      const answers = await Promise.all(descriptions.map((description, i) => call(clients[i % clients.length], 'update_entry', { entry_id: note.body.id, description })))
      t.ok(answers.every((r) => !r.isError && r.body.id === note.body.id), 'every call succeeded')
      const [row] = await liveRows(srv.store, srv.owner, { id: note.body.id })
      const data = row.data as { description: string; changelog: Change[] }
      t.equal(data.changelog.length, PARALLEL, 'one record per call')
      const previous = data.changelog.map((c) => c.changed.description as string)
      t.equal(new Set(previous).size, PARALLEL, 'no previous value recorded twice')
      t.same([...previous, data.description].sort(), ['original', ...descriptions].sort(), 'every description is either the current one or in the history')
      t.equal(previous[0], 'original', 'the history starts from the original value')
      t.equal(Date.parse(answers.map((r) => r.body.updated).sort().at(-1) as string), (row.updated as Date).getTime(), 'updated is the last change')
    })

    t.test('a confirmed bulk delete racing update_entry: trashed or updated, never half of each', async (t) => {
      // The update moves the entry out of the delete's tag filter. Outcomes: the delete wins (entry trashed
      // unchanged, the update answers not_found) or the update wins (entry live and updated, the delete
      // matches nothing). A naive update (read, then write by id without re-checking `deleted`) reports
      // success while the entry sits in the trash, and writes back data read before the delete, dropping the
      // remembered expiry so a restore would lose it; a naive bulk delete (collect ids, then trash by id)
      // trashes the entry the update had already moved away.
      const srv = await startServer(t, { backend })
      const clients = await clientsFor(t, srv.url)
      const outcomes = { trashed: 0, updated: 0 }
      for (let i = 0; i < 10; i++) {
        const tag = `race-${i}-${randomUUID().slice(0, 6)}`
        const ctx = await call(clients[0], 'add_context', { source: 's', tags: [tag], description: `original ${i}`, expires_days: 3 })
        const [before] = await liveRows(srv.store, srv.owner, { id: ctx.body.id })
        const [del, upd] = await Promise.all([
          call(clients[(i + 1) % 4], 'delete_entry', { tags: [tag], confirm: true }),
          call(clients[(i + 2) % 4], 'update_entry', { entry_id: ctx.body.id, tags: ['moved'], description: `updated ${i}` }),
        ])
        t.equal(del.isError, false)
        const [after] = await liveRows(srv.store, srv.owner, { id: ctx.body.id })
        const data = after.data as Record<string, unknown>
        if (upd.isError) {
          outcomes.trashed++
          t.equal(upd.body.error.code, 'not_found', `round ${i}: the update lost and says so`)
          t.equal(del.body.trashed, 1)
          t.not(after.deleted, null, 'in the trash')
          t.equal(data.description, `original ${i}`, 'unchanged by the update')
          t.same(after.tags, [tag])
          t.notOk('changelog' in data)
          t.equal(after.updated, null)
          t.equal((after.expires as Date).getTime(), (after.deleted as Date).getTime() + 30 * DAY, 'purge date set')
          t.equal(Date.parse(data._original_expires as string), (before.expires as Date).getTime(), 'the previous expiry is remembered')
          t.same((await call(clients[0], 'restore_entry', { entry_id: ctx.body.id })).body.restored, 1)
          const [back] = await liveRows(srv.store, srv.owner, { id: ctx.body.id })
          t.equal((back.expires as Date).getTime(), (before.expires as Date).getTime(), 'restore brings the expiry back')
        } else {
          outcomes.updated++
          t.equal(del.body.trashed, 0, `round ${i}: the delete matched nothing once the update moved the entry`)
          t.equal(after.deleted, null, 'live')
          t.equal(data.description, `updated ${i}`)
          t.same(after.tags, ['moved'])
          t.same((data.changelog as Change[]).map((c) => c.changed), [{ tags: [tag], description: `original ${i}` }])
          t.equal((after.expires as Date).getTime(), (before.expires as Date).getTime(), 'expiry untouched')
          t.notOk('_original_expires' in data)
        }
      }
      t.equal(outcomes.trashed + outcomes.updated, 10)
      t.comment(`outcomes on ${backend}: ${JSON.stringify(outcomes)}`)
    })

    t.test('parallel register_schema of one family:version under different sources: exactly one wins (D8)', async (t) => {
      // The unique index covers one source only; without the per-key lock each call sees no schema under
      // its own source check and inserts, leaving several live schemas with one key.
      const srv = await startServer(t, { backend })
      const clients = await clientsFor(t, srv.url)
      const family = `schema:race-${randomUUID().slice(0, 8)}`
      const answers = await Promise.all(
        Array.from({ length: 10 }, (_, i) => call(clients[i % 4], 'register_schema', { source: `src-${i}`, tags: [], description: 'd', family, version: '1', schema: { type: 'object' } })),
      )
      const winners = answers.filter((r) => !r.isError)
      t.equal(winners.length, 1, 'one registration succeeded')
      t.ok(answers.filter((r) => r.isError).every((r) => r.body.error.code === 'schema_already_exists' && r.body.error.existing_id === winners[0].body.id), 'the others name the winner')
      const rows = await srv.store.withOwner(srv.owner, (tx) => tx`SELECT count(*)::int AS n FROM entries WHERE owner_id = ${srv.owner} AND type = 'schema' AND deleted IS NULL`)
      t.equal(rows[0].n, 1)
    })

    t.test('parallel create_record upserts of one key leave one record with the whole history', async (t) => {
      const srv = await startServer(t, { backend })
      const clients = await clientsFor(t, srv.url)
      const family = `schema:race-${randomUUID().slice(0, 8)}`
      await call(clients[0], 'register_schema', { source: 's', tags: [], description: 'd', family, version: '1', schema: { type: 'integer' } })
      const answers = await Promise.all(
        Array.from({ length: PARALLEL }, (_, i) => call(clients[i % 4], 'create_record', { source: 's', tags: [], description: 'd', logical_key: 'counter', schema_ref: family, schema_version: '1', content: i })),
      )
      t.ok(answers.every((r) => !r.isError))
      t.equal(new Set(answers.map((r) => r.body.id)).size, 1)
      const rows = await liveRows(srv.store, srv.owner, { source: 's', key: 'counter' })
      t.equal(rows.length, 1)
      const data = rows[0].data as { content: number; changelog: Change[] }
      t.same([...data.changelog.map((c) => c.changed.content as number), data.content].sort((x, y) => x - y), Array.from({ length: PARALLEL }, (_, i) => i))
    })
  })
}
