/**
 * Prompts (mcp-surface.md §6): the five built-ins and the caller's custom `user/<key>` prompts. Each
 * answers its description and exactly one user message of markdown text. Missing required arguments and a
 * non-integer `hours` are invalid params (InvalidPromptArguments); an unknown name is undefined.
 */
import type { Store } from '../../store/index.js'
import { InvalidPromptArguments, type PromptSurface } from '../context.js'
import { agentInstructions, catchup, projectContext, systemStatus, writeGuide } from './builtins.js'
import { CUSTOM_PREFIX, CustomPromptCache, renderTemplate } from './custom.js'

interface PromptArgument {
  name: string
  description: string
  required: boolean
}

interface BuiltIn {
  name: string
  title: string
  description: string
  arguments: PromptArgument[]
  render: (store: Store, owner: string, args: Readonly<Record<string, string>>) => Promise<string>
}

function required(args: Readonly<Record<string, string>>, name: string): string {
  const value = args[name]
  if (typeof value !== 'string') throw new InvalidPromptArguments(`Missing required argument '${name}'`)
  return value
}

function hoursArgument(args: Readonly<Record<string, string>>): number {
  const raw = args.hours
  if (raw === undefined || raw === null || raw.trim() === '') return 24
  if (!/^\d+$/.test(raw.trim())) throw new InvalidPromptArguments(`Invalid argument 'hours': '${raw}' is not a non-negative whole number of hours`)
  return Number(raw.trim())
}

const BUILT_INS: readonly BuiltIn[] = [
  {
    name: 'agent_instructions',
    title: 'Agent instructions',
    description:
      "Complete usage instructions assembled from the user's stored conventions (entries tagged memory-prompt). Fetch it once at the start of a conversation.",
    arguments: [],
    render: (store, owner) => agentInstructions(store, owner),
  },
  {
    name: 'project_context',
    title: 'Project context',
    description: 'Pass a repository or project name to get everything known about it: knowledge, active alerts and patterns tagged with that name.',
    arguments: [{ name: 'repo_name', description: 'Repository or project name (the tag its entries carry).', required: true }],
    render: (store, owner, args) => projectContext(store, owner, required(args, 'repo_name')),
  },
  {
    name: 'system_status',
    title: 'System status',
    description: 'Pass a source name to get a narrative of that monitored system: its latest metrics, active alerts and known patterns.',
    arguments: [{ name: 'source', description: 'The monitored source, e.g. "synology-nas".', required: true }],
    render: (store, owner, args) => systemStatus(store, owner, required(args, 'source')),
  },
  {
    name: 'write_guide',
    title: 'Write guide',
    description: 'Call before writing: the sources, tags and entry counts already in use, to avoid source and tag drift and duplicate entries.',
    arguments: [],
    render: (store, owner) => writeGuide(store, owner),
  },
  {
    name: 'catchup',
    title: 'Catch up',
    description: 'What changed recently: knowledge and alerts updated in the last N hours (default 24) — useful to see what other clients wrote.',
    arguments: [{ name: 'hours', description: 'How many hours to look back (a whole number, default 24).', required: false }],
    render: (store, owner, args) => catchup(store, owner, hoursArgument(args)),
  },
]

const BY_NAME: ReadonlyMap<string, BuiltIn> = new Map(BUILT_INS.map((p) => [p.name, p]))
const BUILT_IN_LIST = BUILT_INS.map(({ name, title, description, arguments: args }) => ({ name, title, description, arguments: args }))

const message = (description: string, text: string) => ({ description, messages: [{ role: 'user' as const, content: { type: 'text' as const, text } }] })

/** The prompt surface over a custom-prompt cache (tests pass one with their own TTL). */
export function createPrompts(cache = new CustomPromptCache()): PromptSurface {
  return {
    async list(ctx) {
      const custom = await cache.get(ctx.store, ctx.owner)
      const names = [...custom.keys()].sort()
      return [
        ...BUILT_IN_LIST,
        ...names.map((name) => {
          const p = custom.get(name)!
          return { name, description: p.description, arguments: p.arguments.map((a) => ({ name: a, description: `Value for ${a}`, required: true })) }
        }),
      ]
    },
    async get(ctx, name, args) {
      const builtIn = BY_NAME.get(name)
      if (builtIn !== undefined) return message(builtIn.description, await builtIn.render(ctx.store, ctx.owner, args))
      if (!name.startsWith(CUSTOM_PREFIX)) return undefined
      const custom = (await cache.get(ctx.store, ctx.owner)).get(name)
      if (custom === undefined) return undefined
      const missing = custom.arguments.filter((a) => typeof args[a] !== 'string')
      if (missing.length > 0) throw new InvalidPromptArguments(`Missing required argument${missing.length > 1 ? 's' : ''}: ${missing.map((a) => `'${a}'`).join(', ')}`)
      return message(custom.description, renderTemplate(custom.template, args))
    },
  }
}

export const PROMPTS: PromptSurface = createPrompts()
