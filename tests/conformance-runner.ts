// Runs a whole server suite of the official MCP conformance CLI (@modelcontextprotocol/conformance)
// against a live MCP server URL, once, and reads back every scenario's checks.
//
// The CLI is spawned with the current Node binary (no npx, no network):
//
//   node --import <register.mjs> <conformance>/dist/index.js server --url <url> \
//        --output-dir <tmp>/results <suite arguments>
//
// It connects to <url> as an MCP client, runs each scenario and writes
// <tmp>/results/server-<scenario>-<timestamp>/checks.json: a JSON array of checks
// { id, name, status, errorMessage?, … }, status being SUCCESS | FAILURE | WARNING | INFO | SKIPPED.
// It exits 1 when any check fails, so the exit code says nothing the checks do not; the test reads them.
// register.mjs lets releases that import Node 22's fs.globSync run on Node 20 (see that file).

import { spawn } from 'node:child_process'
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises'
import { createRequire } from 'node:module'
import os from 'node:os'
import path from 'node:path'
import { fileURLToPath } from 'node:url'

export interface ConformanceCheck {
  name: string
  status: string
  message?: string
}

export interface ConformanceSuite {
  /** The installed package (an npm alias for a second release). */
  package: string
  /** What selects the scenarios, e.g. ['--suite', 'all'] or ['--requirements', '2026-07-28']. */
  args: string[]
}

export interface SuiteRun {
  /** Checks of each scenario that reported, by scenario name. */
  scenarios: Map<string, ConformanceCheck[]>
  /** Set when the CLI could not run the suite at all (spawn error, timeout, crash without results). */
  error?: string
}

const KILL_GRACE_MS = 2_000
const PRELOAD = fileURLToPath(new URL('./fixtures/conformance-on-node20/register.mjs', import.meta.url))
// server-<scenario>-2026-12-05T11-39-12-349Z
const RESULT_DIR = /^server-(.+)-\d{4}-\d{2}-\d{2}T\d{2}-\d{2}-\d{2}-\d{3}Z$/

interface ChildOutcome {
  code: number | null
  stderr: string
  timedOut: boolean
  spawnError?: Error
}

/** Absolute path of the package's `conformance` bin, resolved from node_modules. */
function resolveBin(packageName: string): string {
  const require = createRequire(import.meta.url)
  const pkgJsonPath = require.resolve(`${packageName}/package.json`)
  const pkg = require(pkgJsonPath) as { bin?: string | Record<string, string> }
  const rel = typeof pkg.bin === 'string' ? pkg.bin : pkg.bin?.['conformance']
  if (rel === undefined) throw new Error(`${packageName}: no "conformance" bin in ${pkgJsonPath}`)
  return path.resolve(path.dirname(pkgJsonPath), rel)
}

function runChild(args: string[], cwd: string, timeoutMs: number): Promise<ChildOutcome> {
  return new Promise((resolve) => {
    let stderr = ''
    let timedOut = false
    let settled = false
    const env: NodeJS.ProcessEnv = { ...process.env, NO_COLOR: '1', FORCE_COLOR: '0' }
    // The suite only ever talks to the URL it is given; keep loopback off any proxy.
    env['NO_PROXY'] = env['no_proxy'] = [env['NO_PROXY'] ?? env['no_proxy'], '127.0.0.1', 'localhost', '::1'].filter(Boolean).join(',')
    // Loader flags meant for the test process (tsx) are not the CLI's.
    delete env['NODE_OPTIONS']
    const child = spawn(process.execPath, ['--import', PRELOAD, ...args], { cwd, env, stdio: ['ignore', 'ignore', 'pipe'] })
    const finish = (outcome: Omit<ChildOutcome, 'stderr' | 'timedOut'>): void => {
      if (settled) return
      settled = true
      clearTimeout(killTimer)
      resolve({ ...outcome, stderr, timedOut })
    }
    child.stderr.setEncoding('utf8')
    child.stderr.on('data', (chunk: string) => {
      stderr += chunk
    })
    child.on('error', (err) => finish({ code: null, spawnError: err }))
    child.on('close', (code) => finish({ code }))
    const killTimer = setTimeout(() => {
      timedOut = true
      child.kill('SIGTERM')
      setTimeout(() => child.kill('SIGKILL'), KILL_GRACE_MS).unref()
      // Should 'close' never arrive (stdio held open elsewhere), do not hang.
      setTimeout(() => finish({ code: null }), 2 * KILL_GRACE_MS).unref()
    }, timeoutMs)
  })
}

function toCheck(item: unknown): ConformanceCheck {
  const c = (typeof item === 'object' && item !== null ? item : {}) as Record<string, unknown>
  const name = typeof c['id'] === 'string' ? c['id'] : typeof c['name'] === 'string' ? c['name'] : 'unknown'
  const check: ConformanceCheck = { name, status: typeof c['status'] === 'string' ? c['status'] : 'UNKNOWN' }
  if (typeof c['errorMessage'] === 'string' && c['errorMessage'].length > 0) check.message = c['errorMessage']
  return check
}

async function readResults(outputDir: string): Promise<Map<string, ConformanceCheck[]>> {
  const scenarios = new Map<string, ConformanceCheck[]>()
  const dirs = await readdir(outputDir).catch(() => [] as string[])
  for (const dir of dirs) {
    const scenario = RESULT_DIR.exec(dir)?.[1]
    if (scenario === undefined) continue
    const parsed = JSON.parse(await readFile(path.join(outputDir, dir, 'checks.json'), 'utf8')) as unknown
    scenarios.set(scenario, Array.isArray(parsed) ? parsed.map(toCheck) : [{ name: 'checks.json', status: 'FAILURE', message: 'not an array' }])
  }
  return scenarios
}

/** Runs every scenario `suite` selects against `url` in one CLI process. */
export async function runConformanceSuite(url: string, suite: ConformanceSuite, timeoutMs = 120_000): Promise<SuiteRun> {
  const workDir = await mkdtemp(path.join(os.tmpdir(), 'mcp-conformance-'))
  try {
    const outputDir = path.join(workDir, 'results')
    const outcome = await runChild([resolveBin(suite.package), 'server', '--url', url, '--output-dir', outputDir, ...suite.args], workDir, timeoutMs)
    const scenarios = await readResults(outputDir)
    const firstErr = outcome.stderr.trim().split(/\r?\n/).slice(0, 5).join(' | ')
    if (outcome.spawnError) return { scenarios, error: `failed to spawn the conformance CLI: ${outcome.spawnError.message}` }
    if (outcome.timedOut) return { scenarios, error: `the conformance CLI ran over ${timeoutMs} ms and was killed` }
    if (scenarios.size === 0) return { scenarios, error: `the conformance CLI exited with code ${outcome.code} and no results: ${firstErr}` }
    return { scenarios }
  } finally {
    await rm(workDir, { recursive: true, force: true })
  }
}
