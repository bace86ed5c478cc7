#!/usr/bin/env node
/** `mcp-awareness-secret`: the reference's name for `awareness secret` (http-and-operations.md §17). */
import { COMMANDS } from './commands/index.js'
import { execute, processIo, runProcess } from './run.js'

await runProcess(() => execute(COMMANDS['secret'], process.argv.slice(2), processIo))
