import t from 'tap'
import Fastify from 'fastify'
import type { FastifyInstance } from 'fastify'
import { mkdtemp, rm } from 'node:fs/promises'
import { request } from 'node:http'
import type { AddressInfo } from 'node:net'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import { ASSETS_DIR, assetRoutes } from '../routes/assets.js'

const SIZES = [16, 32, 48, 64, 100, 200]
const REPO_ASSETS = resolve(fileURLToPath(new URL('.', import.meta.url)), '..', 'assets')

async function build(assetsDir: string = ASSETS_DIR): Promise<FastifyInstance> {
  const app = Fastify()
  await app.register(assetRoutes, { assetsDir })
  await app.ready()
  return app
}

t.test('ASSETS_DIR resolves to the repository assets directory from the source tree', async (t) => {
  t.equal(ASSETS_DIR, REPO_ASSETS)
})

t.test('GET /favicon.ico serves a real ICO file', async (t) => {
  const app = await build()
  t.teardown(() => app.close())
  const res = await app.inject({ method: 'GET', url: '/favicon.ico' })
  t.equal(res.statusCode, 200)
  t.equal(res.headers['content-type'], 'image/x-icon')
  t.equal(res.headers['cache-control'], 'public, max-age=86400')
  const body = res.rawPayload
  t.ok(body.length > 0, 'non-empty body')
  t.same([...body.subarray(0, 4)], [0x00, 0x00, 0x01, 0x00], 'ICO header: reserved 0, type 1 (icon)')
  const count = body.readUInt16LE(4)
  const sizes = Array.from({ length: count }, (_, i) => body[6 + 16 * i])
  t.same(sizes.sort((a, b) => a - b), [16, 32], 'holds 16x16 and 32x32 images')
})

t.test('GET /icons/awareness-64.svg serves the SVG with the cache header', async (t) => {
  const app = await build()
  t.teardown(() => app.close())
  const res = await app.inject({ method: 'GET', url: '/icons/awareness-64.svg' })
  t.equal(res.statusCode, 200)
  t.equal(res.headers['content-type'], 'image/svg+xml')
  t.equal(res.headers['cache-control'], 'public, max-age=86400')
  t.match(res.body, '<svg')
})

t.test('every size and its dark twin is bundled and well formed', async (t) => {
  const app = await build()
  t.teardown(() => app.close())
  for (const size of SIZES) {
    for (const name of [`awareness-${size}.svg`, `awareness-${size}-dark.svg`]) {
      const res = await app.inject({ method: 'GET', url: `/icons/${name}` })
      t.equal(res.statusCode, 200, name)
      t.equal(res.headers['content-type'], 'image/svg+xml', `${name} content type`)
      t.match(res.body, new RegExp(`^<svg [^>]*width="${size}" height="${size}" viewBox="0 0 64 64"`), `${name} sized`)
      t.match(res.body, /<\/svg>\s*$/, `${name} closed`)
      t.ok(res.rawPayload.length < 2048, `${name} is small`)
    }
  }
})

// light-my-request normalises dot segments (`..`, `%2E%2E`) as a WHATWG URL would, so the raw
// paths a crawler or curl can send are checked over a real socket, where the path arrives verbatim.
function rawGet(port: number, path: string): Promise<{ status: number; type: string; cache: string | undefined; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path, method: 'GET' }, (res) => {
      const chunks: Buffer[] = []
      res.on('data', (c: Buffer) => chunks.push(c))
      res.on('end', () =>
        resolve({
          status: res.statusCode ?? 0,
          type: res.headers['content-type'] ?? '',
          cache: res.headers['cache-control'],
          body: Buffer.concat(chunks).toString('utf8'),
        }),
      )
    })
    req.on('error', reject)
    req.end()
  })
}

t.test('unknown names and traversal attempts answer 404 Not Found', async (t) => {
  const app = await build()
  t.teardown(() => app.close())
  await app.listen({ host: '127.0.0.1', port: 0 })
  const { port } = app.server.address() as AddressInfo
  for (const path of [
    '/icons/nope.svg',
    '/icons/..%2Fpackage.json',
    '/icons/%2E%2E/x',
    '/icons/%2e%2e%2fpackage.json',
    '/icons/..%5Cpackage.json',
    '/icons/..',
    '/icons/../package.json',
    '/icons/awareness-64.svg%2F',
    '/icons/sub/awareness-64.svg',
    '/icons/',
  ]) {
    const res = await rawGet(port, path)
    t.equal(res.status, 404, `${path} status`)
    t.equal(res.body, 'Not Found', `${path} body`)
    t.match(res.type, /^text\/plain/, `${path} content type`)
    t.notOk(res.cache, `${path} is not cached`)
  }
})

t.test('the spec paths answer 404 through inject too', async (t) => {
  const app = await build()
  t.teardown(() => app.close())
  for (const url of ['/icons/nope.svg', '/icons/..%2Fpackage.json', '/icons/%2E%2E/x']) {
    const res = await app.inject({ method: 'GET', url })
    t.equal(res.statusCode, 404, url)
  }
})

t.test('HEAD is answered for the favicon and icons', async (t) => {
  const app = await build()
  t.teardown(() => app.close())
  const fav = await app.inject({ method: 'HEAD', url: '/favicon.ico' })
  t.equal(fav.statusCode, 200)
  t.equal(fav.headers['content-type'], 'image/x-icon')
  t.equal(fav.body, '')
  const icon = await app.inject({ method: 'HEAD', url: '/icons/awareness-32-dark.svg' })
  t.equal(icon.statusCode, 200)
  t.equal(icon.headers['content-type'], 'image/svg+xml')
  t.equal(icon.headers['cache-control'], 'public, max-age=86400')
  t.equal(icon.body, '')
  const missing = await app.inject({ method: 'HEAD', url: '/icons/nope.svg' })
  t.equal(missing.statusCode, 404)
})

t.test('a matching If-None-Match answers 304 without a body', async (t) => {
  const app = await build()
  t.teardown(() => app.close())
  const first = await app.inject({ method: 'GET', url: '/icons/awareness-200.svg' })
  const etag = first.headers.etag
  t.type(etag, 'string')
  const again = await app.inject({ method: 'GET', url: '/icons/awareness-200.svg', headers: { 'if-none-match': `W/"x", ${etag}` } })
  t.equal(again.statusCode, 304)
  t.equal(again.body, '')
  const other = await app.inject({ method: 'GET', url: '/icons/awareness-200.svg', headers: { 'if-none-match': '"different"' } })
  t.equal(other.statusCode, 200)
})

t.test('POST is not served', async (t) => {
  const app = await build()
  t.teardown(() => app.close())
  const res = await app.inject({ method: 'POST', url: '/favicon.ico' })
  t.equal(res.statusCode, 404)
})

t.test('an empty assets directory answers 404 for everything', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'awareness-assets-'))
  t.teardown(() => rm(dir, { recursive: true, force: true }))
  const app = await build(dir)
  t.teardown(() => app.close())
  for (const url of ['/favicon.ico', '/icons/awareness-64.svg']) {
    const res = await app.inject({ method: 'GET', url })
    t.equal(res.statusCode, 404, url)
    t.equal(res.body, 'Not Found', url)
  }
})
