/**
 * Tenant isolation, twice (http-and-operations.md §9.8; mcp-surface.md §2.1; data-and-engine.md §2.8).
 *
 * 1. Over HTTP with two owners' tokens: owner B runs every tool of the registry (TOOLS, so tools that land later
 *    are covered too), every resource and every prompt, aimed at owner A's data — A's sources, tags, keys, and
 *    every id A's responses revealed. The oracle is a second server on an empty database: B's answers there,
 *    where A never existed, must equal B's answers here (ids and times normalised). B must also never see A's
 *    secret marker or an id it did not send, and afterwards A's rows must be exactly as before.
 * 2. In the database: the same queries with the owner filter defeated (raw SQL, or the application's queries
 *    given A's id) inside B's owner transaction return nothing — and do return A's rows once the policies are
 *    replaced by USING (true) in a throwaway database, so the green result cannot come from a bypassing role.
 */
import t, { type Test } from 'tap'
import { randomUUID } from 'node:crypto'
import { SignJWT } from 'jose'
import { Client } from '@modelcontextprotocol/client'
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/client'
import { TOOLS } from '../mcp/tools/index.js'
import type { AnyTool } from '../mcp/tools/define.js'
import { ENTRY_TYPES, KNOWLEDGE_TYPES } from '../mcp/params.js'
import type { Store } from '../store/index.js'
import { upsertEmbedding } from '../store/queries/embeddings.js'
import { countByType, insertEntry, queryKnowledge, tagCounts } from '../store/queries/entries.js'
import { backends, openStore, sharedStore, snapshot, startServer, uniqueOwner } from './helpers.js'

const SECRET = 'isolation-secret-0123456789-abcdefghijkl'
const AUTH = { AWARENESS_AUTH_REQUIRED: 'true', AWARENESS_JWT_SECRET: SECRET }
const SYSTEM_SCHEMA_ID = randomUUID()
const token = (sub: string) => new SignJWT({ sub }).setProtectedHeader({ alg: 'HS256' }).setIssuedAt().setExpirationTime('1h').sign(new TextEncoder().encode(SECRET))

async function connect(tt: Test, url: string, owner: string): Promise<Client> {
  const client = new Client({ name: 'isolation', version: '1' }, { versionNegotiation: { mode: { pin: '2026-07-28' } } })
  await client.connect(new StreamableHTTPClientTransport(new URL(url), { requestInit: { headers: { authorization: `Bearer ${await token(owner)}` } } }))
  tt.teardown(() => client.close())
  return client
}

/** What A owns and what B knows of it: names A used and the ids A's responses revealed. */
interface Seed {
  marker: string
  word: string
  source: string
  tag: string
  family: string
  version: string
  logicalKey: string
  alertId: string
  prefKey: string
  prefScope: string
  promptKey: string
  ids: string[]
}

/** The same `_system` schema (same id) in both worlds: every owner may read it, nobody may change it via MCP. */
async function seedSystemSchema(store: Store): Promise<void> {
  await store.withOwner('_system', (tx) => tx`
    INSERT INTO entries (id, owner_id, type, source, created, tags, data, logical_key)
    VALUES (${SYSTEM_SCHEMA_ID}, '_system', 'schema', 'ops', now(), '[]',
            ${tx.json({ family: 'schema:shared', version: '1', schema: { type: 'object' }, description: 'shared', learned_from: 'cli-bootstrap' })}, 'schema:shared:1')
    ON CONFLICT (id) DO NOTHING`)
}

type Json = Record<string, unknown>
const has = (name: string) => TOOLS.some((tool) => tool.name === name)

async function callTool(client: Client, name: string, args: Json): Promise<{ isError: boolean; text: string }> {
  const result = (await client.callTool({ name, arguments: args })) as { isError?: boolean; content: { text?: string }[] }
  return { isError: result.isError === true, text: result.content.map((c) => c.text ?? '').join('') }
}

