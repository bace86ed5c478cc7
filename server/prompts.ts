/**
 * (placeholder: the 5 built-in prompts and custom prompts are filled by the awareness-engine issue)
 */
import type { PromptSurface } from './mcp.js'

export const PROMPTS: PromptSurface = { list: async () => [], get: async () => undefined }
