/**
 * The one place that starts worker threads. Sources run as .ts under tsx (dev, tests) and as compiled
 * .js in the image; a .ts worker is started through a small bootstrap that loads it with tsx.
 */
import { Worker, type WorkerOptions } from 'node:worker_threads'

/** The sibling module `name` of the module at `from` (an import.meta.url), in the running flavour. */
export function siblingModule(name: string, from: string): URL {
  return new URL(`./${name}.${from.endsWith('.ts') ? 'ts' : 'js'}`, from)
}

export function spawnWorker(module: URL, options: WorkerOptions = {}): Worker {
  if (!module.pathname.endsWith('.ts')) return new Worker(module, options)
  return new Worker(new URL('./ts-bootstrap.mjs', import.meta.url), { ...options, argv: [...(options.argv ?? []), module.href] })
}
