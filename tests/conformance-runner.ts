// Runs one server scenario of the official MCP conformance suite
// (@modelcontextprotocol/conformance) against a live MCP server URL.
//
// The suite is driven through its own CLI, spawned with the current Node
// binary (no npx, no network):
//
//   node <conformance>/dist/index.js server --url <url> --scenario <name> \
//        --output-dir <tmp>/results --verbose
//
// In server mode the CLI connects to <url> as an MCP client (SDK v1
// `Client` + `StreamableHTTPClientTransport`), runs the scenario and:
//   - writes <tmp>/results/server-<scenario>-<timestamp>/checks.json
//     (a JSON array of checks: { id, name, description, status, errorMessage?,
//     specReferences?, details?, timestamp }, status being SUCCESS | FAILURE |
//     WARNING | INFO | SKIPPED);
//   - with --verbose, prints the same array as JSON on stdout;
//   - exits 1 if any check has status FAILURE (or on a CLI error such as an
//     unknown scenario), else 0. WARNINGs do not fail a server scenario.

import { spawn } from 'node:child_process'
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises'
import { createRequire } from 'node:module'
import os from 'node:os'
import path from 'node:path'


export interface ConformanceCheck {
  name: string
  status: string
  message?: string
}

export interface ConformanceResult {
  scenario: string
  passed: boolean
  checks: ConformanceCheck[]
  raw: string
}

export interface RunConformanceOptions {
  /** Kill the CLI after this many milliseconds (default 60 000). */
  timeoutMs?: number
}

const DEFAULT_TIMEOUT_MS = 60_000
const KILL_GRACE_MS = 2_000
const RUNNER_CHECK = 'conformance-runner'

interface RawCheck {
  id?: unknown
  name?: unknown
  status?: unknown
  errorMessage?: unknown
}

interface ChildOutcome {
  code: number | null
  signal: NodeJS.Signals | null
  stdout: string
  stderr: string
  timedOut: boolean
  spawnError?: Error
}

let cachedBin: string | undefined

/** Absolute path of the conformance package's `bin` JS file, resolved from node_modules. */
export function resolveConformanceBin(): string {
  if (cachedBin !== undefined) return cachedBin
  const require = createRequire(import.meta.url)
  const pkgJsonPath = require.resolve('@modelcontextprotocol/conformance/package.json')
  const pkg = require(pkgJsonPath) as { bin?: string | Record<string, string> }
  const rel = typeof pkg.bin === 'string' ? pkg.bin : pkg.bin?.['conformance']
  if (rel === undefined) {
    throw new Error(`@modelcontextprotocol/conformance: no "conformance" bin in ${pkgJsonPath}`)
  }
  cachedBin = path.resolve(path.dirname(pkgJsonPath), rel)
  return cachedBin
}

function runChild(args: string[], cwd: string, timeoutMs: number): Promise<ChildOutcome> {
  return new Promise((resolve) => {
    let stdout = ''
    let stderr = ''
    let timedOut = false
    let settled = false
    let killTimer: NodeJS.Timeout | undefined
    let graceTimer: NodeJS.Timeout | undefined

    const env: NodeJS.ProcessEnv = { ...process.env, NO_COLOR: '1', FORCE_COLOR: '0' }
    // The suite only ever talks to the URL it is given; keep loopback off any proxy.
    const noProxy = [env['NO_PROXY'] ?? env['no_proxy'], '127.0.0.1', 'localhost', '::1']
      .filter((v): v is string => typeof v === 'string' && v.length > 0)
      .join(',')
    env['NO_PROXY'] = noProxy
    env['no_proxy'] = noProxy
    // Loader flags meant for the test process (e.g. tsx) are not needed by the CLI.
    delete env['NODE_OPTIONS']

    const finish = (outcome: Omit<ChildOutcome, 'stdout' | 'stderr' | 'timedOut'>): void => {
      if (settled) return
      settled = true
      clearTimeout(killTimer)
      clearTimeout(graceTimer)
      resolve({ ...outcome, stdout, stderr, timedOut })
    }

    const child = spawn(process.execPath, args, {
      cwd,
      env,
      stdio: ['ignore', 'pipe', 'pipe'],
      windowsHide: true,
    })
    child.stdout.setEncoding('utf8')
    child.stderr.setEncoding('utf8')
    child.stdout.on('data', (chunk: string) => {
      stdout += chunk
    })
    child.stderr.on('data', (chunk: string) => {
      stderr += chunk
    })
    child.on('error', (err) => finish({ code: null, signal: null, spawnError: err }))
    child.on('close', (code, signal) => finish({ code, signal }))

    killTimer = setTimeout(() => {
      timedOut = true
      child.kill('SIGTERM')
      graceTimer = setTimeout(() => {
        child.kill('SIGKILL')
        // Should 'close' never arrive (stdio held open elsewhere), do not hang.
        graceTimer = setTimeout(() => finish({ code: null, signal: 'SIGKILL' }), KILL_GRACE_MS)
      }, KILL_GRACE_MS)
    }, timeoutMs)
  })
}

