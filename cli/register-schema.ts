#!/usr/bin/env node
/** `mcp-awareness-register-schema`: the reference's name for `awareness register-schema` (http-and-operations.md §17). */
import { COMMANDS } from './commands/index.js'
import { execute, processIo, runProcess } from './run.js'

await runProcess(() => execute(COMMANDS['register-schema'], process.argv.slice(2), processIo))
