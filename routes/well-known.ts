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

// A Host header is caller-controlled; anything beyond a host name and port is not echoed back.
const HOST = /^[A-Za-z0-9.-]+(?::\d{1,5})?$|^\[[0-9A-Fa-f:.]+\](?::\d{1,5})?$/

/** AWARENESS_PUBLIC_URL, else https://<Host>, else https://localhost (parity: the fallback says https). */
export function publicBase(config: Config, host: string | undefined): string {
  if (config.publicUrl !== '') return config.publicUrl
  return `https://${host !== undefined && HOST.test(host) ? host : 'localhost'}`
}

/** The absolute URL advertised in `WWW-Authenticate: Bearer resource_metadata="…"` — one that is served. */
export function metadataUrl(config: Config, host: string | undefined): string {
  return `${publicBase(config, host)}${servedMetadataPaths(config.mountPath)[0]}`
}

export async function wellKnownRoutes(app: FastifyInstance, opts: { config: Config }): Promise<void> {
  const { config } = opts
  const served = new Set(config.oauth.issuer === '' ? [] : servedMetadataPaths(config.mountPath))
  const issuer = config.oauth.issuer.replace(/\/+$/, '')
  for (const path of wellKnownPaths(config.mountPath)) {
    app.get(path, async (request, reply) => {
      if (!served.has(path)) return reply.code(404).send({ error: 'Not Found' })
      return reply.send({
        resource: `${publicBase(config, request.headers.host)}${config.mountPath}/mcp`,
        authorization_servers: [issuer],
        bearer_methods_supported: ['header'],
        // Not an RFC 9728 field; kept because the reference's clients read it.
        token_methods: ['Bearer'],
      })
    })
  }
}
