/**
 * The tool registry: every tool of the product, in the order tools/list shows them.
 */
import { ACTIVITY_TOOLS } from './activity.js'
import { AWARENESS_TOOLS } from './awareness.js'
import type { AnyTool } from './define.js'
import { ENTRY_TOOLS } from './entries.js'
import { INTENTION_TOOLS } from './intentions.js'
import { KNOWLEDGE_TOOLS } from './knowledge.js'
import { RECORD_TOOLS } from './records.js'
import { SEARCH_TOOLS } from './search.js'
import { WRITE_TOOLS } from './writes.js'

function assertUnique(tools: readonly AnyTool[]): readonly AnyTool[] {
  const seen = new Set<string>()
  for (const t of tools) {
    if (seen.has(t.name)) throw new Error(`Duplicate tool name: ${t.name}`)
    seen.add(t.name)
  }
  return tools
}

export const TOOLS: readonly AnyTool[] = assertUnique([
  ...AWARENESS_TOOLS,
  ...KNOWLEDGE_TOOLS,
  ...WRITE_TOOLS,
  ...INTENTION_TOOLS,
  ...SEARCH_TOOLS,
  ...ENTRY_TOOLS,
  ...RECORD_TOOLS,
  ...ACTIVITY_TOOLS,
])
