/**
 * The 4 resources and 2 resource templates through real MCP clients of both protocol eras, on every
 * backend (mcp-surface.md §5, D18, checklist §10).
 */
import t, { type Test } from 'tap'
import type { Client as ClientV1 } from '@modelcontextprotocol/sdk/client/index.js'
import { backends, call, clientV1, clientV2, snapshot, startServer } from './helpers.js'

type Reader = Pick<ClientV1, 'readResource'>

/** Reads a resource and checks the §5 framing: one JSON text item with the URI and application/json. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any -- tests inspect arbitrary JSON bodies
async function read(tt: Test, client: Reader, uri: string): Promise<any> {
  const result = await client.readResource({ uri })
  tt.equal(result.contents.length, 1, `${uri}: one content item`)
  const [item] = result.contents as { uri: string; mimeType?: string; text?: string }[]
  tt.equal(item.uri, uri)
  tt.equal(item.mimeType, 'application/json', 'D18')
  return JSON.parse(item.text ?? 'null')
}

const alertArgs = (over: Record<string, unknown> = {}) => ({ source: 'nas', tags: [], alert_id: 'disk', level: 'warning', alert_type: 'threshold', message: 'Disk full', ...over })

for (const backend of backends()) {
  t.test(`resources on ${backend}`, async (t) => {
    t.test('listing: 4 static resources and 2 templates, with descriptions', async (t) => {
      const srv = await startServer(t, { backend })
      for (const c of [await clientV1(t, srv.url), await clientV2(t, srv.url)]) {
        const { resources } = await c.listResources()
        t.same(resources.map((r) => r.uri).sort(), ['awareness://alerts', 'awareness://briefing', 'awareness://knowledge', 'awareness://suppressions'])
        t.ok(resources.every((r) => r.mimeType === 'application/json' && (r.description ?? '').length > 20))
        t.match(resources.find((r) => r.uri === 'awareness://briefing')?.description, /start of a conversation/)
        const { resourceTemplates } = await c.listResourceTemplates()
        t.same(resourceTemplates.map((r) => r.uriTemplate).sort(), ['awareness://alerts/{source}', 'awareness://status/{source}'])
      }
    })

    t.test('empty store: all clear, [] everywhere, status not_found as content', async (t) => {
      const srv = await startServer(t, { backend })
      const c = await clientV1(t, srv.url)
      const b = await read(t, c, 'awareness://briefing')
      t.equal(b.attention_needed, false)
      t.equal(b.summary, 'All clear across 0 sources.')
      t.same(await read(t, c, 'awareness://alerts'), [])
      t.same(await read(t, c, 'awareness://alerts/nas'), [])
      t.same(await read(t, c, 'awareness://knowledge'), [])
      t.same(await read(t, c, 'awareness://suppressions'), [])
      t.same(await read(t, c, 'awareness://status/nas'), {
        status: 'error',
        error: { code: 'not_found', message: "No status found for source: 'nas'", retryable: false, param: 'source', value: 'nas' },
      })
    })

    t.test('contents mirror the tools (2026 client)', async (t) => {
      const srv = await startServer(t, { backend })
      const c = await clientV2(t, srv.url)
      await call(c, 'report_status', { source: 'nas', tags: [], metrics: { cpu: 45 } })
      const nas = (await call(c, 'report_alert', alertArgs())).body.id
      const ci = (await call(c, 'report_alert', alertArgs({ source: 'ci', alert_id: 'build' }))).body.id
      await call(c, 'report_alert', alertArgs({ source: 'ci', alert_id: 'gone', resolved: true }))
      await call(c, 'suppress_alert', { source: 'ci', reason: 'flaky' })
      const note = (await call(c, 'remember', { source: 'p', tags: [], description: 'v1', logical_key: 'k' })).body.id
      await call(c, 'remember', { source: 'p', tags: [], description: 'v2', logical_key: 'k' })
      await call(c, 'remind', { goal: 'not knowledge', source: 'p', tags: [] })

      const briefing = await read(t, c, 'awareness://briefing')
      const tool = (await call(c, 'get_briefing', {})).body
      t.same({ ...briefing, generated: 0 }, { ...tool, generated: 0 }, 'same content as get_briefing')
      t.equal(briefing.sources.nas.drill_down, 'awareness://alerts/nas')

      const alerts = await read(t, c, 'awareness://alerts')
      t.same(alerts.map((a: { id: string }) => a.id), [ci, nas], 'bare array of active alerts, newest first, resolved excluded')
      t.ok(alerts.every((a: { data?: object }) => a.data !== undefined), 'full serialisation')
      t.same((await read(t, c, 'awareness://alerts/nas')).map((a: { id: string }) => a.id), [nas])
      t.same(await read(t, c, 'awareness://alerts/unknown'), [])

      const status = await read(t, c, 'awareness://status/nas')
      t.same(status.data.metrics, { cpu: 45 })
      t.same(status, (await call(c, 'get_status', { source: 'nas' })).body)

      const knowledge = await read(t, c, 'awareness://knowledge')
      t.same(knowledge.map((e: { id: string }) => e.id), [note])
      t.notOk('changelog' in knowledge[0].data, 'changelog stripped')
      t.equal(knowledge[0].data.description, 'v2')

      t.same(await read(t, c, 'awareness://suppressions'), (await call(c, 'get_suppressions', {})).body)
      await srv.reads.flush()
      const reads = await srv.store.withOwner(srv.owner, (tx) => tx`SELECT count(*)::int AS n FROM reads WHERE owner_id = ${srv.owner}`)
      t.equal(reads[0].n, 0, 'resource reads log no reads')
    })

    t.test('reading the briefing fires due intentions once', async (t) => {
      const srv = await startServer(t, { backend })
      const c = await clientV1(t, srv.url)
      const id = (await call(c, 'remind', { goal: 'Stretch', source: 'me', tags: [], deliver_at: '2020-01-01' })).body.id
      const first = await read(t, c, 'awareness://briefing')
      t.same(first.fired_intentions.map((f: { id: string }) => f.id), [id])
      t.notOk('fired_intentions' in (await read(t, c, 'awareness://briefing')))
    })

    t.test('{source} is percent-decoded; unknown URIs are protocol errors', async (t) => {
      const srv = await startServer(t, { backend })
      const c = await clientV2(t, srv.url)
      const c1 = await clientV1(t, srv.url)
      for (const source of ['my nas', 'ünï-côdé', 'disk 100%', "a'b;--"]) {
        await call(c, 'report_status', { source, tags: [], metrics: { ok: 1 } })
        await call(c, 'report_alert', alertArgs({ source }))
        t.equal((await read(t, c, `awareness://status/${encodeURIComponent(source)}`)).source, source, `status of ${source}`)
        t.equal((await read(t, c1, `awareness://alerts/${encodeURIComponent(source)}`))[0].source, source, `alerts of ${source}`)
      }
      t.equal((await read(t, c, 'awareness://status/disk 100%')).source, 'disk 100%', 'not valid percent-encoding: taken literally')
      const before = await snapshot(srv.store, srv.owner)
      for (const uri of ['awareness://nope', 'awareness://alerts/a/b', 'awareness://status/', 'awareness://briefing/x', 'https://example.com/']) {
        for (const client of [c, c1]) {
          await t.rejects(client.readResource({ uri }), `${uri} is a protocol error`)
        }
      }
      t.equal(await snapshot(srv.store, srv.owner), before)
    })

    t.test('owners never see each other through resources', async (t) => {
      const alice = await startServer(t, { backend })
      const bob = await startServer(t, { backend })
      const a = await clientV1(t, alice.url)
      const b = await clientV2(t, bob.url)
      await call(a, 'report_status', { source: 'nas', tags: [], metrics: { secret: 1 } })
      await call(a, 'report_alert', alertArgs())
      await call(a, 'remember', { source: 's', tags: [], description: 'alice only' })
      await call(a, 'suppress_alert', {})
      t.same(await read(t, b, 'awareness://alerts'), [])
      t.same(await read(t, b, 'awareness://knowledge'), [])
      t.same(await read(t, b, 'awareness://suppressions'), [])
      t.equal((await read(t, b, 'awareness://status/nas')).error.code, 'not_found')
      t.same((await read(t, b, 'awareness://briefing')).sources, {})
    })
  })
}
