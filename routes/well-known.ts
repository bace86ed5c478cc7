/**
 * OAuth protected resource metadata, RFC 9728 (http-and-operations.md §10): tells a client which
 * authorization server issues tokens for this MCP endpoint. Public, served only when an issuer is configured.
 * With a secret mount path the bare root form is 404, because its `resource` would disclose the mount (R4).
 */
import type { FastifyInstance } from 'fastify'
import type { Config } from '../core/config.js'

export const METADATA_PATH = '/.well-known/oauth-protected-resource'

/** The paths answering metadata: the RFC 9728 path-inserted form first (the one WWW-Authenticate names). */
export function servedMetadataPaths(mount: string): string[] {
  return mount === '' ? [`${METADATA_PATH}/mcp`, METADATA_PATH] : [`${METADATA_PATH}${mount}/mcp`, `${mount}${METADATA_PATH}`]
}

/** Every well-known path this module routes (public; those not served for this mount answer 404). */
export function wellKnownPaths(mount: string): string[] {
  return [...new Set([...servedMetadataPaths(mount), ...servedMetadataPaths('')])]
}

/**
 * The absolute URL advertised in `WWW-Authenticate: Bearer resource_metadata="…"` — one that is served. It is
 * built from AWARENESS_PUBLIC_URL, which an issuer requires (core/config.ts): the caller's Host header never
 * reaches the metadata, so a cache that does not key on Host cannot be poisoned with it (audit L12).
 */
export function metadataUrl(config: Config): string {
  return `${config.publicUrl}${servedMetadataPaths(config.mountPath)[0]}`
}

export async function wellKnownRoutes(app: FastifyInstance, opts: { config: Config }): Promise<void> {
  const { config } = opts
  const served = new Set(config.oauth.issuer === '' ? [] : servedMetadataPaths(config.mountPath))
  const issuer = config.oauth.issuer.replace(/\/+$/, '')
  for (const path of wellKnownPaths(config.mountPath)) {
    app.get(path, async (_request, reply) => {
      if (!served.has(path)) return reply.code(404).send({ error: 'Not Found' })
      return reply.send({
        resource: `${config.publicUrl}${config.mountPath}/mcp`,
        authorization_servers: [issuer],
        bearer_methods_supported: ['header'],
        // Not an RFC 9728 field; kept because the reference's clients read it.
        token_methods: ['Bearer'],
      })
    })
  }
}
