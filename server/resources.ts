/**
 * (placeholder: the 4 resources and 2 templates are filled by the awareness-engine issue)
 */
import type { ResourceSurface } from './mcp.js'

export const RESOURCES: ResourceSurface = { resources: [], templates: [], read: async () => undefined }
