/** Run inside a bench server started with --expose-gc: the JS heap still in use after a full collection. */
export function retainedHeapBytes(): number {
  ;(globalThis as { gc?: () => void }).gc?.()
  return process.memoryUsage().heapUsed
}
