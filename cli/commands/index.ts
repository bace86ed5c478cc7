/**
 * Every operator command, by the name `awareness <command>` takes.
 */
import type { Command } from '../run.js'
import { migrateCommand } from './migrate.js'
import { reembedCommand } from './reembed.js'
import { registerSchemaCommand } from './register-schema.js'
import { secretCommand } from './secret.js'
import { tokenCommand } from './token.js'
import { usersCommand } from './users.js'

export const COMMANDS: Readonly<Record<string, Command>> = {
  secret: secretCommand,
  token: tokenCommand,
  users: usersCommand,
  user: usersCommand,
  'register-schema': registerSchemaCommand,
  migrate: migrateCommand,
  reembed: reembedCommand,
}