/** A writes one of everything through the tools that exist; every id it is told goes into the seed. */
async function seedA(tt: Test, client: Client, store: Store, owner: string): Promise<Seed> {
  const r = randomUUID().slice(0, 8)
  const marker = `zqx${r}secret`
  const s: Seed = { marker, word: 'pelican', source: `src-a-${r}`, tag: `tag-a-${r}`, family: `schema:fam-a-${r}`, version: '1', logicalKey: `key-a-${r}`, alertId: `alert-a-${r}`, prefKey: `pref-a-${r}`, prefScope: `scope-a-${r}`, promptKey: `prompt-a-${r}`, ids: [] }
  const text = `pelican ${marker}`
  const base = { source: s.source, tags: [s.tag] }
  const writes: [string, Json][] = [
    ['remember', { ...base, description: text, content: { secret: marker }, logical_key: s.logicalKey }],
    ['remember', { ...base, description: `second note ${text}` }],
    ['remember', { source: 'custom-prompt', tags: [s.tag], description: `Say ${marker}`, content: `Hello {{name}} ${marker}`, logical_key: s.promptKey }],
    ['add_context', { ...base, description: `context ${text}` }],
    ['learn_pattern', { ...base, description: `pattern ${text}`, conditions: { hour: 3 }, effect: `effect ${marker}` }],
    ['set_preference', { key: s.prefKey, value: `value ${marker}`, scope: s.prefScope }],
    ['report_status', { ...base, metrics: { secret: marker }, ttl_sec: 3600 }],
    ['report_alert', { ...base, alert_id: s.alertId, level: 'critical', alert_type: 'threshold', message: `alert ${text}` }],
    ['suppress_alert', { ...base, reason: `reason ${marker}`, duration_minutes: 60 }],
    ['remind', { ...base, goal: `goal ${text}` }],
    ['register_schema', { ...base, description: `schema ${text}`, family: s.family, version: s.version, schema: { type: 'object', properties: { name: { type: 'string' } } } }],
    ['create_record', { ...base, description: `record ${text}`, logical_key: `${s.logicalKey}-rec`, schema_ref: s.family, schema_version: s.version, content: { name: marker } }],
  ]
  for (const [name, args] of writes.filter(([name]) => has(name))) {
    const res = await callTool(client, name, args)
    tt.equal(res.isError, false, `A seeds with ${name}`)
    const id = (JSON.parse(res.text) as { id?: unknown }).id
    if (typeof id === 'string') s.ids.push(id)
  }
  // Reads, an action, a trashed entry and an embedding, so every owner table holds rows of A's.
  if (has('get_knowledge')) await callTool(client, 'get_knowledge', {})
  if (has('acted_on')) tt.equal((await callTool(client, 'acted_on', { entry_id: s.ids[0], action: `act ${marker}` })).isError, false, 'A seeds an action')
  const trashed = await store.withOwner(owner, async (tx) => {
    const e = await insertEntry(tx, owner, { type: 'note', source: s.source, tags: [s.tag], data: { description: `trashed ${text}` } })
    await tx`UPDATE entries SET deleted = now() WHERE id = ${e.id}`
    await upsertEmbedding(tx, store.vectorMode, { owner, entryId: s.ids[0], model: 'isolation-model', textHash: 'h', vector: Array(store.vectorDimensions).fill(0.5) })
    return e.id
  })
  s.ids.push(trashed, SYSTEM_SCHEMA_ID)
  return s
}

const TARGETED = (s: Seed): Json => ({
  source: s.source, tags: [s.tag], query: s.word, hint: s.word, key: s.prefKey, scope: s.prefScope, value: 'b-value',
  family: s.family, version: s.version, schema_ref: s.family, schema_version: s.version, logical_key: s.logicalKey,
  alert_id: s.alertId, state: 'completed', confirm: true, include_expired: true, include_history: 'true',
  description: 'b-desc', goal: 'b-goal', message: 'b-message', action: 'b-action', reason: 'b-reason', metrics: { b: 1 },
  schema: { type: 'object' }, content: 'b-content', level: 'warning', alert_type: 'threshold', conditions: { b: 1 },
  effect: 'b-effect', urgency: 'normal', metric: 'b-metric', learned_from: 'conversation',
})

