/**
 * The 5 built-in prompts and the caller's custom `user/<key>` prompts through real MCP clients of both
 * protocol eras, on every backend (mcp-surface.md §6, D15, D16, checklist §10).
 */
import t from 'tap'
import type { Client as ClientV1 } from '@modelcontextprotocol/sdk/client/index.js'
import { createPrompts } from '../mcp/prompts/index.js'
import { CustomPromptCache } from '../mcp/prompts/custom.js'
import type { ToolContext } from '../mcp/context.js'
import { backends, call, clientV1, clientV2, snapshot, startServer, uniqueOwner } from './helpers.js'

type Prompter = Pick<ClientV1, 'getPrompt' | 'listPrompts'>

/** Renders a prompt and checks the §6 framing: exactly one user message of text. */
async function prompt(client: Prompter, name: string, args: Record<string, string> = {}): Promise<string> {
  const result = await client.getPrompt({ name, arguments: args })
  if (result.messages.length !== 1) throw new Error(`${name}: ${result.messages.length} messages`)
  const [m] = result.messages
  if (m.role !== 'user' || m.content.type !== 'text') throw new Error(`${name}: unexpected message ${JSON.stringify(m)}`)
  return m.content.text
}

const BUILT_INS = ['agent_instructions', 'catchup', 'project_context', 'system_status', 'write_guide']
const alertArgs = (over: Record<string, unknown> = {}) => ({ source: 'nas', tags: [], alert_id: 'disk', level: 'warning', alert_type: 'threshold', message: 'Disk full', ...over })

