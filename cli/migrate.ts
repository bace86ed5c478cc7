#!/usr/bin/env node
/** `mcp-awareness-migrate`: the reference's name for `awareness migrate` (http-and-operations.md §17). */
import { COMMANDS } from './commands/index.js'
import { execute, processIo, runProcess } from './run.js'

await runProcess(() => execute(COMMANDS['migrate'], process.argv.slice(2), processIo))
