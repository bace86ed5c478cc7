/**
 * Embeddings are repaired at start (audit L13): entries the server acknowledged but never embedded — it
 * crashed first, or ran without a provider — are found and embedded by the next start on its own, without
 * the owner writing again. The server runs as a real process: writes with no provider, kill -9, a start
 * with the hash provider, then the stored embeddings are counted with the server stopped (embedded) or
 * through an admin connection (PostgreSQL).
 */
import t from 'tap'
import postgres from 'postgres'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { setTimeout as sleep } from 'node:timers/promises'
import { checkEmbeddedIntegrity } from './fixtures/embedded-integrity.js'
import { callTool, listeningUrl, startProcess } from './fixtures/server-process.js'
import { createDatabase } from './helpers.js'

const NOTES = 6
const OWNERS = ['repair-a', 'repair-b']
/** The repair starts 2 s after start (search/embedding-queue.ts); the 'embedding sweep' line says it ran. */
const REPAIR_WAIT_MS = 30_000

/** Each owner's notes written by its own no-provider start (without auth, the default owner is the caller), then kill -9. */
async function writeUnembedded(env: Record<string, string>): Promise<string[]> {
  const ids: string[] = []
  for (const owner of OWNERS) {
    const server = startProcess({ ...env, AWARENESS_EMBEDDING_PROVIDER: 'none', AWARENESS_DEFAULT_OWNER: owner })
    try {
      const base = await listeningUrl(server)
      for (let n = 0; n < NOTES / OWNERS.length; n++) {
        const r = await callTool(base, 'remember', { source: 'repair', tags: ['repair'], description: `${owner} note ${n} about the garden shed` })
        if (r.body?.status !== 'ok') throw new Error(`write ${n} failed: ${JSON.stringify(r.body)}`)
        ids.push(r.body.id as string)
      }
    } finally {
      server.child.kill('SIGKILL') // a crash: nothing is flushed, and no embedding was ever scheduled
      await server.exited
    }
  }
  return ids
}

/** Starts with a provider, waits for the repair's log lines (or the bound), stops cleanly; answers the log. */
async function startWithProvider(env: Record<string, string>): Promise<string> {
  const server = startProcess({ ...env, AWARENESS_EMBEDDING_PROVIDER: 'hash', AWARENESS_DEFAULT_OWNER: OWNERS[0] })
  try {
    await listeningUrl(server)
    const started = Date.now()
    while (Date.now() - started < REPAIR_WAIT_MS && (server.output().match(/"msg":"embedding sweep"/g) ?? []).length < OWNERS.length) await sleep(100)
    server.child.kill('SIGTERM')
    await server.exited
    return server.output()
  } finally {
    server.child.kill('SIGKILL')
  }
}

t.test('embedded: entries left unembedded by a crash are embedded at the next start', async (t) => {
  const dataDir = mkdtempSync(join(tmpdir(), 'awareness-repair-'))
  t.teardown(() => rmSync(dataDir, { recursive: true, force: true }))
  const ids = await writeUnembedded({ AWARENESS_DATA_DIR: dataDir })
  t.same([...(await checkEmbeddedIntegrity(dataDir)).embeddedIds], [], 'nothing was embedded before the restart')
  await startWithProvider({ AWARENESS_DATA_DIR: dataDir })
  const report = await checkEmbeddedIntegrity(dataDir)
  // Measured before the repair (queue marks in memory only): 0 of 6 embedded after 30 s.
  t.same(ids.filter((id) => !report.embeddedIds.has(id)), [], `all ${NOTES} entries of both owners are embedded, no new write needed`)
  t.same(report.problems, [], 'the directory checks clean')
})

const ADMIN_URL = process.env.AWARENESS_TEST_DATABASE_URL
t.test('PostgreSQL: entries left unembedded by a crash are embedded at the next start', { skip: ADMIN_URL === undefined ? 'AWARENESS_TEST_DATABASE_URL is not set' : false }, async (t) => {
  const db = await createDatabase('repair')
  t.teardown(db.drop)
  const env = { AWARENESS_DATABASE_URL: db.url }
  const ids = await writeUnembedded(env)
  await startWithProvider(env)
  const admin = postgres(db.url, { max: 1, onnotice: () => undefined })
  t.teardown(() => admin.end())
  const embedded = new Set((await admin<{ id: string }[]>`SELECT entry_id AS id FROM embeddings`).map((r) => r.id))
  t.same(ids.filter((id) => !embedded.has(id)), [], `all ${NOTES} entries of both owners are embedded, no new write needed`)
})
