/**
 * Everything the MCP layer serves, assembled once at start: tools, resources and prompts.
 */
import type { PromptSurface, ResourceSurface } from './mcp.js'
import { TOOLS } from './tools/index.js'

/** Placeholder surfaces until the resource and prompt modules are registered here. */
const NO_RESOURCES: ResourceSurface = { resources: [], templates: [], read: async () => undefined }
const NO_PROMPTS: PromptSurface = { list: async () => [], get: async () => undefined }

export function buildSurface(): { tools: typeof TOOLS; resources: ResourceSurface; prompts: PromptSurface } {
  return { tools: TOOLS, resources: NO_RESOURCES, prompts: NO_PROMPTS }
}
