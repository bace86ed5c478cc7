/**
 * The tool registry: every tool of the product, in the order tools/list shows them.
 */
import type { AnyTool } from './define.js'
import { KNOWLEDGE_TOOLS } from './knowledge.js'

function assertUnique(tools: readonly AnyTool[]): readonly AnyTool[] {
  const seen = new Set<string>()
  for (const t of tools) {
    if (seen.has(t.name)) throw new Error(`Duplicate tool name: ${t.name}`)
    seen.add(t.name)
  }
  return tools
}

export const TOOLS: readonly AnyTool[] = assertUnique([...KNOWLEDGE_TOOLS])
