import { createHash } from 'node:crypto'
import { existsSync } from 'node:fs'
import { readFile, readdir } from 'node:fs/promises'
import { dirname, join, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'

// The bundled assets sit at the repository root: routes/assets.ts → ../assets when run from
// source (tsx), dist/routes/assets.js → ../../assets when compiled. Checked once at import,
// a single stat, because the module cannot know which of the two trees it was loaded from.
const HERE = dirname(fileURLToPath(import.meta.url))
const CANDIDATES = [resolve(HERE, '..', 'assets'), resolve(HERE, '..', '..', 'assets')]
export const ASSETS_DIR: string = CANDIDATES.find((dir) => existsSync(dir)) ?? CANDIDATES[0]

export interface AssetRoutesOptions {
  assetsDir: string
}

interface Asset {
  body: Buffer
  etag: string
}

// Icons and favicon change only with a release; a day of caching suits favicon crawlers.
const CACHE_CONTROL = 'public, max-age=86400'

async function loadAsset(path: string): Promise<Asset | undefined> {
  let body: Buffer
  try {
    body = await readFile(path)
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined
    throw err
  }
  return { body, etag: `"${createHash('sha256').update(body).digest('base64url').slice(0, 27)}"` }
}

async function loadIcons(dir: string): Promise<Map<string, Asset>> {
  const icons = new Map<string, Asset>()
  let names: string[]
  try {
    names = await readdir(dir)
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return icons
    throw err
  }
  for (const name of names.filter((n) => n.endsWith('.svg')).sort()) {
    const asset = await loadAsset(join(dir, name))
    if (asset) icons.set(name, asset)
  }
  return icons
}

function notFound(reply: FastifyReply): FastifyReply {
  return reply.code(404).type('text/plain; charset=utf-8').send('Not Found')
}

// If-None-Match uses the weak comparison (RFC 9110 §13.1.2): a list, `*`, or W/-prefixed tags.
function matchesEtag(header: string | undefined, etag: string): boolean {
  if (!header) return false
  return header.split(',').some((tag) => {
    const t = tag.trim()
    return t === '*' || t === etag || t === `W/${etag}`
  })
}

function sendAsset(request: FastifyRequest, reply: FastifyReply, asset: Asset, type: string): FastifyReply {
  reply
    .header('cache-control', CACHE_CONTROL)
    .header('etag', asset.etag)
    .header('x-content-type-options', 'nosniff')
  if (matchesEtag(request.headers['if-none-match'], asset.etag)) return reply.code(304).send()
  return reply.code(200).type(type).send(asset.body)
}

// Public, unauthenticated assets. Register at the root, never under the mount path: MCP
// client connector UIs fetch /favicon.ico and /icons/* from the origin (spec §6).
export async function assetRoutes(app: FastifyInstance, opts: AssetRoutesOptions): Promise<void> {
  const favicon = await loadAsset(join(opts.assetsDir, 'favicon.ico'))
  const icons = await loadIcons(join(opts.assetsDir, 'icons'))
  if (!favicon) app.log.warn({ assetsDir: opts.assetsDir }, 'favicon.ico not bundled; /favicon.ico will answer 404')
  if (icons.size === 0) app.log.warn({ assetsDir: opts.assetsDir }, 'no icons bundled; /icons/* will answer 404')

  app.get('/favicon.ico', async (request, reply) =>
    favicon ? sendAsset(request, reply, favicon, 'image/x-icon') : notFound(reply),
  )

  // A wildcard rather than `:name`, so multi-segment paths such as /icons/%2E%2E/x get the
  // same plain 'Not Found' as unknown names instead of falling through to the app's 404.
  // The explicit check is defence in depth: the lookup below only knows bundled names.
  app.get<{ Params: { '*': string } }>('/icons/*', async (request, reply) => {
    const name = request.params['*']
    if (name.includes('/') || name.includes('\\') || name.includes('..')) return notFound(reply)
    const icon = icons.get(name)
    return icon ? sendAsset(request, reply, icon, 'image/svg+xml') : notFound(reply)
  })
}
