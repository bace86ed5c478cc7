/**
 * The product's own version (serverInfo.version, /health): read from package.json when asked, looking
 * upward from this module so it works from the sources and from dist/.
 */
import { existsSync, readFileSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'

let cached: string | undefined

export function productVersion(): string {
  if (cached !== undefined) return cached
  let dir = dirname(fileURLToPath(import.meta.url))
  for (let i = 0; i < 4; i++) {
    const candidate = join(dir, 'package.json')
    if (existsSync(candidate)) {
      const pkg = JSON.parse(readFileSync(candidate, 'utf8')) as { name?: string; version?: string }
      if (pkg.name === 'awareness' && pkg.version !== undefined) return (cached = pkg.version)
    }
    dir = dirname(dir)
  }
  return (cached = '0.0.0')
}
