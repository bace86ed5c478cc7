/**
 * `.env` support for the server and the command-line tools: `.env.example` says "copy to .env", so a
 * `.env` in the working directory is read at start, through Node's own parser (`process.loadEnvFile`).
 * The environment wins over the file: a variable set by the shell, Docker or systemd is never replaced.
 * AWARENESS_ENV_FILE names another file; set to an empty value, no file is read (the tests do this, so a
 * developer's own `.env` cannot change what they check).
 */
export interface EnvFileOutcome {
  /** The file that was read, or undefined when there was none to read. */
  readonly loaded?: string
  /** Why the file could not be read (a missing default `.env` is not a problem). */
  readonly problem?: string
}

export function loadEnvFile(): EnvFileOutcome {
  const named = process.env.AWARENESS_ENV_FILE
  if (named === '') return {}
  const path = named ?? '.env'
  if (typeof process.loadEnvFile !== 'function') {
    return named === undefined ? {} : { problem: `AWARENESS_ENV_FILE=${named} is not read: Node ${process.versions.node} has no process.loadEnvFile (20.12 or later has)` }
  }
  try {
    process.loadEnvFile(path)
    return { loaded: path }
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code
    if (code === 'ENOENT' && named === undefined) return {}
    return { problem: `${path} could not be read: ${code ?? (error as Error).message}` }
  }
}
