/**
 * Input schemas every client accepts as strictly as the arguments allow. A real client's conversion decides:
 * the OpenAI Agents SDK (`@openai/agents-core`'s mcpToFunctionTool with convertSchemasToStrict) turns each
 * listed tool into a strict function when it can and falls back to non-strict when it cannot. Only tools
 * that take a free-form JSON value (a status's metrics, a note's content, a JSON Schema, …) may fall back:
 * the README lists them. Before every schema was closed, 23 of the 32 tools were strict (the four without
 * arguments were not). Closing the schemas changes no validation: unknown argument names are still ignored
 * (mcp-surface.md §2.3).
 */
import t from 'tap'
import { mcpToFunctionTool, type MCPServer } from '@openai/agents-core'
import { backends, call, clientV1, startServer } from './helpers.js'

/** Tools with a free-form JSON argument, which no strict schema can describe (README, "Tool schemas"). */
const FREE_FORM = ['create_record', 'learn_pattern', 'register_schema', 'remember', 'report_alert', 'report_status', 'update_entry']

interface ListedTool {
  name: string
  description?: string
  inputSchema: Record<string, unknown>
}

/** Every subschema of a schema, with its path, for the checks that hold at every depth. */
function* subschemas(schema: unknown, path: string): Generator<[string, Record<string, unknown>]> {
  if (typeof schema !== 'object' || schema === null) return
  const s = schema as Record<string, unknown>
  yield [path, s]
  for (const [name, child] of Object.entries((s.properties as Record<string, unknown> | undefined) ?? {})) yield* subschemas(child, `${path}.${name}`)
  if (s.items !== undefined) yield* subschemas(s.items, `${path}[]`)
  for (const [i, branch] of ((s.anyOf as unknown[] | undefined) ?? []).entries()) yield* subschemas(branch, `${path}|${i}`)
}

t.test('every input schema is closed, typed, and strict wherever its arguments allow', async (t) => {
  const srv = await startServer(t, { backend: backends()[0] })
  const client = await clientV1(t, srv.url)
  const { tools } = (await client.listTools()) as unknown as { tools: ListedTool[] }
  t.equal(tools.length, 32)

  const nonStrict: string[] = []
  // The SDK warns through its logger on each fallback; the list below is what this test checks.
  const warn = console.warn
  console.warn = () => undefined
  try {
    for (const tool of tools) {
      const converted = mcpToFunctionTool(tool as never, { name: 'awareness' } as unknown as MCPServer, true)
      if (!converted.strict) nonStrict.push(tool.name)
    }
  } finally {
    console.warn = warn
  }
  t.same(nonStrict.sort(), FREE_FORM, `strict: ${tools.length - nonStrict.length} of ${tools.length}; only the free-form tools fall back`)

  for (const tool of tools) {
    t.equal(tool.inputSchema.additionalProperties, false, `${tool.name}: its arguments are a closed object`)
    for (const [path, s] of subschemas(tool.inputSchema, tool.name)) {
      t.notOk(Array.isArray(s.type), `${path}: one type, or anyOf branches (inspectors warn on type arrays)`)
      if (path !== tool.name) t.ok('type' in s || 'anyOf' in s || 'enum' in s, `${path}: has a validation keyword`)
    }
  }
})

t.test('a closed schema still ignores argument names it does not know (§2.3)', async (t) => {
  const srv = await startServer(t, { backend: backends()[0] })
  const client = await clientV1(t, srv.url)
  const r = await call(client, 'get_stats', { not_a_parameter: 1 })
  t.equal(r.isError, false)
  t.type(r.body.total, 'number')
})
