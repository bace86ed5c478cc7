#!/usr/bin/env node
/**
 * `awareness <command>`: the operator tools in one entry point (http-and-operations.md §17). The reference's
 * per-command names (mcp-awareness-secret, -token, -user, -register-schema, -migrate) are thin entries
 * beside this file.
 */
import { COMMANDS } from './commands/index.js'
import { CLI, execute, processIo, runProcess } from './run.js'

const USAGE = [
  `Usage: ${CLI} <command> [options]`,
  '',
  'Commands:',
  '  secret                      print a new random AWARENESS_JWT_SECRET',
  '  token --user ID             print a signed bearer token (--expires 30d|24h)',
  '  users <subcommand>          add | list | set-password | export | delete',
  '  register-schema --system    publish a JSON Schema owned by _system',
  '  migrate                     apply, inspect or stamp database migrations',
  '',
  `Run '${CLI} <command> --help' for a command's options.`,
].join('\n')

await runProcess(async () => {
  const [name, ...args] = process.argv.slice(2)
  if (name === undefined || name === '--help' || name === '-h' || name === 'help') {
    ;(name === undefined ? processIo.err : processIo.out)(`${USAGE}\n`)
    return name === undefined ? 2 : 0
  }
  const command = Object.hasOwn(COMMANDS, name) ? COMMANDS[name] : undefined
  if (command === undefined) {
    processIo.err(`unknown command '${name}'\n\n${USAGE}\n`)
    return 2
  }
  return execute(command, args, processIo)
})