for (const backend of backends()) {
  t.test(`prompts on ${backend}`, async (t) => {
    t.test('prompts/list: the built-ins with their arguments and descriptions', async (t) => {
      const srv = await startServer(t, { backend })
      for (const c of [await clientV1(t, srv.url), await clientV2(t, srv.url)]) {
        const { prompts } = await c.listPrompts()
        t.same(prompts.map((p) => p.name).sort(), BUILT_INS)
        const by = new Map(prompts.map((p) => [p.name, p]))
        t.match(by.get('project_context')?.arguments, [{ name: 'repo_name', required: true }])
        t.match(by.get('system_status')?.arguments, [{ name: 'source', required: true }])
        t.match(by.get('catchup')?.arguments, [{ name: 'hours', required: false }])
        t.same(by.get('write_guide')?.arguments ?? [], [])
        t.match(by.get('write_guide')?.description, /before writing/)
        t.match(by.get('catchup')?.description, /24/)
      }
    })

    t.test('agent_instructions: fallback, then sections ordered by entry number', async (t) => {
      const srv = await startServer(t, { backend })
      const c = await clientV1(t, srv.url)
      t.match(await prompt(c, 'agent_instructions'), /No agent instructions found[\s\S]*awareness-prompt[\s\S]*memory-prompt/)
      const r = await c.getPrompt({ name: 'agent_instructions' })
      t.ok((r.description ?? '').length > 10, 'the prompt description comes back')
      await call(c, 'remember', { source: 'awareness-prompt', tags: ['memory-prompt'], description: 'Awareness prompt Entry 2 (Style): Be brief.\n  Use lists.  ' })
      await call(c, 'remember', { source: 'other', tags: ['memory-prompt'], description: 'A free-form convention' })
      await call(c, 'remember', { source: 'awareness-prompt', tags: ['memory-prompt'], description: 'Awareness prompt Entry 1 (Core): Read the briefing first.' })
      await call(c, 'remember', { source: 'awareness-prompt', tags: ['unrelated'], description: 'Awareness prompt Entry 0 (Hidden): not tagged' })
      t.equal(
        await prompt(c, 'agent_instructions'),
        '# Awareness Agent Instructions\n\n## Core\nRead the briefing first.\n\n## Style\nBe brief.\n  Use lists.\n\nA free-form convention',
      )
    })

    t.test('project_context: header, alerts, knowledge by type, truncation, missing argument', async (t) => {
      const srv = await startServer(t, { backend })
      const c = await clientV2(t, srv.url)
      t.equal(await prompt(c, 'project_context', { repo_name: 'awareness' }), "# Project Context: awareness\n\nNo knowledge or alerts found for 'awareness'.")
      const long = 'L'.repeat(250)
      await call(c, 'remember', { source: 'gh', tags: ['awareness'], description: long })
      await srv.store.withOwner(srv.owner, (tx) =>
        tx`INSERT INTO entries (id, owner_id, type, source, created, tags, data) VALUES (gen_random_uuid()::text, ${srv.owner}, 'pattern', 'ci', now() - interval '1 minute', '["awareness"]', '{"effect": "x"}')`,
      )
      await call(c, 'remember', { source: 'gh', tags: ['awareness', 'x'], description: 'Uses tap for tests' })
      await call(c, 'report_alert', alertArgs({ tags: ['awareness'], level: 'critical', message: 'CI is red' }))
      await call(c, 'report_alert', alertArgs({ alert_id: 'other', message: 'untagged' }))
      const text = await prompt(c, 'project_context', { repo_name: 'awareness' })
      const lines = text.split('\n')
      t.equal(lines[0], '# Project Context: awareness')
      t.ok(text.includes('\n\n## Active Alerts (1)\n- **critical**: CI is red'), text)
      t.notOk(text.includes('untagged'))
      t.ok(text.includes(`\n\n## Note (2)\n- [gh] Uses tap for tests\n- [gh] ${'L'.repeat(200)}...`), 'notes newest first, cut at 200 + ...')
      t.ok(text.endsWith('\n\n## Pattern (1)\n- [ci] (no description)'), 'missing description')
      t.ok(text.indexOf('## Note') < text.indexOf('## Pattern'), 'types in order of first appearance')
      await t.rejects(c.getPrompt({ name: 'project_context', arguments: {} }), 'missing repo_name is a protocol error')
    })

    t.test('system_status: metrics, description, alerts and patterns with conditions (D15)', async (t) => {
      const srv = await startServer(t, { backend })
      const c = await clientV1(t, srv.url)
      t.equal(await prompt(c, 'system_status', { source: 'nas' }), "# System Status: nas\n\nNo status or alerts found for 'nas'.")
      await call(c, 'report_status', { source: 'nas', tags: [], metrics: { cpu: 45, label: 'main', disks: { a: 1 }, up: true } })
      await srv.store.withOwner(srv.owner, (tx) => tx`UPDATE entries SET data = data || '{"description": "The family NAS"}' WHERE owner_id = ${srv.owner} AND type = 'status'`)
      await call(c, 'report_alert', alertArgs({ message: 'Disk 91% full' }))
      await call(c, 'report_alert', alertArgs({ source: 'ci', message: 'elsewhere' }))
      await srv.store.withOwner(srv.owner, (tx) =>
        tx`INSERT INTO entries (id, owner_id, type, source, created, tags, data) VALUES
          (gen_random_uuid()::text, ${srv.owner}, 'pattern', 'nas', now(), '[]', ${tx.json({ description: 'd', conditions: { day_of_week: 'friday', hour_range: [1, 3] }, effect: 'backup load', learned_from: 't' })}),
          (gen_random_uuid()::text, ${srv.owner}, 'pattern', '', now(), '[]', ${tx.json({ description: 'global', conditions: {}, effect: 'not exact source' })})`,
      )
      const text = await prompt(c, 'system_status', { source: 'nas' })
      const status = (await call(c, 'get_status', { source: 'nas' })).body
      // JSONB keeps its own key order; the prompt follows the stored order, as get_status shows it.
      const metricLines = Object.entries(status.data.metrics as Record<string, unknown>).map(([k, v]) => `- ${k}: ${typeof v === 'string' ? v : JSON.stringify(v)}`)
      t.same(metricLines.slice().sort(), ['- cpu: 45', '- disks: {"a":1}', '- label: main', '- up: true'])
      const [head, patternLine] = text.split('\n- When: ')
      t.equal(
        head,
        ['# System Status: nas', '\n## Current Status', ...metricLines, '- The family NAS', `- Last report: ${status.created}`, '\n## Active Alerts (1)', '- **warning**: Disk 91% full', '\n## Known Patterns (1)'].join('\n'),
      )
      const [conditions, effect] = patternLine.split(' -> ')
      t.same(JSON.parse(conditions), { day_of_week: 'friday', hour_range: [1, 3] }, 'conditions as compact JSON (D15)')
      t.notOk(conditions.includes(' '), 'compact')
      t.equal(effect, 'backup load')
      t.match(await prompt(c, 'system_status', { source: 'ci' }), /^# System Status: ci\n\n## Active Alerts \(1\)\n- \*\*warning\*\*: elsewhere$/)
      await t.rejects(c.getPrompt({ name: 'system_status', arguments: {} }), 'missing source is a protocol error')
    })

    t.test('write_guide: totals, non-zero types, sources, 30 tags and "and N more"', async (t) => {
      const srv = await startServer(t, { backend })
      const c = await clientV2(t, srv.url)
      const empty = await prompt(c, 'write_guide')
      t.ok(empty.startsWith('# Awareness Write Guide\n\n## Store Overview\nTotal entries: 0\n\n## Active Sources (0)\n'), empty)
      const tags = Array.from({ length: 35 }, (_, i) => `tag-${String(i).padStart(2, '0')}`)
      await call(c, 'remember', { source: 'personal', tags, description: 'many tags' })
      await call(c, 'remember', { source: 'nas', tags: ['tag-00'], description: 'one more' })
      await call(c, 'report_status', { source: 'nas', tags: [], metrics: {} })
      const text = await prompt(c, 'write_guide')
      t.ok(text.includes('\nTotal entries: 3\n- status: 1\n- note: 2\n'), text)
      t.notOk(/- alert: 0/.test(text), 'only non-zero counts')
      t.ok(text.includes('## Active Sources (2)\n') && text.includes('- `nas`\n- `personal`'))
      t.ok(text.includes('## Tags in Use (35)\n'))
      t.ok(text.includes('- `tag-00` (2)\n- `tag-01` (1)'), 'most used first, then by name')
      t.equal((text.match(/^- `tag-/gm) ?? []).length, 30)
      t.ok(text.includes('- ... and 5 more'))
      const quick = text.slice(text.indexOf('\n\n## Quick Reference\n'))
      t.equal((quick.match(/^- /gm) ?? []).length, 5)
      for (const word of ['remember', 'learn_pattern', 'add_context', 'set_preference', 'logical_key']) t.ok(quick.includes(word), word)
    })

    t.test('catchup: nothing, then new/updated knowledge and alerts in the window', async (t) => {
      const srv = await startServer(t, { backend })
      const c = await clientV1(t, srv.url)
      t.match(await prompt(c, 'catchup'), /^# Catchup — last 24 hours\n\nNothing changed/)
      await call(c, 'remember', { source: 'b-src', tags: [], description: 'D'.repeat(160) })
      await call(c, 'remember', { source: 'a-src', tags: [], description: 'v1', logical_key: 'doc' })
      await call(c, 'remember', { source: 'a-src', tags: [], description: 'v2', logical_key: 'doc' })
      const old = (await call(c, 'remember', { source: 'a-src', tags: [], description: 'two hours old' })).body.id
      await srv.store.withOwner(srv.owner, (tx) => tx`UPDATE entries SET created = now() - interval '2 hours' WHERE id = ${old}`)
      await call(c, 'report_alert', alertArgs({ level: 'critical', message: 'Array degraded' }))
      const text = await prompt(c, 'catchup', { hours: '1' })
      t.equal(
        text,
        [
          '# Catchup — last 1 hours',
          '\n## New/Updated Alerts (1)',
          '- **critical** [nas]: Array degraded',
          '\n## Updated Knowledge (2 entries)',
          '\n### a-src (1)',
          '- v2 [updated]',
          '\n### b-src (1)',
          `- ${'D'.repeat(150)}... [new]`,
        ].join('\n'),
      )
      t.ok((await prompt(c, 'catchup', {})).includes('## Updated Knowledge (3 entries)'), 'default 24 hours')
      t.ok((await prompt(c, 'catchup', { hours: '99999999999999' })).includes('(3 entries)'), 'a huge window is fine')
      for (const hours of ['abc', '1.5', '-3', '1e3']) await t.rejects(c.getPrompt({ name: 'catchup', arguments: { hours } }), `hours ${hours} is a protocol error`)
    })

    t.test('custom prompts: from the caller\'s entries, rendered, fresh within the cache window (D16)', async (t) => {
      const alice = await startServer(t, { backend })
      const bob = await startServer(t, { backend })
      const a = await clientV2(t, alice.url)
      const a1 = await clientV1(t, alice.url)
      const b = await clientV1(t, bob.url)
      const greeting = (await call(a, 'remember', { source: 'custom-prompt', tags: [], description: 'Greets someone', content: 'Hello {{name}}, welcome to {{project}}! Bye {{name}}.', logical_key: 'greeting' })).body.id
      const plain = (await call(a, 'remember', { source: 'custom-prompt', tags: [], description: 'No placeholders here {{not a name}}' })).body.id
      await call(a, 'remember', { source: 'not-custom', tags: [], description: 'ignored', logical_key: 'x' })
      const names = async (client: Prompter) => (await client.listPrompts()).prompts.map((p) => p.name).filter((n) => n.startsWith('user/'))
      const deadline = Date.now() + 60_000
      while ((await names(a)).length < 2 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 250))
      t.same(await names(a), [`user/${plain}`, 'user/greeting'].sort())
      const listed = (await a1.listPrompts()).prompts.find((p) => p.name === 'user/greeting')
      t.same(listed?.arguments, [
        { name: 'name', description: 'Value for name', required: true },
        { name: 'project', description: 'Value for project', required: true },
      ])
      t.equal(listed?.description, 'Greets someone')
      t.equal(await prompt(a1, 'user/greeting', { name: 'Chris', project: 'awareness' }), 'Hello Chris, welcome to awareness! Bye Chris.')
      t.equal(await prompt(a, `user/${plain}`), 'No placeholders here {{not a name}}', 'no content: the description is the template')
      await t.rejects(a.getPrompt({ name: 'user/greeting', arguments: { name: 'Chris' } }), 'a missing placeholder value is a protocol error')
      t.same(await names(b), [], "another owner's custom prompts are not listed")
      await t.rejects(b.getPrompt({ name: 'user/greeting', arguments: { name: 'x', project: 'y' } }), 'nor can they be rendered')
      await t.rejects(a.getPrompt({ name: 'user/nope' }), 'unknown custom prompt')
      await t.rejects(a.getPrompt({ name: 'nope' }), 'unknown prompt')
      const before = await snapshot(alice.store, alice.owner)
      await prompt(a, 'write_guide')
      await prompt(a, 'catchup')
      t.equal(await snapshot(alice.store, alice.owner), before, 'prompts change nothing and log no reads')
      await alice.store.withOwner(alice.owner, (tx) => tx`UPDATE entries SET deleted = now() WHERE id = ${greeting}`)
      while ((await names(a)).includes('user/greeting') && Date.now() < deadline) await new Promise((r) => setTimeout(r, 250))
      t.same(await names(a), [`user/${plain}`], 'a trashed entry disappears within 60 s')
    })

    t.test('the custom-prompt cache: TTL, size bound, any entry type', async (t) => {
      const srv = await startServer(t, { backend })
      const c = await clientV1(t, srv.url)
      const owner = srv.owner
      const ctx = (o: string) => ({ owner: o, store: srv.store }) as unknown as ToolContext
      await call(c, 'remember', { source: 'custom-prompt', tags: [], description: 'd', content: 'one', logical_key: 'k' })
      const cached = createPrompts(new CustomPromptCache({ ttlMs: 60_000 }))
      const fresh = createPrompts(new CustomPromptCache({ ttlMs: 0 }))
      const bounded = createPrompts(new CustomPromptCache({ ttlMs: 60_000, maxOwners: 1 }))
      type Prompts = typeof cached
      const render = async (p: Prompts) => (await p.get(ctx(owner), 'user/k', {}))?.messages[0].content.text
      t.equal(await render(cached), 'one')
      t.equal(await render(bounded), 'one')
      await srv.store.withOwner(owner, (tx) => tx`UPDATE entries SET data = data || '{"content": "changed"}' WHERE owner_id = ${owner} AND logical_key = 'k'`)
      t.equal(await render(cached), 'one', 'within the TTL the cached definitions answer')
      t.equal(await render(fresh), 'changed', 'past the TTL they are reloaded')
      t.equal(await render(bounded), 'one')
      await bounded.list(ctx(uniqueOwner()))
      t.equal(await render(bounded), 'changed', 'past maxOwners the least recently loaded owner is dropped')
      await srv.store.withOwner(owner, (tx) =>
        tx`INSERT INTO entries (id, owner_id, type, source, created, tags, data, logical_key) VALUES (gen_random_uuid()::text, ${owner}, 'record', 'custom-prompt', now(), '[]', '{"description": "record {{v}}", "content": {"x": 1}}', 'k-rec')`,
      )
      t.equal((await fresh.get(ctx(owner), 'user/k-rec', { v: '!' }))?.messages[0].content.text, 'record !', 'any type; non-string content falls back to the description')
      t.equal(await fresh.get(ctx(owner), 'user/none', {}), undefined)
    })
  })
}
