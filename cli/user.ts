#!/usr/bin/env node
/** `mcp-awareness-user`: the reference's name for `awareness users` (http-and-operations.md §17). */
import { COMMANDS } from './commands/index.js'
import { execute, processIo, runProcess } from './run.js'

await runProcess(() => execute(COMMANDS['users'], process.argv.slice(2), processIo))
