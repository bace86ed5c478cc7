/**
 * Where worker modules are found. The project runs from TypeScript sources under tsx (dev, tests)
 * and as compiled JavaScript from dist/, and a worker entry must be loaded in the same form as the
 * module that spawns it.
 */

/** A sibling worker module of `from` (an import.meta.url): `./<name>.ts` from sources, `./<name>.js` from dist/. */
export function workerUrl(name: string, from: string): URL {
  const ext = new URL(from).pathname.endsWith('.ts') ? 'ts' : 'js'
  return new URL(`./${name}.${ext}`, from)
}

/**
 * The URL to hand to `new Worker` for `url`. JavaScript loads as is. A TypeScript entry needs the tsx
 * loader inside the worker, and on Node 20 a worker does not get it from the parent: tsx (4.x)
 * registers its hooks only on the main thread there, even when `--import tsx` is inherited through
 * execArgv, so `new Worker('x.ts')` fails with ERR_UNKNOWN_FILE_EXTENSION. A tiny bootstrap module
 * registers tsx in the worker, then imports the entry. Only sources use this path; dist/ never does.
 */
export function spawnableUrl(url: URL): URL {
  if (!url.pathname.endsWith('.ts')) return url
  const api = import.meta.resolve('tsx/esm/api')
  const code = `import { register } from ${JSON.stringify(api)};\nregister();\nawait import(${JSON.stringify(url.href)});\n`
  return new URL(`data:text/javascript,${encodeURIComponent(code)}`)
}