const FILLER: Record<string, unknown> = { string: 'b-filler', integer: 1, boolean: false, array: [], object: {} }

/** B's arguments for a tool: A's names wherever the tool takes one, neutral values for other required params. */
function argsFor(tool: AnyTool, s: Seed, extra: Json = {}): Json {
  const schema = tool.input.json as { properties?: Record<string, { type?: unknown }>; required?: string[] }
  const targeted = TARGETED(s)
  const args: Json = {}
  for (const [name, spec] of Object.entries(schema.properties ?? {})) {
    if (name in targeted) args[name] = targeted[name]
    else if (schema.required?.includes(name)) args[name] = FILLER[Array.isArray(spec.type) ? String(spec.type[0]) : String(spec.type)] ?? 'b-filler'
  }
  for (const [name, value] of Object.entries(extra)) if (name in (schema.properties ?? {})) args[name] = value
  return args
}

const props = (tool: AnyTool) => Object.keys((tool.input.json as { properties?: object }).properties ?? {})
const requires = (tool: AnyTool, name: string) => ((tool.input.json as { required?: string[] }).required ?? []).includes(name)
const readLike = (tool: AnyTool) => tool.annotations.readOnlyHint === true || tool.name.startsWith('get_') || tool.name.endsWith('search')

interface Step {
  label: string
  args?: Json
  run: (client: Client) => Promise<unknown>
}

async function outcome(fn: () => Promise<unknown>): Promise<unknown> {
  try {
    return await fn()
  } catch (error) {
    return { protocolError: error instanceof Error ? error.message : String(error) }
  }
}

/** B's whole attack, the same steps in both worlds. */
function plan(s: Seed): Step[] {
  const steps: Step[] = []
  const tool = (tl: AnyTool, args: Json, label = tl.name) => steps.push({ label: `${label} ${JSON.stringify(args)}`, args, run: (c) => callTool(c, tl.name, args) })
  const listings = () => {
    for (const tl of TOOLS.filter((x) => readLike(x) && !requires(x, 'entry_id'))) {
      // Unfiltered (a listing that ignored the owner would show everything), then aimed at A's names.
      const minimal = Object.fromEntries(Object.entries(argsFor(tl, s)).filter(([name]) => requires(tl, name)))
      tool(tl, minimal)
      tool(tl, argsFor(tl, s))
      if (props(tl).includes('entry_type')) for (const type of ENTRY_TYPES) tool(tl, { ...minimal, entry_type: type, include_expired: true })
    }
  }
  const resources = () => {
    steps.push({ label: 'resources/list', run: (c) => c.listResources() })
    steps.push({ label: 'resources/templates/list', run: (c) => c.listResourceTemplates() })
    steps.push({
      label: 'every listed resource',
      run: async (c) => Promise.all((await c.listResources()).resources.map((r) => outcome(() => c.readResource({ uri: r.uri })))),
    })
    steps.push({
      label: "every template, aimed at A's source",
      run: async (c) => {
        const templates = (await c.listResourceTemplates()).resourceTemplates
        return Promise.all(templates.map((rt) => outcome(() => c.readResource({ uri: rt.uriTemplate.replace(/\{[^}]+\}/g, encodeURIComponent(s.source)) }))))
      },
    })
  }
  const prompts = () => {
    const value: Json = { repo_name: s.tag, source: s.source, hours: '24' }
    steps.push({
      label: 'prompts',
      run: async (c) => {
        const listed = (await c.listPrompts()).prompts
        const rendered = await Promise.all(listed.map((p) => outcome(() => c.getPrompt({ name: p.name, arguments: Object.fromEntries((p.arguments ?? []).map((a) => [a.name, String(value[a.name] ?? 'b')])) }))))
        const guessed = await outcome(() => c.getPrompt({ name: `user/${s.promptKey}`, arguments: { name: 'b' } }))
        return { listed, rendered, guessed }
      },
    })
  }
  listings()
  resources()
  prompts()
  for (const tl of TOOLS.filter((x) => props(x).includes('entry_id'))) for (const id of s.ids) tool(tl, argsFor(tl, s, { entry_id: id }))
  for (const tl of TOOLS.filter((x) => !readLike(x) && !props(x).includes('entry_id'))) tool(tl, argsFor(tl, s))
  listings()
  for (const name of ['delete_entry', 'restore_entry'].filter(has)) {
    const tl = TOOLS.find((x) => x.name === name) as AnyTool
    for (const extra of [{ tags: [s.tag], confirm: false }, { tags: [s.tag] }, { source: s.source, confirm: false }, { source: s.source }, { source: s.source, entry_type: 'note' }]) {
      const args = argsFor(tl, s, extra)
      delete args.entry_id
      if (!('tags' in extra)) delete args.tags
      tool(tl, args, `${name} (bulk)`)
    }
  }
  listings()
  resources()
  prompts()
  return steps
}

