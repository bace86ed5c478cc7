import t from 'tap'
import type { Test } from 'tap'
import { createHash } from 'node:crypto'
import { createServer } from 'node:http'
import type { IncomingMessage, ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'
import {
  EmbeddingError,
  HashProvider,
  OllamaProvider,
  OpenAiProvider,
  composeEmbeddingText,
  textHash,
} from '../workers/embedder.js'
import { createProvider } from '../workers/providers.js'
import { HASH_MODEL } from '../core/config.js'
import type { EmbeddableEntry } from '../workers/embedder.js'
import { createEmbeddingPool } from '../workers/embedding-pool.js'
import type { EmbeddingProviderConfig } from '../workers/protocol.js'
import { listenLocally } from './fixtures/listen.js'

// ---------------------------------------------------------------------------------------------
// composeEmbeddingText

const entry = (type: string, data: Record<string, unknown>, tags: string[] = [], source = 'nas'): EmbeddableEntry => ({
  type,
  source,
  tags,
  data,
})

t.test('composeEmbeddingText: type, source and tags lines', async (t) => {
  t.equal(composeEmbeddingText(entry('note', {})), 'type: note\nsource: nas')
  t.equal(composeEmbeddingText(entry('note', {}, ['infra', 'disk'])), 'type: note\nsource: nas\ntags: infra, disk')
  t.equal(composeEmbeddingText(entry('context', {}, [], 'work laptop')), 'type: context\nsource: work laptop')
})

t.test('composeEmbeddingText: description, goal, message, effect', async (t) => {
  t.equal(composeEmbeddingText(entry('context', { description: 'Moved to Lisbon' })), 'type: context\nsource: nas\nMoved to Lisbon')
  t.equal(composeEmbeddingText(entry('intention', { goal: 'Renew passport', state: 'pending' })), 'type: intention\nsource: nas\nRenew passport')
  t.equal(
    composeEmbeddingText(entry('alert', { message: 'Disk at 91%', level: 'warning', resolved: false }, ['disk'])),
    'type: alert\nsource: nas\ntags: disk\nDisk at 91%',
  )
  t.equal(
    composeEmbeddingText(entry('pattern', { description: 'Backups run at 2am', effect: 'ignore io alerts', conditions: { hour: 2 } })),
    'type: pattern\nsource: nas\nBackups run at 2am\neffect: ignore io alerts',
  )
  t.equal(composeEmbeddingText(entry('note', { description: 42 })), 'type: note\nsource: nas\n42', 'numbers via String()')
  t.equal(composeEmbeddingText(entry('note', { description: true })), 'type: note\nsource: nas\ntrue', 'booleans via String()')
})

t.test('composeEmbeddingText: key, value, scope (false and 0 are values)', async (t) => {
  t.equal(
    composeEmbeddingText(entry('preference', { key: 'notifications', value: false, scope: 'global' }, [], 'global')),
    'type: preference\nsource: global\nkey: notifications\nvalue: false\nscope: global',
  )
  t.equal(composeEmbeddingText(entry('preference', { key: 'k', value: 0 })), 'type: preference\nsource: nas\nkey: k\nvalue: 0')
  t.equal(composeEmbeddingText(entry('preference', { key: 'k', value: '' })), 'type: preference\nsource: nas\nkey: k\nvalue: ')
  t.equal(composeEmbeddingText(entry('preference', { key: 'k', value: null })), 'type: preference\nsource: nas\nkey: k', 'null value: no line')
  t.equal(
    composeEmbeddingText(entry('preference', { key: 'k', value: { b: [2, { d: 1, c: null }], a: 'x' } })),
    'type: preference\nsource: nas\nkey: k\nvalue: {"a":"x","b":[2,{"c":null,"d":1}]}',
    'objects as JSON with keys sorted at every depth',
  )
})

t.test('composeEmbeddingText: metrics sorted by key', async (t) => {
  const text = composeEmbeddingText(entry('status', { metrics: { mem: 0.5, cpu: 91, disk: { used: 3, free: 1 }, up: true, note: null }, ttl_sec: 120 }))
  t.equal(text, 'type: status\nsource: nas\nmetrics: cpu=91, disk={"free":1,"used":3}, mem=0.5, note=null, up=true')
  t.equal(composeEmbeddingText(entry('status', { metrics: [1, 2] })), 'type: status\nsource: nas', 'metrics that are not an object are skipped')
  t.equal(composeEmbeddingText(entry('status', { metrics: {} })), 'type: status\nsource: nas', 'empty metrics are skipped')
  const a = composeEmbeddingText(entry('status', { metrics: { b: 1, a: { y: 1, x: 2 } } }))
  const b = composeEmbeddingText(entry('status', { metrics: { a: { x: 2, y: 1 }, b: 1 } }))
  t.equal(a, b, 'key order does not change the text')
  t.equal(textHash(a), textHash(b), 'nor the hash')
})

t.test('composeEmbeddingText: inventory array and scalar', async (t) => {
  t.equal(
    composeEmbeddingText(entry('status', { metrics: { cpu: 1 }, inventory: ['nas', 'router', 3, { b: 1, a: 2 }] })),
    'type: status\nsource: nas\nmetrics: cpu=1\ninventory: nas, router, 3, {"a":2,"b":1}',
  )
  t.equal(
    composeEmbeddingText(entry('status', { inventory: { z: 1, a: [{ y: 1, x: 2 }] } })),
    'type: status\nsource: nas\ninventory: {"a":[{"x":2,"y":1}],"z":1}',
  )
  t.equal(composeEmbeddingText(entry('status', { inventory: 'two disks' })), 'type: status\nsource: nas\ninventory: two disks')
  t.equal(composeEmbeddingText(entry('status', { inventory: [] })), 'type: status\nsource: nas', 'empty inventory is skipped')
})

t.test('composeEmbeddingText: content cut at 500 code points', async (t) => {
  const prefix = 'type: note\nsource: nas\n'
  const exact = 'a'.repeat(500)
  t.equal(composeEmbeddingText(entry('note', { content: exact })), prefix + exact, '500 code points: kept whole')
  t.equal(composeEmbeddingText(entry('note', { content: `${exact}b` })), `${prefix + exact}...`, '501: cut')
  const emoji = '😀'.repeat(600) // 1,200 UTF-16 units
  const line = composeEmbeddingText(entry('note', { content: emoji })).slice(prefix.length)
  t.equal(line, `${'😀'.repeat(500)}...`, 'counts code points, never splits a surrogate pair')
  t.equal(composeEmbeddingText(entry('note', { content: '😀'.repeat(500) })), prefix + '😀'.repeat(500), '500 emoji are not cut')
  t.equal(
    composeEmbeddingText(entry('record', { content: { rows: [1, 2], name: 'x' }, schema_ref: 'f', description: 'D' })),
    'type: record\nsource: nas\nD\n{"name":"x","rows":[1,2]}',
    'non-string content as canonical JSON',
  )
})

t.test('composeEmbeddingText: every field, in order', async (t) => {
  const data = {
    content: 'C',
    inventory: ['i'],
    metrics: { m: 1 },
    scope: 'S',
    value: 'V',
    key: 'K',
    effect: 'E',
    message: 'M',
    goal: 'G',
    description: 'D',
  }
  t.equal(
    composeEmbeddingText(entry('note', data, ['t1'])),
    'type: note\nsource: nas\ntags: t1\nD\nG\nM\neffect: E\nkey: K\nvalue: V\nscope: S\nmetrics: m=1\ninventory: i\nC',
  )
})

t.test('composeEmbeddingText: nothing for absent or empty fields', async (t) => {
  const data = {
    description: '',
    goal: null,
    message: undefined,
    effect: '',
    key: '',
    scope: '',
    metrics: null,
    inventory: {},
    content: '',
    language: 'en',
    logical_key: 'lk',
    schema: { type: 'object' },
    learned_from: 'conversation',
    changelog: [{ updated: 'x', changed: {} }],
  }
  t.equal(composeEmbeddingText(entry('note', data)), 'type: note\nsource: nas')
  t.equal(composeEmbeddingText(entry('note', { description: 0 })), 'type: note\nsource: nas', 'zero is not present')
})

t.test('textHash: lowercase hex SHA-256 of UTF-8', async (t) => {
  t.equal(textHash(''), 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855')
  t.equal(textHash('abc'), 'ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad')
  t.equal(textHash('héllo wörld 😀'), '4d51765c5c512fcd71d5dfbb7bdf72e9ec2cb09bb2dfac7cdf3949fcd48f7613')
  t.equal(textHash(composeEmbeddingText(entry('note', {}, [], 'laptop'))), 'b4a95f049ee060face9b64915086fe4903c07b9afabb2d33bd14c1e590beeccc')
})

// ---------------------------------------------------------------------------------------------
// Hash provider

const dot = (a: number[], b: number[]): number => a.reduce((s, x, i) => s + x * b[i], 0)

t.test('HashProvider: deterministic, unit norm, right dimension, lexical similarity', async (t) => {
  const p = new HashProvider(256)
  t.equal(p.modelName, HASH_MODEL)
  t.equal(p.dimensions, 256)
  t.equal(await p.isAvailable(), true)
  const texts = [
    'Nightly backup of the NAS failed: disk quota exceeded',
    'nightly backups on the nas are failing, disk quota exceeded',
    'User prefers dark mode in the code editor',
    '',
    '!!!',
  ]
  const v = await p.embed(texts)
  t.equal(v.length, texts.length)
  for (const x of v) {
    t.equal(x.length, 256)
    t.ok(Math.abs(Math.sqrt(dot(x, x)) - 1) < 1e-9, 'unit norm')
  }
  t.same(await new HashProvider(256).embed(texts), v, 'same vectors from another instance')
  t.same(v[3], v[4], 'texts without words share the fallback vector')
  const similar = dot(v[0], v[1])
  const unrelated = dot(v[0], v[2])
  t.ok(similar > 0.6, `similar texts are close (${similar.toFixed(3)})`)
  t.ok(similar > unrelated + 0.4, `unrelated texts are farther (${unrelated.toFixed(3)})`)
  const [upper, lower] = await p.embed(['DISK FULL', 'disk full'])
  t.same(upper, lower, 'case-insensitive')
  t.same(await p.embed([]), [])
  t.throws(() => new HashProvider(0), { code: 'EMBEDDING_CONFIG' })
})

t.test('HashProvider: fast enough for backfill', async (t) => {
  const p = new HashProvider(768)
  const texts = Array.from({ length: 5_000 }, (_, i) => `type: note\nsource: laptop\ntags: infra\nbackup job ${i} finished with warnings`)
  await p.embed(texts.slice(0, 100))
  const started = performance.now()
  await p.embed(texts)
  const vectors = await p.embed(texts)
  t.comment(`${Math.round(texts.length / ((performance.now() - started) / 1000))} texts/s (informational; speed is measured by the benchmarks)`)
  t.equal(vectors.length, texts.length)
  t.ok(vectors.every((v) => v.length === 768))
})

// ---------------------------------------------------------------------------------------------
// A local server speaking Ollama's and OpenAI's embedding APIs.
// Path prefixes select the behaviour: /slow answers after 10 s, /fail answers 500, /garbage answers
// non-JSON. Model names select bad answers: wrong-dim, wrong-count, reversed, dup-index.

const DIMS = 8

function fakeVector(text: string, dims = DIMS): number[] {
  const bytes = createHash('sha256').update(text).digest()
  return Array.from({ length: dims }, (_, i) => bytes[i % 32] / 255 - 0.5)
}

interface Seen {
  method: string
  path: string
  body: unknown
  auth: string | undefined
  contentType: string | undefined
}

async function startFakeServer(t: Test): Promise<{ base: string; seen: Seen[] }> {
  const seen: Seen[] = []
  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    let raw = ''
    req.on('data', (c: Buffer) => (raw += c.toString()))
    req.on('end', () => {
      const body: unknown = raw ? JSON.parse(raw) : undefined
      const path = req.url ?? '/'
      seen.push({ method: req.method ?? '', path, body, auth: req.headers.authorization, contentType: req.headers['content-type'] })
      const send = (status: number, payload: unknown): void => {
        if (res.destroyed) return
        res.writeHead(status, { 'content-type': 'application/json' })
        res.end(typeof payload === 'string' ? payload : JSON.stringify(payload))
      }
      if (path.startsWith('/slow/')) {
        setTimeout(() => send(200, {}), 10_000).unref()
        return
      }
      if (path.startsWith('/fail/')) return send(500, { error: 'model exploded' })
      if (path.startsWith('/garbage/')) return send(200, 'this is not json')
      const route = path.replace(/^\/(ok)\//, '/')
      const { model, input } = (body ?? {}) as { model?: string; input?: string[] }
      const vectors = (): number[][] => {
        const texts = input ?? []
        if (model === 'wrong-dim') return texts.map((x) => fakeVector(x, DIMS - 1))
        if (model === 'wrong-count') return texts.slice(1).map((x) => fakeVector(x))
        return texts.map((x) => fakeVector(x))
      }
      if (route === '/api/embed' && req.method === 'POST') return send(200, { model, embeddings: vectors(), total_duration: 1 })
      if (route === '/api/tags' && req.method === 'GET') {
        return send(200, { models: [{ name: 'nomic-embed-text:latest', model: 'nomic-embed-text:latest' }, { name: 'exact-model' }] })
      }
      if (route.startsWith('/v1/')) {
        if (req.headers.authorization !== 'Bearer test-key') return send(401, { error: { message: 'Incorrect API key provided' } })
        if (route === '/v1/models' && req.method === 'GET') return send(200, { object: 'list', data: [{ id: 'listed-model', object: 'model' }] })
        if (route === '/v1/embeddings' && req.method === 'POST') {
          let data = vectors().map((embedding, index) => ({ object: 'embedding', index, embedding }))
          if (model === 'reversed') data = data.reverse()
          if (model === 'dup-index') data = data.map((d) => ({ ...d, index: 0 }))
          return send(200, { object: 'list', model, data, usage: { prompt_tokens: 1, total_tokens: 1 } })
        }
      }
      send(404, { error: 'not found' })
    })
  })
  return { base: await listenLocally(t, server), seen }
}

async function closedPort(): Promise<string> {
  const s = createServer()
  await new Promise<void>((resolve) => s.listen(0, '127.0.0.1', resolve))
  const port = (s.address() as AddressInfo).port
  await new Promise<void>((resolve) => s.close(() => resolve()))
  return `http://127.0.0.1:${port}`
}

async function errorOf(p: Promise<unknown>): Promise<EmbeddingError> {
  try {
    await p
  } catch (err) {
    return err as EmbeddingError
  }
  throw new Error('expected a rejection')
}

t.test('OllamaProvider against a local server', async (t) => {
  const { base, seen } = await startFakeServer(t)
  const p = new OllamaProvider({ baseUrl: `${base}/`, model: 'nomic-embed-text', dimensions: DIMS })
  t.same(await p.embed(['alpha', 'beta']), [fakeVector('alpha'), fakeVector('beta')])
  const call = seen.at(-1)
  t.match(call, { method: 'POST', path: '/api/embed', contentType: 'application/json' }, 'trailing / of the base removed')
  t.same(call?.body, { model: 'nomic-embed-text', input: ['alpha', 'beta'] })
  const before = seen.length
  t.same(await p.embed([]), [], 'no texts, no request')
  t.equal(seen.length, before)

  t.equal(await p.isAvailable(), true, 'model:tag matches the bare model name')
  t.equal(await new OllamaProvider({ baseUrl: base, model: 'exact-model', dimensions: DIMS }).isAvailable(), true)
  t.equal(await new OllamaProvider({ baseUrl: base, model: 'nomic-embed', dimensions: DIMS }).isAvailable(), false, 'a prefix is not a match')
  t.equal(await new OllamaProvider({ baseUrl: `${base}/fail`, model: 'exact-model', dimensions: DIMS }).isAvailable(), false)
  t.equal(await new OllamaProvider({ baseUrl: await closedPort(), model: 'exact-model', dimensions: DIMS }).isAvailable(), false)
  const slowProbe = new OllamaProvider({ baseUrl: `${base}/slow`, model: 'exact-model', dimensions: DIMS, availabilityTimeoutMs: 100 })
  const started = Date.now()
  t.equal(await slowProbe.isAvailable(), false)
  t.ok(Date.now() - started < 8_000, 'the probe gives up at its timeout, long before the server answers')
})

t.test('OllamaProvider failures carry codes', async (t) => {
  const { base } = await startFakeServer(t)
  const ollama = (baseUrl: string, model = 'm', timeoutMs?: number) => new OllamaProvider({ baseUrl, model, dimensions: DIMS, timeoutMs })

  const slow = await errorOf(ollama(`${base}/slow`, 'm', 150).embed(['a']))
  t.equal(slow.code, 'EMBEDDING_TIMEOUT')
  t.match(slow.message, /within 150 ms/)

  const http = await errorOf(ollama(`${base}/fail`).embed(['a']))
  t.equal(http.code, 'EMBEDDING_HTTP')
  t.equal(http.status, 500)
  t.match(http.message, /HTTP 500: model exploded/)

  const dim = await errorOf(ollama(base, 'wrong-dim').embed(['a', 'b']))
  t.equal(dim.code, 'EMBEDDING_BAD_RESPONSE')
  t.match(dim.message, `returned a vector of ${DIMS - 1} dimensions, expected ${DIMS}`)

  const count = await errorOf(ollama(base, 'wrong-count').embed(['a', 'b', 'c']))
  t.equal(count.code, 'EMBEDDING_BAD_RESPONSE')
  t.match(count.message, 'returned 2 embeddings for 3 input texts')

  const garbage = await errorOf(ollama(`${base}/garbage`).embed(['a']))
  t.equal(garbage.code, 'EMBEDDING_BAD_RESPONSE')

  const down = await errorOf(ollama(await closedPort()).embed(['a']))
  t.equal(down.code, 'EMBEDDING_UNREACHABLE')
  t.match(down.message, /ECONNREFUSED/)

  t.throws(() => ollama('not a url'), { code: 'EMBEDDING_CONFIG' })
  t.throws(() => new OllamaProvider({ baseUrl: base, model: '', dimensions: DIMS }), { code: 'EMBEDDING_CONFIG' })
})

t.test('OpenAiProvider against a local server', async (t) => {
  const { base, seen } = await startFakeServer(t)
  const openai = (model: string, o: { apiKey?: string; baseUrl?: string; timeoutMs?: number } = {}) =>
    new OpenAiProvider({ baseUrl: o.baseUrl ?? base, model, dimensions: DIMS, apiKey: o.apiKey ?? 'test-key', timeoutMs: o.timeoutMs })

  t.same(await openai('listed-model').embed(['one', 'two']), [fakeVector('one'), fakeVector('two')])
  t.match(seen.at(-1), { method: 'POST', path: '/v1/embeddings', auth: 'Bearer test-key', contentType: 'application/json' })
  t.same(seen.at(-1)?.body, { model: 'listed-model', input: ['one', 'two'] })
  t.same(await openai('m', { baseUrl: `${base}/v1/` }).embed(['x']), [fakeVector('x')], 'a base URL ending in /v1 also works')
  t.equal(seen.at(-1)?.path, '/v1/embeddings')
  t.same(await openai('reversed').embed(['a', 'b', 'c']), [fakeVector('a'), fakeVector('b'), fakeVector('c')], 'ordered by index')

  t.equal(await openai('listed-model').isAvailable(), true, 'listed by /v1/models')
  const before = seen.length
  t.equal(await openai('unlisted-model').isAvailable(), true, 'unlisted, but a tiny embedding works')
  t.same(
    seen.slice(before).map((s) => s.path),
    ['/v1/models', '/v1/embeddings'],
  )
  t.equal(await openai('wrong-dim').isAvailable(), false, 'a model answering the wrong dimension is not usable')
  t.equal(await openai('listed-model', { apiKey: 'wrong' }).isAvailable(), false)
  t.equal(await openai('listed-model', { baseUrl: await closedPort() }).isAvailable(), false)

  const noKey = await errorOf(new OpenAiProvider({ baseUrl: base, model: 'm', dimensions: DIMS }).embed(['a']))
  t.equal(noKey.code, 'EMBEDDING_HTTP')
  t.equal(noKey.status, 401)
  t.equal(seen.at(-1)?.auth, undefined, 'no Authorization header without a key')
  t.notMatch(noKey.message, /test-key/)

  t.equal((await errorOf(openai('m', { baseUrl: `${base}/slow`, timeoutMs: 150 }).embed(['a']))).code, 'EMBEDDING_TIMEOUT')
  const http = await errorOf(openai('m', { baseUrl: `${base}/fail` }).embed(['a']))
  t.equal(http.code, 'EMBEDDING_HTTP')
  t.equal(http.status, 500)
  const dim = await errorOf(openai('wrong-dim').embed(['a']))
  t.equal(dim.code, 'EMBEDDING_BAD_RESPONSE')
  t.match(dim.message, `returned a vector of ${DIMS - 1} dimensions, expected ${DIMS}`)
  const count = await errorOf(openai('wrong-count').embed(['a', 'b']))
  t.equal(count.code, 'EMBEDDING_BAD_RESPONSE')
  t.match(count.message, 'returned 1 embeddings for 2 input texts')
  t.equal((await errorOf(openai('dup-index').embed(['a', 'b']))).code, 'EMBEDDING_BAD_RESPONSE')
})

t.test('createProvider', async (t) => {
  const cfg: EmbeddingProviderConfig = { provider: '', model: 'm', ollamaUrl: 'http://127.0.0.1:1', url: '', apiKey: '', dimensions: 768 }
  const none = createProvider(cfg)
  t.equal(none.modelName, '')
  t.equal(none.dimensions, 0)
  t.equal(await none.isAvailable(), false)
  t.same(await none.embed(['a']), [])
  t.ok(createProvider({ ...cfg, provider: 'ollama' }) instanceof OllamaProvider)
  t.ok(createProvider({ ...cfg, provider: 'openai', url: 'https://api.example' }) instanceof OpenAiProvider)
  const hash = createProvider({ ...cfg, provider: 'hash', dimensions: 32 })
  t.match(hash, { modelName: HASH_MODEL, dimensions: 32 })
  t.throws(() => createProvider({ ...cfg, provider: 'openai' }), { code: 'EMBEDDING_CONFIG' }, 'openai needs a URL')
  t.throws(() => createProvider({ ...cfg, provider: 'hash', dimensions: 1.5 }), { code: 'EMBEDDING_CONFIG' })
  t.throws(() => createProvider({ ...cfg, provider: 'bogus' as 'hash' }), { code: 'EMBEDDING_CONFIG' })
})

// ---------------------------------------------------------------------------------------------
// The pool facade, through real worker threads

const baseCfg: EmbeddingProviderConfig = { provider: '', model: '', ollamaUrl: '', url: '', apiKey: '', dimensions: DIMS }

t.test('createEmbeddingPool without a provider starts no worker', async (t) => {
  const pool = createEmbeddingPool(baseCfg)
  t.equal(pool.modelName, '')
  t.equal(pool.dimensions, 0)
  t.equal(await pool.available(), false)
  t.same(await pool.embed(['a']), [])
  t.same(pool.stats(), [])
  await pool.close()
})

t.test('createEmbeddingPool with the hash provider', async (t) => {
  const pool = createEmbeddingPool({ ...baseCfg, provider: 'hash', dimensions: 64 })
  t.teardown(() => pool.close())
  t.equal(pool.modelName, HASH_MODEL)
  t.equal(pool.dimensions, 64)
  t.equal(await pool.available(), true)
  const texts = ['disk full on nas', 'dark mode preferred', 'disk almost full']
  const direct = await new HashProvider(64).embed(texts)
  const results = await Promise.all([pool.embed(texts), pool.embed(texts.slice(0, 1)), pool.embed(texts)])
  t.same(results[0], direct, 'vectors from a worker equal the in-process ones')
  t.same(results[1], direct.slice(0, 1))
  t.same(results[2], direct)
  t.same(await pool.embed([]), [])
  t.same(
    pool.stats().map((s) => s.name),
    ['embed-1', 'embed-2'],
    'a pool of two',
  )
  t.ok(pool.stats().every((s) => s.crashes === 0))
})

t.test('createEmbeddingPool over HTTP', async (t) => {
  const { base, seen } = await startFakeServer(t)
  const ollama = createEmbeddingPool(
    { ...baseCfg, provider: 'ollama', ollamaUrl: base, model: 'nomic-embed-text' },
    undefined,
    { availabilityTtlMs: 60_000 },
  )
  t.teardown(() => ollama.close())
  t.equal(ollama.modelName, 'nomic-embed-text')
  t.same(await ollama.embed(['a', 'b']), [fakeVector('a'), fakeVector('b')])
  const probes = () => seen.filter((s) => s.path === '/api/tags').length
  t.same(await Promise.all([ollama.available(), ollama.available(), ollama.available()]), [true, true, true])
  t.equal(probes(), 1, 'concurrent availability checks share one probe')
  t.equal(await ollama.available(), true)
  t.equal(probes(), 1, 'the answer is reused within its TTL')

  // One worker each from here on: a worker starts in ~0.6 s under tsx, and these check behaviour, not spread.
  const one = { size: 1 }
  const slow = createEmbeddingPool(
    { ...baseCfg, provider: 'ollama', ollamaUrl: `${base}/slow`, model: 'm', timeoutMs: 150, availabilityTimeoutMs: 100 },
    undefined,
    one,
  )
  t.teardown(() => slow.close())
  t.equal((await errorOf(slow.embed(['a']))).code, 'EMBEDDING_TIMEOUT', 'the provider timeout, not the worker timeout')
  t.equal(await slow.available(), false)

  const failing = createEmbeddingPool({ ...baseCfg, provider: 'openai', url: `${base}/fail`, model: 'm' }, undefined, one)
  t.teardown(() => failing.close())
  const http = await errorOf(failing.embed(['a']))
  t.equal(http.code, 'EMBEDDING_HTTP', 'codes cross the thread boundary')
  t.match(http.message, /HTTP 500/)

  const wrongDim = createEmbeddingPool({ ...baseCfg, provider: 'openai', url: base, apiKey: 'test-key', model: 'wrong-dim' }, undefined, one)
  t.teardown(() => wrongDim.close())
  t.equal((await errorOf(wrongDim.embed(['a']))).code, 'EMBEDDING_BAD_RESPONSE')
  t.equal(await wrongDim.available(), false)

  const openai = createEmbeddingPool({ ...baseCfg, provider: 'openai', url: base, apiKey: 'test-key', model: 'listed-model' }, undefined, one)
  t.teardown(() => openai.close())
  t.same(await openai.embed(['z']), [fakeVector('z')])
  t.equal(await openai.available(), true)

  t.throws(() => createEmbeddingPool({ ...baseCfg, provider: 'openai', model: 'm' }), { code: 'EMBEDDING_CONFIG' }, 'bad configuration fails before any worker starts')
})
