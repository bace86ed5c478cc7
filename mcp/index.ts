/**
 * Everything the MCP layer serves, assembled once at start: tools, resources and prompts.
 */
import type { PromptSurface, ResourceSurface } from './context.js'
import { PROMPTS } from './prompts/index.js'
import { RESOURCES } from './resources/index.js'
import { TOOLS } from './tools/index.js'

export function buildSurface(): { tools: typeof TOOLS; resources: ResourceSurface; prompts: PromptSurface } {
  return { tools: TOOLS, resources: RESOURCES, prompts: PROMPTS }
}
