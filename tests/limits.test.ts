/**
 * Per-owner concurrency cap (http-and-operations.md §11, §21 check 41, risk R11): requests held open with a
 * partial body occupy their owner's slots, the next one is refused at once with 429, other owners and public
 * paths are untouched, and every slot comes back exactly once however the request ends.
 */
import t from 'tap'
import { connect, type Socket } from 'node:net'
import { once } from 'node:events'
import { Writable } from 'node:stream'
import pino from 'pino'
import { SignJWT } from 'jose'
import { OwnerSlots } from '../routes/hooks/limits.js'
import { backends, post, startServer, uniqueOwner } from './helpers.js'

const SECRET = 'limits-secret-0123456789-abcdefghijklmnop'
const LIST = { jsonrpc: '2.0', id: 1, method: 'tools/list' }
const token = (sub: string) => new SignJWT({ sub }).setProtectedHeader({ alg: 'HS256' }).setIssuedAt().setExpirationTime('1h').sign(new TextEncoder().encode(SECRET))
const sleep = (ms: number) => new Promise((ok) => setTimeout(ok, ms))

/** Sends the headers and 11 of 100 promised body bytes, then waits: the request stays in flight. */
async function holdOpen(url: string, bearer: string | undefined): Promise<Socket> {
  const u = new URL(url)
  const socket = connect(Number(u.port), u.hostname)
  await once(socket, 'connect')
  socket.on('error', () => undefined)
  const auth = bearer === undefined ? '' : `Authorization: Bearer ${bearer}\r\n`
  socket.write(`POST ${u.pathname} HTTP/1.1\r\nHost: ${u.host}\r\n${auth}Content-Type: application/json\r\nAccept: application/json, text/event-stream\r\nContent-Length: 100\r\n\r\n{"jsonrpc":`)
  return socket
}

/** Polls until `status()` answers `want` (the server notices sockets asynchronously); returns the last status. */
async function eventually(status: () => Promise<number>, want: number): Promise<number> {
  let last = 0
  for (let i = 0; i < 100; i++) {
    last = await status()
    if (last === want) return last
    await sleep(20)
  }
  return last
}

t.test('OwnerSlots counts per owner and forgets owners at zero', async (t) => {
  const slots = new OwnerSlots(2)
  t.equal(slots.tryAcquire('a'), true)
  t.equal(slots.tryAcquire('a'), true)
  t.equal(slots.tryAcquire('a'), false, 'no queueing: the third is refused')
  t.equal(slots.tryAcquire('b'), true, 'another owner has its own slots')
  t.equal(slots.owners, 2)
  slots.release('a')
  t.equal(slots.count('a'), 1)
  slots.release('a')
  slots.release('b')
  t.equal(slots.owners, 0, 'counters that reach zero are deleted')
})

for (const backend of backends()) {
  t.test(`concurrency cap over HTTP on ${backend}`, async (t) => {
    const lines: Record<string, unknown>[] = []
    const logger = pino({ level: 'info' }, new Writable({ write: (c, _e, done) => (lines.push(...String(c).trim().split('\n').map((l) => JSON.parse(l))), done()) }))
    const env = { AWARENESS_AUTH_REQUIRED: 'true', AWARENESS_JWT_SECRET: SECRET, AWARENESS_MAX_CONCURRENT_PER_OWNER: '1' }
    const srv = await startServer(t, { backend, env, logger })
    const alice = await token(uniqueOwner('alice'))
    const bob = await token(uniqueOwner('bob'))
    const as = (bearer: string) => async () => (await post(srv.url, LIST, { authorization: `Bearer ${bearer}` })).status

    t.test('check 41: a held request blocks its owner only, until the socket closes', async (t) => {
      const socket = await holdOpen(srv.url, alice)
      t.equal(await eventually(as(alice), 429), 429, 'the second alice request is refused')
      const r = await post(srv.url, LIST, { authorization: `Bearer ${alice}` })
      t.same(r.json(), { error: 'Too many concurrent requests' })
      t.equal(r.headers.get('retry-after'), '1')
      t.match(r.headers.get('content-type'), /^application\/json/)
      t.equal(await as(bob)(), 200, 'bob is not affected')
      t.equal((await fetch(srv.url.replace(/\/mcp$/, '/health'))).status, 200, 'public paths take no slot')
      t.equal((await post(srv.url, LIST)).status, 401, 'authentication comes before the slot')
      t.equal((await fetch(srv.url, { headers: { authorization: `Bearer ${alice}` } })).status, 429, 'GET /mcp (405) counts too')
      t.equal((await fetch(srv.url.replace(/\/mcp$/, '/unknown'), { headers: { authorization: `Bearer ${alice}` } })).status, 429, 'so does an unknown path')
      const line = lines.find((l) => l.status === 429)
      t.equal(line?.reason, 'concurrency limit', 'the 429 is logged with its reason')
      socket.destroy()
      t.equal(await eventually(as(alice), 200), 200, 'the slot came back when the client went away mid-body')
    })

    t.test('slots come back after aborted, failed and finished requests', async (t) => {
      for (let i = 0; i < 20; i++) {
        const socket = await holdOpen(srv.url, alice)
        await sleep(5)
        socket.destroy()
      }
      t.equal(await eventually(as(alice), 200), 200, 'twenty aborted requests leaked nothing')
      for (let i = 0; i < 5; i++) {
        const bad = await post(srv.url, '{not json', { authorization: `Bearer ${alice}` })
        t.equal(bad.status, 400)
      }
      t.equal(await as(alice)(), 200, 'requests that failed in the body parser released their slot')
      for (let i = 0; i < 10; i++) t.equal(await as(alice)(), 200, `sequential request ${i} (hijacked replies release on close)`)
    })

    t.test('parallel calls beyond the cap are refused at once', async (t) => {
      const held = await holdOpen(srv.url, alice)
      await eventually(as(alice), 429)
      const burst = await Promise.all(Array.from({ length: 8 }, () => as(alice)()))
      t.same(burst, Array(8).fill(429))
      const bobs = await Promise.all(Array.from({ length: 3 }, () => as(bob)()))
      t.ok(bobs.includes(200), 'bob still gets through')
      t.ok(bobs.every((s) => s === 200 || s === 429), 'bob gets 200 or his own 429')
      held.destroy()
      t.equal(await eventually(as(alice), 200), 200)
    })
  })
}

t.test('a higher cap admits exactly that many; no cap without auth', async (t) => {
  const backend = backends()[0]
  const srv = await startServer(t, { backend, env: { AWARENESS_AUTH_REQUIRED: 'true', AWARENESS_JWT_SECRET: SECRET, AWARENESS_MAX_CONCURRENT_PER_OWNER: '3' } })
  const carol = await token(uniqueOwner('carol'))
  const sockets = [await holdOpen(srv.url, carol), await holdOpen(srv.url, carol)]
  await sleep(100)
  t.equal((await post(srv.url, LIST, { authorization: `Bearer ${carol}` })).status, 200, 'two held, the third fits')
  sockets.push(await holdOpen(srv.url, carol))
  t.equal(await eventually(async () => (await post(srv.url, LIST, { authorization: `Bearer ${carol}` })).status, 429), 429, 'three held, the fourth is refused')
  for (const s of sockets) s.destroy()

  const open = await startServer(t, { backend, env: { AWARENESS_MAX_CONCURRENT_PER_OWNER: '1' } })
  const held = await holdOpen(open.url, undefined)
  await sleep(100)
  t.equal((await post(open.url, LIST)).status, 200, 'auth off: the default owner is not limited (parity)')
  held.destroy()
})
