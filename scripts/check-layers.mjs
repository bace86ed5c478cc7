// The direction of the rooms, checked: each product folder may import only the rooms listed for it below
// (type-only imports count too), and no product file may take part in an import cycle. Imports are read
// with TypeScript's own pre-processor. Run by `npm run lint`.
import { readFileSync, readdirSync, statSync } from 'node:fs'
import { dirname, join, normalize, relative } from 'node:path'
import ts from 'typescript'

/** Room → the rooms it may import. Read bottom-up: core is the floor, app the composition root. */
const MAY_IMPORT = {
  core: [],
  store: ['core'],
  // Workers run pure domain code off the main thread (record validation); never the store.
  workers: ['core', 'domain'],
  domain: ['core', 'store'],
  search: ['core', 'store', 'domain', 'workers'],
  auth: ['core', 'store'],
  mcp: ['core', 'store', 'domain', 'search'],
  routes: ['core', 'store', 'auth', 'mcp'],
  cli: ['core', 'store', 'domain', 'auth', 'search', 'workers'],
  app: ['core', 'store', 'workers', 'domain', 'search', 'auth', 'mcp', 'routes'],
}
const ROOMS = Object.keys(MAY_IMPORT)

function sources(dir) {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name)
    if (statSync(path).isDirectory()) return sources(path)
    return name.endsWith('.ts') ? [path] : []
  })
}

const roomOf = (file) => file.split('/')[0]
const files = ROOMS.flatMap((room) => sources(room))
const known = new Set(files)
const problems = []
const graph = new Map()

for (const file of files) {
  const { importedFiles } = ts.preProcessFile(readFileSync(file, 'utf8'), true, true)
  const targets = []
  for (const { fileName } of importedFiles) {
    if (!fileName.startsWith('.')) continue
    const target = normalize(join(dirname(file), fileName)).replace(/\.js$/, '.ts')
    if (!known.has(target)) {
      problems.push(`${file}: imports ${fileName}, which is not a product source file`)
      continue
    }
    targets.push(target)
    const from = roomOf(file)
    const to = roomOf(target)
    if (from !== to && !MAY_IMPORT[from].includes(to)) problems.push(`${file}: ${from}/ may not import ${to}/ (${fileName})`)
  }
  graph.set(file, targets)
}

// Tarjan's strongly connected components: any component of two or more files (or a file importing
// itself) is a cycle.
let index = 0
const state = new Map()
const stack = []
function visit(file) {
  const s = { index, low: index, onStack: true }
  index++
  state.set(file, s)
  stack.push(file)
  for (const next of graph.get(file)) {
    const t = state.get(next)
    if (t === undefined) {
      visit(next)
      s.low = Math.min(s.low, state.get(next).low)
    } else if (t.onStack) s.low = Math.min(s.low, t.index)
  }
  if (s.low !== s.index) return
  const component = []
  let member
  do {
    member = stack.pop()
    state.get(member).onStack = false
    component.push(member)
  } while (member !== file)
  if (component.length > 1 || graph.get(file).includes(file)) problems.push(`import cycle: ${component.reverse().join(' → ')}`)
}
for (const file of files) if (!state.has(file)) visit(file)

for (const p of problems) console.error(p)
if (problems.length > 0) process.exit(1)
const edges = [...graph.values()].reduce((n, targets) => n + targets.length, 0)
console.log(`layers: ${files.length} product files, ${edges} imports, every one in the rooms' direction, no cycle (${relative('.', 'scripts/check-layers.mjs')})`)
