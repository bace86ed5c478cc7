/**
 * (placeholder: filled by its domain's issue)
 */
import type { AnyTool } from './define.js'

export const WRITE_TOOLS: AnyTool[] = []
