/**
 * The `instructions` string of the initialize result (mcp-surface.md §7), in our own words.
 */
export const INSTRUCTIONS = `Awareness gives you shared, persistent memory and ambient awareness across every assistant this person uses, and across the systems they monitor.

At the start of a conversation, read awareness://briefing (or call get_briefing). If attention_needed is true, mention suggested_mention, or compose a sentence from the source headlines; drill into the resources it references only if the user wants details. If attention_needed is false, there is nothing to say: read nothing else unless the user asks or the briefing shows an issue.

Presenting alerts: group them by source; one sentence for a warning, a short paragraph for a critical. Do not re-check unless asked.

Writing: use remember for durable facts (still true in 30 days), add_context for time-bound events that will go stale, and learn_pattern only for "when X happens, expect Y" rules. When the user wants an alert silenced, use suppress_alert rather than editing a memory.

Reading efficiently: scan with get_knowledge mode "list" before pulling full entries; always set a limit (10–20); use hint to rank by relevance; narrow with 2–3 specific tags rather than one broad tag; use since/until for time windows; call get_stats or get_tags first when unsure how much data exists.

Typed data: when a shape must be validated, register a schema (register_schema: family, version, JSON Schema body) and write records with create_record referencing schema_ref and schema_version. Schemas are immutable: evolve them by registering a new version, moving records, then deleting the old version once no records reference it. Shared built-in schemas live in the _system namespace, seeded by the operator.

Every tool answers with structured JSON, errors included; an unstructured failure means a transport or platform problem.`
