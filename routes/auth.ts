/**
 * Who the caller is. Until authentication is configured every request runs as the default owner
 * (http-and-operations.md §9.8); the token checks of §9 plug in here.
 */
import type { FastifyRequest } from 'fastify'
import type { Config } from '../server/config.js'

declare module 'fastify' {
  interface FastifyRequest {
    /** The owner every tool, resource and prompt of this request acts for. */
    ownerId: string
  }
}

export function resolveOwner(config: Config): (request: FastifyRequest) => Promise<void> {
  return async (request) => {
    request.ownerId = config.defaultOwner
  }
}
