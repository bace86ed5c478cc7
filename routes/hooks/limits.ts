/**
 * Per-owner concurrency cap (http-and-operations.md §11): a slot is taken right after authentication, before
 * the body is read, and given back exactly once when the response ends or the client goes away. No queueing:
 * a full owner is told to retry (429, Retry-After: 1). Counters at zero are deleted, so the map holds only
 * owners with requests in flight (risk R11).
 */
import type { FastifyReply, FastifyRequest } from 'fastify'

export const TOO_MANY = 'Too many concurrent requests'

export class OwnerSlots {
  private readonly inFlight = new Map<string, number>()

  constructor(private readonly limit: number) {}

  tryAcquire(owner: string): boolean {
    const n = this.inFlight.get(owner) ?? 0
    if (n >= this.limit) return false
    this.inFlight.set(owner, n + 1)
    return true
  }

  release(owner: string): void {
    const n = (this.inFlight.get(owner) ?? 0) - 1
    if (n > 0) this.inFlight.set(owner, n)
    else this.inFlight.delete(owner)
  }

  /** Requests in flight for the owner (0 when none). */
  count(owner: string): number {
    return this.inFlight.get(owner) ?? 0
  }

  /** Owners with requests in flight. */
  get owners(): number {
    return this.inFlight.size
  }
}

/**
 * Takes a slot for `request.ownerId` or answers 429. Returns false when it answered. The release hangs on
 * `reply.raw` 'close', which Node emits once for every response — finished, failed, hijacked or aborted.
 */
export function acquireSlot(slots: OwnerSlots, request: FastifyRequest, reply: FastifyReply): boolean {
  const owner = request.ownerId
  if (!slots.tryAcquire(owner)) {
    request.rejectReason = 'concurrency limit'
    void reply.code(429).header('retry-after', '1').type('application/json').send({ error: TOO_MANY })
    return false
  }
  let released = false
  const release = () => {
    if (released) return
    released = true
    slots.release(owner)
  }
  // A client that left while authentication awaited (OAuth may fetch keys) has already had its 'close'.
  if (reply.raw.closed) release()
  else reply.raw.once('close', release)
  return true
}
