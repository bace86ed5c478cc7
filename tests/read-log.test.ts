/**
 * The write-behind read log (store/read-log.ts, mcp-surface.md §2.12): reads logged by concurrent calls are
 * all written, are visible to the very next read-log query, reach the table on their own within the flush
 * delay, survive a store close, and an entry removed before the write does not cost the batch its others;
 * writes slower than the flushes coalesce instead of queueing one per flush, and what waits is bounded.
 */
import t from 'tap'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { createServices } from '../app/services.js'
import { setTimeout as sleep } from 'node:timers/promises'
import { Store } from '../store/index.js'
import { MAX_BUFFERED_READS, ReadLog } from '../store/read-log.js'
import { backends, call, clientV1, createDatabase, openStore, startServer, uniqueOwner } from './helpers.js'

type Row = Record<string, unknown>

async function countReads(store: Store, owner: string, entryId?: string): Promise<number> {
  const [row] = await store.withOwner(owner, (tx) => tx`SELECT count(*)::int AS n FROM reads WHERE owner_id = ${owner} AND (${entryId ?? null}::text IS NULL OR entry_id = ${entryId ?? null})`)
  return row.n as number
}

async function insertEntry(store: Store, owner: string, description: string): Promise<string> {
  const id = `rl-${uniqueOwner()}`
  await store.withOwner(owner, (tx) => tx`INSERT INTO entries (id, owner_id, type, source, tags, created, data) VALUES (${id}, ${owner}, 'note', 's', '[]', now(), ${tx.json({ description })})`)
  return id
}

