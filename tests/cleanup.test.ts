/**
 * The cleanup job (decision 7, data-and-engine.md §9.3): only owners who opted in with auto_cleanup lose
 * their expired entries and old trash; one instance at a time runs it (lease); RLS stays enforced.
 */
import t from 'tap'
import { Cleanup } from '../app/cleanup.js'
import { releaseLease, takeLease } from '../store/queries/cleanup.js'
import { backends, call, clientV1, silentLogger, startServer, servicesFor } from './helpers.js'

for (const backend of backends()) {
  t.test(`cleanup on ${backend}`, async (t) => {
    const optedIn = await startServer(t, { backend })
    const other = await startServer(t, { backend })
    const store = optedIn.store
    const a = await clientV1(t, optedIn.url)
    const b = await clientV1(t, other.url)
    async function seed(c: typeof a, owner: string) {
      const expired = (await call(c, 'add_context', { source: 's', tags: [], description: 'expired context', expires_days: 1 })).body.id
      const fresh = (await call(c, 'add_context', { source: 's', tags: [], description: 'fresh context', expires_days: 5 })).body.id
      const oldTrash = (await call(c, 'remember', { source: 's', tags: [], description: 'trashed long ago' })).body.id
      const newTrash = (await call(c, 'remember', { source: 's', tags: [], description: 'trashed today' })).body.id
      await call(c, 'delete_entry', { entry_id: oldTrash })
      await call(c, 'delete_entry', { entry_id: newTrash })
      await call(c, 'get_knowledge', { include_expired: true }) // reads that must cascade away with their entries
      await store.withOwner(owner, (tx) => tx`UPDATE entries SET expires = now() - interval '1 minute' WHERE id IN (${expired}, ${oldTrash})`)
      return { expired, fresh, oldTrash, newTrash }
    }
    const ids = await seed(a, optedIn.owner)
    const otherIds = await seed(b, other.owner)
    await call(a, 'set_preference', { key: 'auto_cleanup', value: 'true' })
    await call(b, 'set_preference', { key: 'auto_cleanup', value: 'false' })

    const cleanup = new Cleanup(store, silentLogger())
    // Another instance holds the lease: this one must skip its pass.
    t.equal(await takeLease(store.sql, 'cleanup', 'other-instance', 60), true)
    t.equal((await cleanup.run()).ran, false, 'a lease held by another instance skips the pass')
    await releaseLease(store.sql, 'cleanup', 'other-instance')
    const first = await cleanup.run()
    t.equal(first.ran, true, 'once the lease is free, the pass runs')
    const purged = first.purged
    t.equal(purged[optedIn.owner], 2, 'the opted-in owner lost exactly its expired context and its old trash')
    t.notOk(other.owner in purged, 'an owner without the opt-in loses nothing')

    const left = async (owner: string) => (await store.withOwner(owner, (tx) => tx`SELECT id FROM entries WHERE owner_id = ${owner}`)).map((r) => r.id as string)
    t.ok((await left(optedIn.owner)).includes(ids.fresh), 'an unexpired context stays')
    t.ok((await left(optedIn.owner)).includes(ids.newTrash), 'trash within its 30 days stays (restorable)')
    t.notOk((await left(optedIn.owner)).includes(ids.expired))
    t.notOk((await left(optedIn.owner)).includes(ids.oldTrash))
    t.ok((await left(other.owner)).includes(otherIds.expired), 'nothing of the other owner was purged')
    await servicesFor(store).reads.flush()
    const reads = await store.withOwner(optedIn.owner, (tx) => tx`SELECT count(*)::int AS n FROM reads WHERE entry_id IN (${ids.expired}, ${ids.oldTrash})`)
    t.equal(reads[0].n, 0, 'reads cascade with their entries')

    await call(a, 'delete_entry', { entry_id: (await call(a, 'get_knowledge', { entry_type: 'preference' })).body.entries[0].id })
    await store.withOwner(optedIn.owner, (tx) => tx`UPDATE entries SET expires = now() - interval '1 minute' WHERE id = ${ids.fresh}`)
    const after = await cleanup.run()
    t.equal(after.ran, true, 'the lease was released after the first pass')
    t.notOk(optedIn.owner in after.purged, 'trashing the preference turns the purge off at once')
  })
}
