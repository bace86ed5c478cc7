// House rules the type checker cannot see: no source file over the 500-line hard limit (ARCHITECTURE.md),
// and no focused test (`.only`) left behind. Run by `npm run lint` after `tsc --noEmit`.
import { readFileSync, readdirSync, statSync } from 'node:fs'
import { join } from 'node:path'

const ROOTS = ['app', 'auth', 'cli', 'core', 'domain', 'mcp', 'routes', 'search', 'store', 'workers', 'tests', 'bench', 'scripts']
const HARD_LIMIT = 500
const problems = []

function walk(dir) {
  for (const name of readdirSync(dir)) {
    const path = join(dir, name)
    if (statSync(path).isDirectory()) walk(path)
    else if (/\.(ts|mjs)$/.test(name)) check(path)
  }
}

function check(path) {
  const text = readFileSync(path, 'utf8')
  const lines = text.split('\n').length
  if (lines > HARD_LIMIT) problems.push(`${path}: ${lines} lines (hard limit ${HARD_LIMIT})`)
  if (path.startsWith('tests') && /\bt\.only\(|\.test\.only\(/.test(text)) problems.push(`${path}: focused test (.only)`)
}

for (const root of ROOTS) walk(root)
for (const p of problems) console.error(p)
if (problems.length > 0) process.exit(1)
console.log(`lint: ${ROOTS.join(', ')} within the house limits`)
