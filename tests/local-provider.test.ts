/**
 * The built-in sentence model (`local` provider): it loads from its npm package without touching the
 * network, and on both backends it finds notes by meaning where full-text search finds nothing. The notes
 * below were written for this test; each paraphrase shares no word (after stemming) with its note.
 */
import t from 'tap'
import { Socket } from 'node:net'
import { EmbeddingQueue } from '../search/embedding-queue.js'
import { LOCAL_DIMENSIONS, LOCAL_MODEL } from '../core/config.js'
import { LocalProvider } from '../workers/local-provider.js'
import { createEmbeddingPool } from '../workers/embedding-pool.js'
import { backends, call, clientV1, openStore, servicesFor, silentLogger, startServer } from './helpers.js'

const NOTES = [
  'My daughter started kindergarten this autumn',
  'The vet said our puppy needs his shots next week',
  'I have been learning to play the violin on weekends',
  'We are moving to Lisbon in March',
  'The quarterly budget review is on the fifteenth',
  'Grandma makes the best apple pie with cinnamon',
  'Our router keeps dropping the wifi connection at night',
  'I sprained my ankle playing basketball on Tuesday',
  'The roof leaks whenever there is heavy rain',
  'Tickets for the jazz concert sold out in minutes',
  'My passport expires in two months',
  'The garden tomatoes are finally turning red',
  'I switched the team standup to half past nine',
  'Our neighbour lent us his ladder for the gutters',
  'The new espresso machine makes terrible noise',
  'I finished reading a novel about a lighthouse keeper',
  'The car insurance renewal letter arrived today',
  'We planted three cherry trees along the fence',
  'My brother is getting married in Kyoto next spring',
  'The printer on the second floor is out of toner',
  'I signed up for a beginner pottery workshop',
  'Our flight to Oslo was delayed by four hours',
  'The landlord is repainting the stairwell on Friday',
  'My cholesterol results came back normal',
  'The kids built a snowman in the backyard',
]

const PARAPHRASES = [
  { query: 'When did her child begin school?', note: 0 },
  { query: 'dog vaccination appointment', note: 1 },
  { query: 'Which musical instrument is being studied?', note: 2 },
  { query: 'relocating to Portugal', note: 3 },
]

t.test('the model loads and embeds without any network connection', async (t) => {
  const attempts: unknown[] = []
  const connect = Socket.prototype.connect
  const fetch = globalThis.fetch
  // Every TCP connection in Node goes through Socket#connect; fetch is replaced for good measure.
  Socket.prototype.connect = function (this: Socket, ...args: unknown[]) {
    attempts.push(args[0])
    throw new Error('network access attempted')
  } as typeof connect
  globalThis.fetch = (async (input: unknown) => {
    attempts.push(input)
    throw new Error('network access attempted')
  }) as typeof fetch
  try {
    const provider = new LocalProvider()
    t.equal(await provider.isAvailable(), true)
    const [a, b, c] = await provider.embed(['The nurse works night shifts', 'She is a night-shift nurse at the hospital', 'Our router keeps dropping the wifi'])
    t.equal(a.length, LOCAL_DIMENSIONS)
    t.ok(Math.abs(Math.hypot(...a) - 1) < 1e-3, 'unit length')
    const cos = (x: number[], y: number[]) => x.reduce((s, v, i) => s + v * y[i], 0)
    t.ok(cos(a, b) > cos(a, c) + 0.2, `related sentences are closer (${cos(a, b).toFixed(2)} vs ${cos(a, c).toFixed(2)})`)
    t.same(await provider.embed([]), [])
  } finally {
    Socket.prototype.connect = connect
    globalThis.fetch = fetch
  }
  t.same(attempts, [], 'no connection was attempted')
})

for (const backend of backends()) {
  t.test(`a paraphrase is found by the sentence model and missed by full-text search, on ${backend}`, async (t) => {
    const { store, dispose } = await openStore(backend, { dimensions: LOCAL_DIMENSIONS })
    t.teardown(dispose)
    const pool = createEmbeddingPool({ provider: 'local', model: LOCAL_MODEL, ollamaUrl: '', url: '', apiKey: '', dimensions: LOCAL_DIMENSIONS }, undefined, { size: 1 })
    t.teardown(() => pool.close())
    const queue = new EmbeddingQueue({ pool, index: servicesFor(store).search, log: silentLogger(), sweepIntervalMs: 0, busyFloorMs: 60_000 })
    t.teardown(() => queue.close())
    const semantic = await startServer(t, { backend, store, embed: queue, embedder: pool })
    const lexical = await startServer(t, { backend, store, owner: semantic.owner })
    const c = await clientV1(t, semantic.url)
    const ids: string[] = []
    for (const d of NOTES) ids.push((await call(c, 'remember', { source: 'life', tags: [], description: d })).body.id)
    await queue.idle()
    const [row] = await store.sql`SELECT count(*)::int AS n FROM embeddings WHERE owner_id = ${semantic.owner} AND model = ${LOCAL_MODEL}`
    t.equal(row.n, NOTES.length, 'every note embedded with the local model')
    const l = await clientV1(t, lexical.url)
    for (const p of PARAPHRASES) {
      const found = await call(c, 'search', { query: p.query, limit: 3 })
      t.equal(found.body.mode, 'hybrid')
      t.equal(found.body.entries[0]?.id, ids[p.note], `"${p.query}" finds "${NOTES[p.note]}" first`)
      const missed = await call(l, 'search', { query: p.query })
      t.equal(missed.body.mode, 'lexical')
      t.same(missed.body.entries, [], `full-text search finds nothing for "${p.query}"`)
    }
  })
}