for (const backend of backends()) {
  t.test(`concurrent reads are all logged and visible to the next call on ${backend}`, async (tt) => {
    // A flush delay no test outlives: only the readers' own flushes write, so each assertion below shows one.
    const own = await openStore(backend, { readFlushMs: 600_000 })
    tt.teardown(() => own.dispose())
    const srv = await startServer(tt, { backend, store: own.store })
    const c = await clientV1(tt, srv.url)
    const made: string[] = []
    for (const d of ['first shared note', 'second shared note', 'third shared note']) {
      const r = await call(c, 'remember', { source: 's', tags: [], description: d })
      made.push(r.body.id as string)
    }
    const answers = await Promise.all(Array.from({ length: 10 }, () => call(c, 'get_knowledge', {})))
    tt.ok(answers.every((a) => !a.isError && (a.body.entries as Row[]).length === 3), 'ten parallel pages of three entries')
    tt.equal(await countReads(srv.store, srv.owner), 0, 'written behind: nothing in the table yet')
    // No waiting: get_reads writes what is pending before it answers.
    const reads = await call(c, 'get_reads', { limit: 100 })
    const rows = reads.body.entries as Row[]
    tt.equal(rows.length, 30, 'one read per returned entry per call: 30')
    tt.ok(rows.every((r) => r.tool_used === 'get_knowledge' && r.platform === null), 'tool and platform as §2.12 says')
    const listed = await call(c, 'get_knowledge', { mode: 'list' })
    tt.same((listed.body.entries as Row[]).map((e) => e.read_count), [11, 11, 11], 'list mode counts the ten reads and its own')
    const again = await call(c, 'get_knowledge', { mode: 'list' })
    tt.same((again.body.entries as Row[]).map((e) => e.read_count), [12, 12, 12], 'each list call adds exactly one read')
    const last = (again.body.entries as Row[])[0].last_read as string
    tt.ok(Math.abs(Date.parse(last) - Date.now()) < 60_000, 'last_read is the time of this read')
    tt.equal(await countReads(srv.store, srv.owner, made[0]), 11, 'the second list call\'s read is still pending')
    await srv.reads.flush()
    tt.equal(await countReads(srv.store, srv.owner, made[0]), 12, 'the table agrees with the counters')
  })

  t.test(`a pending read reaches the table without any reader on ${backend}`, async (tt) => {
    const srv = await startServer(tt, { backend })
    const c = await clientV1(tt, srv.url)
    const r = await call(c, 'remember', { source: 's', tags: [], description: 'a lonely note about lighthouses' })
    const found = await call(c, 'search', { query: 'lighthouses' })
    tt.equal((found.body.entries as Row[]).length, 1, 'search returns the note')
    let n = 0
    for (let i = 0; i < 100 && n === 0; i++) {
      await new Promise((ok) => setTimeout(ok, 50))
      n = await countReads(srv.store, srv.owner, r.body.id as string)
    }
    tt.equal(n, 1, 'the read was written by the flush timer (polled for up to 5 s, never flushed by hand)')
  })

  t.test(`closing the store writes pending reads; a vanished entry is skipped, the others kept, on ${backend}`, async (tt) => {
    const owner = uniqueOwner()
    const dir = backend === 'pglite' ? await mkdtemp(join(tmpdir(), 'awareness-readlog-')) : undefined
    const db = backend === 'postgres' ? await createDatabase('readlog') : undefined
    tt.teardown(async () => {
      if (dir !== undefined) await rm(dir, { recursive: true, force: true })
      await db?.drop()
    })
    const open = () => Store.open({ databaseUrl: db?.url ?? '', dataDir: dir ?? 'memory://', dimensions: 768 })
    let store = await open()
    const kept = await insertEntry(store, owner, 'kept')
    const gone = await insertEntry(store, owner, 'gone')
    const errors: unknown[] = []
    const services = createServices(store)
    services.reads.record(owner, [gone, kept], 'search', (err) => errors.push(err))
    await store.withOwner(owner, (tx) => tx`DELETE FROM entries WHERE id = ${gone}`)
    await services.close()
    store = await open()
    try {
      tt.equal(await countReads(store, owner, kept), 1, 'the pending read was written at close')
      tt.equal(await countReads(store, owner, gone), 0, 'the removed entry got no read')
      tt.same(errors, [], 'and the batch did not fail for it')
    } finally {
      await store.close()
    }
  })

  t.test(`writes slower than the flushes coalesce, one in progress and one queued, on ${backend}`, async (tt) => {
    // Before, every 20 ms flush chained its own write, so whenever writes were slower the chain grew without
    // bound: under 50 clients, +31 MB of retained heap in 90 s (bench/soak.ts, heap snapshots), each link
    // holding the context of the request that recorded it. This test measured 48 writes for 1 s of reads,
    // the final flush waiting 4.2 s.
    const own = await openStore(backend, { readFlushMs: 600_000 })
    tt.teardown(() => own.dispose())
    const owner = uniqueOwner()
    const entry = await insertEntry(own.store, owner, 'a much-read note')
    const WRITE_MS = 100
    let writes = 0
    let inFlight = 0
    let maxInFlight = 0
    const log = new ReadLog(async (o, fn) => {
      writes++
      maxInFlight = Math.max(maxInFlight, ++inFlight)
      try {
        await sleep(WRITE_MS) // a database that takes 100 ms per transaction
        return await own.store.withOwner(o, fn)
      } finally {
        inFlight--
      }
    }, 20)
    const started = Date.now()
    let recorded = 0
    for (; Date.now() - started < 1_000; recorded++) {
      log.record(owner, [entry], 'search', (err) => tt.error(err))
      await sleep(2)
    }
    const beforeFlush = Date.now()
    await log.flush()
    const waited = Date.now() - beforeFlush
    tt.comment(`${recorded} reads in 1 s, ${writes} writes of >= ${WRITE_MS} ms; the final flush waited ${waited} ms`)
    tt.equal(await countReads(own.store, owner, entry), recorded, 'every read is written')
    tt.ok(writes <= 1_000 / WRITE_MS + 3, `the writes coalesce: ${writes}, about one per write time, not one per flush`)
    tt.equal(maxInFlight, 1, 'one write at a time')
    tt.ok(waited <= 5 * WRITE_MS, `the final flush waits for the write in progress and its own, not a backlog (${waited} ms)`)
  })

  t.test(`reads beyond ${MAX_BUFFERED_READS} waiting go unlogged, reported once, and logging resumes on ${backend}`, async (tt) => {
    const own = await openStore(backend, { readFlushMs: 600_000 })
    tt.teardown(() => own.dispose())
    const owner = uniqueOwner()
    const entry = await insertEntry(own.store, owner, 'a note read far too often')
    let open: () => void = () => undefined
    const gate = new Promise<void>((ok) => (open = ok))
    const log = new ReadLog(async (o, fn) => {
      await gate // a database that stopped answering, until the gate opens
      return own.store.withOwner(o, fn)
    }, 20)
    const errors: string[] = []
    const onError = (err: unknown) => errors.push((err as Error).message)
    log.record(owner, [entry], 'search', onError)
    const stuck = log.flush()
    const page = Array.from({ length: 1_000 }, () => entry)
    for (let i = 0; i < MAX_BUFFERED_READS / page.length + 5; i++) log.record(owner, page, 'search', onError)
    tt.equal(errors.length, 1, 'the overflow is reported once')
    tt.match(errors[0], /further reads go unlogged/)
    open()
    await stuck
    await log.flush()
    tt.equal(await countReads(own.store, owner, entry), 1 + MAX_BUFFERED_READS, 'what was held is written; the overflow was not kept')
    log.record(owner, [entry], 'search', onError)
    await log.flush()
    tt.equal(await countReads(own.store, owner, entry), 2 + MAX_BUFFERED_READS, 'logging resumes once the backlog is written')
    tt.equal(errors.length, 1)
  })
}
