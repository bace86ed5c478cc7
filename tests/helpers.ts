/**
 * Test harness. Each test process (tap file) opens at most one store per backend and shares it: PGlite
 * in memory, and — when AWARENESS_TEST_DATABASE_URL names a PostgreSQL server — a database created for
 * this process and dropped at its end. Tests isolate themselves by owner (uniqueOwner), which is the
 * product's own isolation mechanism, so no test re-migrates.
 */
import t, { type Test } from 'tap'
import { randomUUID } from 'node:crypto'
import type { AddressInfo } from 'node:net'
import { Writable } from 'node:stream'
import postgres from 'postgres'
import pino, { type Logger } from 'pino'
import { Client as ClientV1 } from '@modelcontextprotocol/sdk/client/index.js'
import { StreamableHTTPClientTransport as TransportV1 } from '@modelcontextprotocol/sdk/client/streamableHttp.js'
import { Client as ClientV2, StreamableHTTPClientTransport as TransportV2 } from '@modelcontextprotocol/client'
import type { FastifyInstance } from 'fastify'
import { buildApp } from '../app/app.js'
import { loadConfig, type Config } from '../core/config.js'
import type { EmbedScheduler, Embedder } from '../core/ports.js'
import { createServices, type OwnedServices, type ServicesOptions } from '../app/services.js'
import { Store } from '../store/index.js'
import type { ReadLog } from '../store/read-log.js'

export type Backend = 'pglite' | 'postgres'

const ADMIN_URL = process.env.AWARENESS_TEST_DATABASE_URL ?? ''

/** The backends this run covers: the embedded database always, PostgreSQL when a server URL is given. */
export function backends(): Backend[] {
  return ADMIN_URL === '' ? ['pglite'] : ['pglite', 'postgres']
}

export function uniqueOwner(prefix = 'owner'): string {
  return `${prefix}-${randomUUID().slice(0, 8)}`
}