async function findChecksFile(dir: string): Promise<string | undefined> {
  let entries
  try {
    entries = await readdir(dir, { withFileTypes: true })
  } catch {
    return undefined
  }
  for (const entry of entries) {
    const full = path.join(dir, entry.name)
    if (entry.isFile() && entry.name === 'checks.json') return full
    if (entry.isDirectory()) {
      const nested = await findChecksFile(full)
      if (nested !== undefined) return nested
    }
  }
  return undefined
}

/** With --verbose the CLI prints the checks array as pretty JSON between a line "[" and a line "]". */
function checksFromStdout(stdout: string): unknown {
  const lines = stdout.split(/\r?\n/)
  const start = lines.findIndex((l) => l === '[' || l === '[]')
  if (start === -1) return undefined
  if (lines[start] === '[]') return []
  const end = lines.indexOf(']', start)
  if (end === -1) return undefined
  try {
    return JSON.parse(lines.slice(start, end + 1).join('\n'))
  } catch {
    return undefined
  }
}

function normaliseChecks(value: unknown): ConformanceCheck[] | undefined {
  if (!Array.isArray(value)) return undefined
  return value.map((item: unknown): ConformanceCheck => {
    const c = (typeof item === 'object' && item !== null ? item : {}) as RawCheck
    const name =
      typeof c.name === 'string' && c.name.length > 0
        ? c.name
        : typeof c.id === 'string'
          ? c.id
          : 'unknown'
    const check: ConformanceCheck = {
      name,
      status: typeof c.status === 'string' ? c.status : 'UNKNOWN',
    }
    if (typeof c.errorMessage === 'string' && c.errorMessage.length > 0) check.message = c.errorMessage
    return check
  })
}

function describeExit(outcome: ChildOutcome, timeoutMs: number, hadChecks: boolean): string {
  if (outcome.spawnError) return `failed to spawn conformance CLI: ${outcome.spawnError.message}`
  if (outcome.timedOut) return `conformance CLI timed out after ${timeoutMs} ms and was killed`
  if (outcome.signal) return `conformance CLI killed by ${outcome.signal}`
  const firstErr = outcome.stderr.trim().split(/\r?\n/).slice(0, 5).join(' | ')
  const what = hadChecks ? '' : ' without reporting checks'
  return `conformance CLI exited with code ${outcome.code}${what}${firstErr ? `: ${firstErr}` : ''}`
}

/**
 * Run one conformance server scenario against `url` and return its checks.
 * `passed` is true only if the CLI exited 0 within the timeout, reported at
 * least one check, and no check has status FAILURE.
 */
export async function runConformanceScenario(
  url: string,
  scenario: string,
  opts: RunConformanceOptions = {},
): Promise<ConformanceResult> {
  const timeoutMs = opts.timeoutMs ?? DEFAULT_TIMEOUT_MS
  const workDir = await mkdtemp(path.join(os.tmpdir(), 'mcp-conformance-'))
  try {
    const outputDir = path.join(workDir, 'results')
    const args = [
      resolveConformanceBin(),
      'server',
      '--url',
      url,
      '--scenario',
      scenario,
      '--output-dir',
      outputDir,
      '--verbose',
    ]
    const outcome = await runChild(args, workDir, timeoutMs)

    let checks: ConformanceCheck[] | undefined
    const checksFile = await findChecksFile(outputDir)
    if (checksFile !== undefined) {
      try {
        checks = normaliseChecks(JSON.parse(await readFile(checksFile, 'utf8')))
      } catch {
        checks = undefined
      }
    }
    checks ??= normaliseChecks(checksFromStdout(outcome.stdout))

    const raw = outcome.stderr.length > 0 ? `${outcome.stdout}\n--- stderr ---\n${outcome.stderr}` : outcome.stdout
    const cleanExit = !outcome.spawnError && !outcome.timedOut && outcome.code === 0

    if (checks === undefined || checks.length === 0 || outcome.timedOut) {
      return {
        scenario,
        passed: false,
        checks: [...(checks ?? []), { name: RUNNER_CHECK, status: 'FAILURE', message: describeExit(outcome, timeoutMs, (checks?.length ?? 0) > 0) }],
        raw,
      }
    }
    const passed = cleanExit && checks.every((c) => c.status !== 'FAILURE')
    if (!cleanExit && checks.every((c) => c.status !== 'FAILURE')) {
      checks.push({ name: RUNNER_CHECK, status: 'FAILURE', message: describeExit(outcome, timeoutMs, true) })
    }
    return { scenario, passed, checks, raw }
  } finally {
    await rm(workDir, { recursive: true, force: true })
  }
}

/** Every server scenario the installed suite has, as `conformance list --server` prints them ("  - name"). */
export async function listServerScenarios(timeoutMs = DEFAULT_TIMEOUT_MS): Promise<string[]> {
  const workDir = await mkdtemp(path.join(os.tmpdir(), 'mcp-conformance-'))
  try {
    const outcome = await runChild([resolveConformanceBin(), 'list', '--server'], workDir, timeoutMs)
    const names = [...outcome.stdout.matchAll(/^\s+- (\S+)$/gm)].map((m) => m[1])
    if (outcome.code !== 0 || names.length === 0) throw new Error(describeExit(outcome, timeoutMs, false))
    return names
  } finally {
    await rm(workDir, { recursive: true, force: true })
  }
}
