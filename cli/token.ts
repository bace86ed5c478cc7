#!/usr/bin/env node
/** `mcp-awareness-token`: the reference's name for `awareness token` (http-and-operations.md §17). */
import { COMMANDS } from './commands/index.js'
import { execute, processIo, runProcess } from './run.js'

await runProcess(() => execute(COMMANDS['token'], process.argv.slice(2), processIo))
