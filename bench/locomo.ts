/**
 * The retrieval benchmark's harness over LoCoMo (Maharana et al., ACL 2024; `../shared/data/locomo/`, CC
 * BY-NC 4.0, evaluation data only): every dialogue turn becomes a note, every question is asked through
 * `search`, and a question counts as found at k when one of its evidence turns is among the top k.
 * Pure data handling and scoring; bench/retrieval.ts runs it against servers, tests/locomo-harness.test.ts
 * on a tiny conversation.
 */
import { readFileSync } from 'node:fs'

export interface Turn {
  readonly diaId: string
  readonly speaker: string
  readonly text: string
  /** The session's date and time as the data writes it, e.g. "1:56 pm on 8 May, 2023". */
  readonly date: string
}

export interface Question {
  readonly question: string
  readonly evidence: readonly string[]
  /** 1 multi-hop, 2 temporal, 3 open-domain, 4 single-hop, 5 adversarial (reported apart). */
  readonly category: number
}

export interface Conversation {
  readonly id: string
  readonly turns: readonly Turn[]
  readonly questions: readonly Question[]
}

/** "D8:6; D9:17" → ["D8:6", "D9:17"]; "D:11:26" → "D11:26"; "D30:05" → "D30:5"; fragments without both numbers dropped. */
export function evidenceIds(raw: readonly string[]): string[] {
  const out = new Set<string>()
  for (const item of raw) {
    for (const piece of item.split(/[;,\s]+/)) {
      const m = /^D:?(\d+):(\d+)$/.exec(piece.trim())
      if (m) out.add(`D${Number(m[1])}:${Number(m[2])}`)
    }
  }
  return [...out]
}

type RawTurn = { speaker: string; dia_id: string; text: string; blip_caption?: string }
type RawItem = { sample_id?: string; conversation: Record<string, unknown>; qa: { question: string; evidence: string[]; category: number }[] }

export function parseLocomo(items: readonly RawItem[]): Conversation[] {
  return items.map((item, i) => {
    const conv = item.conversation
    const sessions = Object.keys(conv)
      .map((k) => /^session_(\d+)$/.exec(k))
      .filter((m): m is RegExpExecArray => m !== null)
      .map((m) => Number(m[1]))
      .sort((a, b) => a - b)
    const turns: Turn[] = []
    for (const n of sessions) {
      const date = String(conv[`session_${n}_date_time`] ?? '')
      for (const t of conv[`session_${n}`] as RawTurn[]) {
        // A shared photo is part of what was said: its caption is the only trace of it in the text.
        const text = t.blip_caption ? `${t.text} [shares ${t.blip_caption}]` : t.text
        turns.push({ diaId: t.dia_id, speaker: t.speaker, text, date })
      }
    }
    const questions = item.qa.map((q) => ({ question: q.question, evidence: evidenceIds(q.evidence), category: q.category }))
    return { id: item.sample_id ?? `conversation-${i + 1}`, turns, questions: questions.filter((q) => q.evidence.length > 0) }
  })
}

export function readLocomo(path: string): Conversation[] {
  return parseLocomo(JSON.parse(readFileSync(path, 'utf8')) as RawItem[])
}

/** The `remember` arguments of one turn: speaker and text as the description, the session date as content, the dia_id as logical key. */
export function rememberArgs(turn: Turn): Record<string, unknown> {
  return { source: 'locomo', tags: [], description: `${turn.speaker}: ${turn.text}`, content: turn.date, logical_key: turn.diaId }
}

/** 1-based rank of the first evidence turn among `ranked` dia_ids; undefined when none is there. */
export function firstEvidenceRank(ranked: readonly (string | undefined)[], evidence: readonly string[]): number | undefined {
  const i = ranked.findIndex((id) => id !== undefined && evidence.includes(id))
  return i < 0 ? undefined : i + 1
}

export interface Recall {
  readonly n: number
  readonly r1: number
  readonly r5: number
  readonly r10: number
  /** Mean reciprocal rank of the first evidence turn within the top 10. */
  readonly mrr: number
}

/** Recall of the ranks of one group of questions (undefined = not found in the top 10). */
export function recall(ranks: readonly (number | undefined)[]): Recall {
  const n = ranks.length
  const at = (k: number) => (n === 0 ? 0 : ranks.filter((r) => r !== undefined && r <= k).length / n)
  const mrr = n === 0 ? 0 : ranks.reduce<number>((s, r) => s + (r !== undefined && r <= 10 ? 1 / r : 0), 0) / n
  return { n, r1: at(1), r5: at(5), r10: at(10), mrr }
}

export interface Scored {
  readonly category: number
  readonly rank: number | undefined
}

/** Per category, categories 1–4 together ("1-4"), and category 5 apart. */
export function recallByCategory(scored: readonly Scored[]): Map<string, Recall> {
  const out = new Map<string, Recall>()
  const main = scored.filter((s) => s.category >= 1 && s.category <= 4)
  out.set('1-4', recall(main.map((s) => s.rank)))
  for (const c of [1, 2, 3, 4, 5]) out.set(String(c), recall(scored.filter((s) => s.category === c).map((s) => s.rank)))
  return out
}

export type ToolCall = (name: string, args: Record<string, unknown>) => Promise<Record<string, unknown>>

/** Stores every turn of `conv` through `remember`; returns each call's latency in ms. */
export async function loadConversation(call: ToolCall, conv: Conversation): Promise<number[]> {
  const latencies: number[] = []
  for (const turn of conv.turns) {
    const started = performance.now()
    const body = await call('remember', rememberArgs(turn))
    latencies.push(performance.now() - started)
    if (body.status !== 'ok') throw new Error(`remember failed for ${turn.diaId}: ${JSON.stringify(body).slice(0, 200)}`)
  }
  return latencies
}

/** Asks every question through `search` (top 10, list mode) and scores where its first evidence turn came. */
export async function askConversation(call: ToolCall, conv: Conversation): Promise<Scored[]> {
  const out: Scored[] = []
  for (const q of conv.questions) {
    const body = await call('search', { query: q.question, limit: 10, mode: 'list' })
    const entries = body.entries as { logical_key?: string }[] | undefined
    if (entries === undefined) throw new Error(`search failed: ${JSON.stringify(body).slice(0, 200)}`)
    out.push({ category: q.category, rank: firstEvidenceRank(entries.map((e) => e.logical_key), q.evidence) })
  }
  return out
}
