/**
 * The small types every room shares, so that no room imports another only for a type: the logger a
 * component may write to, and the two embedding seams (the provider and the fire-and-forget scheduler).
 */
import type { Logger } from 'pino'

/** The logging a component may do (pino's methods; Fastify's request logger satisfies it too). */
export type Log = Pick<Logger, 'debug' | 'info' | 'warn' | 'error'>

/** Fire-and-forget embedding of a written entry (mcp-surface.md §2.11). */
export interface EmbedScheduler {
  schedule(owner: string, entryId: string): void
}

/** Embedding provider access for search and backfill; computed in worker threads. */
export interface Embedder {
  readonly modelName: string
  readonly dimensions: number
  embed(texts: string[]): Promise<number[][]>
  available(): Promise<boolean>
}