/** A throwaway PostgreSQL database on the test server; the caller drops it with the returned function. */
export async function createDatabase(label = 't'): Promise<{ url: string; drop: () => Promise<void> }> {
  const name = `awareness_${label}_${process.pid}_${randomUUID().slice(0, 8)}`.replace(/[^a-z0-9_]/g, '_')
  const admin = postgres(ADMIN_URL, { max: 1, onnotice: () => undefined })
  await admin.unsafe(`CREATE DATABASE ${name}`)
  await admin.end()
  const url = new URL(ADMIN_URL)
  url.pathname = `/${name}`
  return {
    url: url.toString(),
    drop: async () => {
      const a = postgres(ADMIN_URL, { max: 1, onnotice: () => undefined })
      await a.unsafe(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`)
      await a.end()
    },
  }
}

/** Opens a fresh store on the backend (callers close it); for PostgreSQL in its own new database. */
export async function openStore(backend: Backend, opts: { dimensions?: number } & ServicesOptions = {}): Promise<{ store: Store; dispose: () => Promise<void> }> {
  const dimensions = opts.dimensions ?? 768
  const db = backend === 'pglite' ? undefined : await createDatabase()
  const store = await Store.open({ databaseUrl: db?.url ?? '', dataDir: 'memory://', dimensions })
  const services = createServices(store, opts)
  servicesByStore.set(store, services)
  return {
    store,
    dispose: async () => {
      await services.close()
      await db?.drop()
    },
  }
}

/**
 * The services of a test store, made once per store as the product makes them once per process: every
 * server a test starts on one store shares its read log and search index.
 */
const servicesByStore = new WeakMap<Store, OwnedServices>()

export function servicesFor(store: Store): OwnedServices {
  let services = servicesByStore.get(store)
  if (services === undefined) servicesByStore.set(store, (services = createServices(store)))
  return services
}

const shared = new Map<Backend, Promise<Store>>()

/** The process-wide store of a backend, closed (and its database dropped) when the test file ends. */
export function sharedStore(backend: Backend): Promise<Store> {
  let store = shared.get(backend)
  if (store === undefined) {
    const opened = openStore(backend)
    store = opened.then((o) => o.store)
    shared.set(backend, store)
    t.teardown(async () => (await opened).dispose())
  }
  return store
}

export function testConfig(env: Record<string, string> = {}): Config {
  return loadConfig({ AWARENESS_DATA_DIR: 'memory://', AWARENESS_LOG_LEVEL: 'silent', ...env })
}

export const silentLogger = (): Logger => pino({ level: 'silent' })

/** A logger whose JSON lines are collected in `lines`, for assertions on what gets logged. */
export function captureLog(): { logger: Logger; lines: Record<string, unknown>[] } {
  const lines: Record<string, unknown>[] = []
  const stream = new Writable({
    write(chunk, _enc, done) {
      for (const line of String(chunk).split('\n')) if (line.trim() !== '') lines.push(JSON.parse(line) as Record<string, unknown>)
      done()
    },
  })
  return { logger: pino({ level: 'info' }, stream), lines }
}

export interface TestServer {
  readonly url: string
  readonly owner: string
  readonly store: Store
  /** The store's read log (servicesFor(store).reads). */
  readonly reads: ReadLog
  readonly app: FastifyInstance
  close(): Promise<void>
}

/**
 * A listening server on 127.0.0.1 (random port) over the backend's shared store, acting for its own
 * fresh owner. Closed automatically when the calling test ends.
 */
export async function startServer(
  tt: Test,
  opts: { backend: Backend; owner?: string; env?: Record<string, string>; embed?: EmbedScheduler; embedder?: Embedder; logger?: Logger; store?: Store },
): Promise<TestServer> {
  const store = opts.store ?? (await sharedStore(opts.backend))
  const owner = opts.owner ?? uniqueOwner()
  const config = testConfig({ AWARENESS_DEFAULT_OWNER: owner, ...opts.env })
  const app = await buildApp({ config, logger: opts.logger ?? silentLogger(), getServices: async () => servicesFor(store), embed: opts.embed, embedder: opts.embedder })
  await app.listen({ host: '127.0.0.1', port: 0 })
  const { port } = app.server.address() as AddressInfo
  const server = { url: `http://127.0.0.1:${port}${config.mountPath}/mcp`, owner, store, reads: servicesFor(store).reads, app, close: () => app.close() }
  tt.teardown(() => server.close())
  return server
}

export type McpClient = { callTool(p: { name: string; arguments?: Record<string, unknown> }): Promise<unknown>; close(): Promise<void> }

/** A 2025-era client (SDK v1): initialize handshake, JSON answers. */
export async function clientV1(tt: Test, url: string): Promise<ClientV1> {
  const client = new ClientV1({ name: 'awareness-tests-v1', version: '1.0.0' })
  await client.connect(new TransportV1(new URL(url)))
  tt.teardown(() => client.close())
  return client
}

/** A 2026-07-28 client (SDK v2), pinned so a silent fallback to the 2025 handshake cannot pass for it. */
export async function clientV2(tt: Test, url: string): Promise<ClientV2> {
  const client = new ClientV2({ name: 'awareness-tests-v2', version: '1.0.0' }, { versionNegotiation: { mode: { pin: '2026-07-28' } } })
  await client.connect(new TransportV2(new URL(url)))
  tt.teardown(() => client.close())
  return client
}

export interface ToolAnswer {
  readonly isError: boolean
  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- tests inspect arbitrary JSON bodies
  readonly body: any
}

/** Calls a tool and parses its single text content as JSON (tests never string-compare, §2.2). */
export async function call(client: McpClient, name: string, args: Record<string, unknown> = {}): Promise<ToolAnswer> {
  const result = (await client.callTool({ name, arguments: args })) as { isError?: boolean; content: { type: string; text: string }[] }
  if (result.content.length !== 1 || result.content[0].type !== 'text') throw new Error(`unexpected content from ${name}: ${JSON.stringify(result)}`)
  return { isError: result.isError === true, body: JSON.parse(result.content[0].text) }
}

/** Raw POST to the MCP endpoint, for HTTP-level tests. */
export async function post(url: string, body: unknown, headers: Record<string, string> = {}): Promise<{ status: number; headers: Headers; text: string; json: () => unknown }> {
  const res = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', accept: 'application/json, text/event-stream', ...headers },
    body: typeof body === 'string' ? body : JSON.stringify(body),
  })
  const text = await res.text()
  return { status: res.status, headers: res.headers, text, json: () => JSON.parse(text) }
}

/** Counts the owner's rows per table, to assert that a failed call changed nothing (reads written first). */
export async function snapshot(store: Store, owner: string): Promise<string> {
  await servicesFor(store).reads.flush()
  return store.withOwner(owner, async (tx) => {
    const [entries] = await tx`SELECT count(*)::int AS n, coalesce(max(coalesce(updated, created))::text, '') AS last, coalesce(md5(string_agg(id || data::text || tags::text || coalesce(deleted::text, ''), ',' ORDER BY id)), '') AS h FROM entries WHERE owner_id = ${owner}`
    const [reads] = await tx`SELECT count(*)::int AS n FROM reads WHERE owner_id = ${owner}`
    const [actions] = await tx`SELECT count(*)::int AS n FROM actions WHERE owner_id = ${owner}`
    return JSON.stringify({ entries, reads: reads.n, actions: actions.n })
  })
}
