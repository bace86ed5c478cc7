/**
 * The command-line conventions (http-and-operations.md §17): results on stdout, usage errors exit 2 with the
 * usage on stderr, runtime errors exit 1 with exactly one line on stderr — never a stack trace.
 */
import { ConfigError, loadConfig, type Config } from '../core/config.js'
import { loadEnvFile } from '../core/env-file.js'

/**
 * How this process was started, for usage lines and hints that name a command: from the sources (tsx runs
 * a .ts entry) only `npm run awareness -- <command>` works; the installed package has the `awareness` bin.
 */
export const CLI = (process.argv[1] ?? '').endsWith('.ts') ? 'npm run awareness --' : 'awareness'

/** A bad invocation: unknown flag, missing argument, malformed value. */
export class UsageError extends Error {}

/** A runtime failure with its one-line message (already worded for the operator). */
export class CliError extends Error {}

export interface Io {
  readonly env: Readonly<Record<string, string | undefined>>
  readonly stdin: NodeJS.ReadStream
  out(text: string): void
  err(text: string): void
}

export interface Command {
  readonly usage: string
  /** Resolves to the exit code. */
  run(args: string[], io: Io): Promise<number>
}

/** The configuration, or a one-line CliError listing what is wrong with it. */
export function readConfig(io: Io): Config {
  try {
    return loadConfig(io.env)
  } catch (error) {
    if (error instanceof ConfigError) throw new CliError(`Configuration error: ${error.problems.join('; ')}`)
    throw error
  }
}

function oneLine(error: unknown): string {
  const text = error instanceof Error ? error.message : String(error)
  return text.split('\n', 1)[0].trim() || 'unexpected failure'
}

/** Runs one command and maps every outcome onto the exit-code conventions. */
export async function execute(command: Command, args: string[], io: Io): Promise<number> {
  if (args.includes('--help') || args.includes('-h')) {
    io.out(`${command.usage}\n`)
    return 0
  }
  try {
    return await command.run(args, io)
  } catch (error) {
    if (error instanceof UsageError) {
      io.err(`${error.message}\n\n${command.usage}\n`)
      return 2
    }
    const line = oneLine(error)
    io.err(line.startsWith('Error') || error instanceof CliError ? `${line}\n` : `Error: ${line}\n`)
    return 1
  }
}

export const processIo: Io = {
  env: process.env,
  stdin: process.stdin,
  out: (text) => void process.stdout.write(text),
  err: (text) => void process.stderr.write(text),
}

/** Process entry: run, set the exit code, and make sure a stray handle cannot keep the process alive. */
export async function runProcess(run: () => Promise<number>): Promise<void> {
  const fail = (error: unknown) => {
    process.stderr.write(`Error: ${oneLine(error)}\n`)
    process.exit(1)
  }
  process.on('uncaughtException', fail)
  process.on('unhandledRejection', fail)
  const envFile = loadEnvFile() // the same .env the server reads, so `token` finds its AWARENESS_JWT_SECRET
  if (envFile.problem !== undefined) {
    process.stderr.write(`Error: ${envFile.problem}\n`)
    process.exitCode = 1
    return
  }
  const code = await run().catch((error: unknown) => {
    process.stderr.write(`Error: ${oneLine(error)}\n`)
    return 1
  })
  process.exitCode = code
  // Lets stdout drain first; unref'd, so it never delays a process that ends by itself.
  setTimeout(() => process.exit(code), 2000).unref()
}