const UUID = /[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/gi
const ISO = /\d{4}-\d\d-\d\d[T ]\d\d:\d\d:\d\d(?:\.\d+)?(?:Z|[+-]\d\d:?\d\d)?/g

/** Ids, times and serial numbers differ between the worlds; arrays are compared as multisets. */
function normalise(value: unknown, key = ''): unknown {
  if (typeof value === 'string') {
    try {
      const parsed: unknown = JSON.parse(value)
      if (typeof parsed === 'object' && parsed !== null) return normalise(parsed, key)
    } catch {
      // plain text
    }
    return value.replace(UUID, 'U').replace(ISO, 'T')
  }
  if (typeof value === 'number' && (key === 'id' || key.endsWith('_id'))) return 'N'
  if (Array.isArray(value)) return value.map((v) => JSON.stringify(normalise(v, key))).sort()
  if (typeof value === 'object' && value !== null) {
    return Object.fromEntries(Object.entries(value).sort(([a], [b]) => a.localeCompare(b)).map(([k, v]) => [k, normalise(v, k)]))
  }
  return value
}

async function fullSnapshot(store: Store, owner: string): Promise<string> {
  const rows = await snapshot(store, owner)
  const [extra] = await store.withOwner(owner, (tx) => tx`
    SELECT (SELECT count(*)::int FROM embeddings WHERE owner_id = ${owner}) AS embeddings,
           (SELECT md5(string_agg(entry_id || "timestamp"::text, ',' ORDER BY id)) FROM reads WHERE owner_id = ${owner}) AS reads,
           (SELECT md5(string_agg(id::text || coalesce(updated::text, '') || coalesce(deleted::text, '') || data::text, ',' ORDER BY id)) FROM entries WHERE owner_id = '_system') AS system`)
  return JSON.stringify({ rows, extra })
}

for (const backend of backends()) {
  t.test(`owner B cannot reach owner A through any tool, resource or prompt on ${backend}`, async (t) => {
    const store = await sharedStore(backend)
    const empty = await openStore(backend)
    t.teardown(empty.dispose)
    for (const s of [store, empty.store]) await seedSystemSchema(s)
    const A = uniqueOwner('a')
    const B = uniqueOwner('b')
    const here = await startServer(t, { backend, env: AUTH, store })
    const there = await startServer(t, { backend, env: AUTH, store: empty.store })
    const seed = await seedA(t, await connect(t, here.url, A), store, A)
    t.ok(seed.ids.length >= 10, `A revealed ${seed.ids.length} ids`)
    const before = await fullSnapshot(store, A)

    const steps = plan(seed)
    const bHere = await connect(t, here.url, B)
    const bThere = await connect(t, there.url, B)
    let leaks = 0
    let differences = 0
    for (const step of steps) {
      const got = await outcome(() => step.run(bHere))
      const reference = await outcome(() => step.run(bThere))
      const raw = JSON.stringify(got)
      const sent = JSON.stringify(step.args ?? {})
      const leaked = [seed.marker, ...seed.ids.filter((id) => id !== SYSTEM_SCHEMA_ID)].filter((needle) => raw.includes(needle) && !sent.includes(needle))
      if (leaked.length > 0) leaks++
      t.same(leaked, [], `${step.label}: nothing of A's in B's answer`)
      const same = JSON.stringify(normalise(got)) === JSON.stringify(normalise(reference))
      if (!same) differences++
      t.same(normalise(got), normalise(reference), `${step.label}: B's answer equals the answer of a database where A never existed`)
    }
    t.equal(leaks, 0, `${steps.length} steps, no leak`)
    t.equal(differences, 0, 'no answer betrays that A exists')
    t.equal(await fullSnapshot(store, A), before, "A's entries, reads, actions, embeddings and the _system schema are unchanged")

    const a = await connect(t, here.url, A)
    const stats = JSON.parse((await callTool(a, 'get_stats', {})).text) as { total: number }
    t.ok(stats.total >= seed.ids.length - 2, 'A still sees its own data (the suite was not vacuous)')
  })

  t.test(`row-level security really holds on ${backend}`, async (t) => {
    const { store, dispose } = await openStore(backend)
    t.teardown(dispose)
    const A = uniqueOwner('a')
    const B = uniqueOwner('b')
    const aId = await store.withOwner(A, async (tx) => {
      const e = await insertEntry(tx, A, { type: 'note', source: 's', tags: ['t'], data: { description: 'private' } })
      await tx`INSERT INTO reads (owner_id, entry_id, tool_used) VALUES (${A}, ${e.id}, 'x')`
      await tx`INSERT INTO actions (owner_id, entry_id, action) VALUES (${A}, ${e.id}, 'x')`
      return e.id
    })
    const asB = () =>
      store.withOwner(B, async (tx) => ({
        rawEntries: (await tx`SELECT id FROM entries WHERE id = ${aId}`).length,
        rawReads: (await tx`SELECT id FROM reads WHERE owner_id = ${A}`).length,
        rawActions: (await tx`SELECT id FROM actions WHERE owner_id = ${A}`).length,
        knowledge: (await queryKnowledge(tx, A, { types: KNOWLEDGE_TYPES }, 10, 0)).entries.length,
        counted: Object.values((await countByType(tx, A)).counts).reduce((x, y) => x + y, 0),
        tags: (await tagCounts(tx, A)).length,
      }))
    const [role] = await store.withOwner(B, (tx) => tx`SELECT rolsuper, rolbypassrls FROM pg_roles WHERE rolname = current_user`)
    t.same({ ...role }, { rolsuper: false, rolbypassrls: false }, 'owner transactions run as a role that RLS binds')
    t.same(await asB(), { rawEntries: 0, rawReads: 0, rawActions: 0, knowledge: 0, counted: 0, tags: 0 }, "without the owner filter, B's transaction still sees none of A's rows")
    const updated = await store.withOwner(B, (tx) => tx`UPDATE entries SET data = '{}' WHERE id = ${aId}`)
    const deleted = await store.withOwner(B, (tx) => tx`DELETE FROM entries WHERE id = ${aId}`)
    t.equal(updated.count + deleted.count, 0, "B's UPDATE and DELETE reach no row of A's")
    await t.rejects(store.withOwner(B, (tx) => tx`INSERT INTO entries (id, owner_id, type, source, created) VALUES (${randomUUID()}, ${A}, 'note', 's', now())`), { code: '42501' }, 'B cannot write a row in A’s name')
    await t.rejects(store.withOwner(B, (tx) => tx`INSERT INTO entries (id, owner_id, type, source, created) VALUES (${randomUUID()}, '_system', 'schema', 's', now())`), { code: '42501' }, 'nor in _system’s')

    // The control: with permissive policies the very same queries find A's rows.
    await store.system(async (tx) => {
      for (const table of ['entries', 'reads', 'actions']) {
        await tx.unsafe(`DROP POLICY owner_select ON ${table}`)
        await tx.unsafe(`CREATE POLICY owner_select ON ${table} FOR SELECT USING (true)`)
      }
    })
    t.same(await asB(), { rawEntries: 1, rawReads: 1, rawActions: 1, knowledge: 1, counted: 1, tags: 1 }, 'USING (true) exposes everything: the policies, not the role, did the hiding')
  })
}
