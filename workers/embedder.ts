/**
 * Embedding text composition, hashing and providers (data-and-engine.md §5).
 * Pure functions and HTTP clients only: the worker thread that runs them is embed-worker.ts.
 */
import { createHash } from 'node:crypto'
import { HASH_MODEL } from '../core/config.js'

// ---------------------------------------------------------------------------------------------
// Composed text (§5.2) and hash (§5.3)

export interface EmbeddableEntry {
  type: string
  source: string
  tags: readonly string[]
  data: Readonly<Record<string, unknown>>
}

/** Only the first 500 code points of long content are embedded; the lexical branch sees all of it. */
const CONTENT_LIMIT = 500

function isPlainObject(v: unknown): v is Record<string, unknown> {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) return false
  const proto = Object.getPrototypeOf(v)
  return proto === Object.prototype || proto === null
}

function sortKeysDeep(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(sortKeysDeep)
  if (!isPlainObject(v)) return v
  const out: Record<string, unknown> = {}
  for (const k of Object.keys(v).sort()) out[k] = sortKeysDeep(v[k])
  return out
}

/**
 * The canonical string form of a data value: strings as is, numbers and booleans via String(),
 * null as `null`, arrays and objects as JSON with object keys sorted at every depth, so the text
 * (and its hash) does not depend on key order, which JSONB does not preserve.
 */
export function canonicalString(v: unknown): string {
  if (typeof v === 'string') return v
  if (typeof v === 'number' || typeof v === 'boolean' || typeof v === 'bigint') return String(v)
  if (v === null || v === undefined) return 'null'
  return JSON.stringify(sortKeysDeep(v)) ?? 'null'
}

/** "Present" in §5.2: truthy, and containers non-empty. */
function present(v: unknown): boolean {
  if (!v) return false
  if (Array.isArray(v)) return v.length > 0
  if (typeof v === 'object') return Object.keys(v).length > 0
  return true
}

/** The first `max` Unicode code points of `s`, plus '...' when it is longer. */
function truncateCodePoints(s: string, max: number): string {
  if (s.length <= max) return s // code points never outnumber UTF-16 units
  let count = 0
  for (let i = 0; i < s.length; i++) {
    if (count === max) return `${s.slice(0, i)}...`
    const c = s.charCodeAt(i)
    if (c >= 0xd800 && c <= 0xdbff && i + 1 < s.length) {
      const d = s.charCodeAt(i + 1)
      if (d >= 0xdc00 && d <= 0xdfff) i++
    }
    count++
  }
  return s
}

/** The text an entry is embedded from, line by line as data-and-engine.md §5.2 (canonical forms). */
export function composeEmbeddingText(entry: EmbeddableEntry): string {
  const d = entry.data
  const lines = [`type: ${entry.type}`, `source: ${entry.source}`]
  if (entry.tags.length > 0) lines.push(`tags: ${entry.tags.join(', ')}`)
  if (present(d.description)) lines.push(canonicalString(d.description))
  if (present(d.goal)) lines.push(canonicalString(d.goal))
  if (present(d.message)) lines.push(canonicalString(d.message))
  if (present(d.effect)) lines.push(`effect: ${canonicalString(d.effect)}`)
  if (present(d.key)) lines.push(`key: ${canonicalString(d.key)}`)
  if (d.value !== undefined && d.value !== null) lines.push(`value: ${canonicalString(d.value)}`)
  if (present(d.scope)) lines.push(`scope: ${canonicalString(d.scope)}`)
  const metrics = d.metrics
  if (present(metrics) && isPlainObject(metrics)) {
    const pairs = Object.keys(metrics).sort().map((k) => `${k}=${canonicalString(metrics[k])}`)
    lines.push(`metrics: ${pairs.join(', ')}`)
  }
  const inventory = d.inventory
  if (present(inventory)) {
    const text = Array.isArray(inventory) ? inventory.map(canonicalString).join(', ') : canonicalString(inventory)
    lines.push(`inventory: ${text}`)
  }
  if (present(d.content)) lines.push(truncateCodePoints(canonicalString(d.content), CONTENT_LIMIT))
  return lines.join('\n')
}

/** Lowercase hex SHA-256 of the UTF-8 bytes of `text`. */
export function textHash(text: string): string {
  return createHash('sha256').update(text, 'utf8').digest('hex')
}

// ---------------------------------------------------------------------------------------------
// Providers (§5.4)

export interface EmbeddingProvider {
  readonly modelName: string
  readonly dimensions: number
  embed(texts: string[]): Promise<number[][]>
  isAvailable(): Promise<boolean>
}

export type EmbeddingErrorCode =
  | 'EMBEDDING_BAD_RESPONSE'
  | 'EMBEDDING_HTTP'
  | 'EMBEDDING_UNREACHABLE'
  | 'EMBEDDING_TIMEOUT'
  | 'EMBEDDING_CONFIG'

export class EmbeddingError extends Error {
  readonly code: EmbeddingErrorCode
  /** The HTTP status, for EMBEDDING_HTTP. */
  readonly status: number | undefined
  constructor(code: EmbeddingErrorCode, message: string, status?: number) {
    super(message)
    this.name = 'EmbeddingError'
    this.code = code
    this.status = status
  }
}

const EMBED_TIMEOUT_MS = 30_000
const AVAILABILITY_TIMEOUT_MS = 5_000

/** Checks a provider's answer: one vector per input, each of exactly `dimensions` finite numbers. */
export function checkVectors(label: string, vectors: unknown, count: number, dimensions: number): number[][] {
  if (!Array.isArray(vectors)) throw new EmbeddingError('EMBEDDING_BAD_RESPONSE', `${label} returned no embeddings array`)
  if (vectors.length !== count) {
    throw new EmbeddingError('EMBEDDING_BAD_RESPONSE', `${label} returned ${vectors.length} embeddings for ${count} input texts`)
  }
  for (const v of vectors) {
    if (!Array.isArray(v)) throw new EmbeddingError('EMBEDDING_BAD_RESPONSE', `${label} returned an embedding that is not an array`)
    if (v.length !== dimensions) {
      throw new EmbeddingError('EMBEDDING_BAD_RESPONSE', `${label} returned a vector of ${v.length} dimensions, expected ${dimensions}`)
    }
    for (const x of v) {
      if (typeof x !== 'number' || !Number.isFinite(x)) {
        throw new EmbeddingError('EMBEDDING_BAD_RESPONSE', `${label} returned a vector with a non-finite or non-numeric value`)
      }
    }
  }
  return vectors as number[][]
}

/** The provider that is no provider: search stays lexical. */
export class NullProvider implements EmbeddingProvider {
  readonly modelName = ''
  readonly dimensions = 0
  async embed(_texts: string[]): Promise<number[][]> {
    return []
  }
  async isAvailable(): Promise<boolean> {
    return false
  }
}

// --- HTTP plumbing ---------------------------------------------------------------------------

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v)
}

/** Scheme, host and path only: a configured URL may carry credentials, which must not reach logs. */
function safeUrl(url: string): string {
  const u = new URL(url)
  return `${u.origin}${u.pathname}`
}

/** A server's own error text when it sends JSON like `{"error": "..."}`, capped; never the request. */
function errorDetail(body: string): string {
  try {
    const j: unknown = JSON.parse(body)
    const e = isRecord(j) ? j.error : undefined
    const text = typeof e === 'string' ? e : isRecord(e) && typeof e.message === 'string' ? e.message : undefined
    return text ? `: ${text.slice(0, 200)}` : ''
  } catch {
    return ''
  }
}

interface HttpCall {
  label: string
  method: 'GET' | 'POST'
  url: string
  timeoutMs: number
  headers?: Record<string, string>
  body?: unknown
}

async function callJson(c: HttpCall): Promise<unknown> {
  const signal = AbortSignal.timeout(c.timeoutMs)
  const where = `${c.method} ${safeUrl(c.url)}`
  const failed = (err: unknown): EmbeddingError => {
    if (signal.aborted || (err as Error)?.name === 'TimeoutError') {
      return new EmbeddingError('EMBEDDING_TIMEOUT', `${c.label}: ${where} got no answer within ${c.timeoutMs} ms`)
    }
    const cause = (err as { cause?: { code?: unknown; message?: unknown } })?.cause
    const why = typeof cause?.code === 'string' ? cause.code : typeof cause?.message === 'string' ? cause.message : (err as Error)?.message
    return new EmbeddingError('EMBEDDING_UNREACHABLE', `${c.label}: ${where} failed: ${why}`)
  }
  let text: string
  let res: Response
  try {
    const headers: Record<string, string> = { accept: 'application/json', ...c.headers }
    if (c.body !== undefined) headers['content-type'] = 'application/json'
    res = await fetch(c.url, { method: c.method, headers, body: c.body === undefined ? undefined : JSON.stringify(c.body), signal })
    text = await res.text()
  } catch (err) {
    throw failed(err)
  }
  if (!res.ok) throw new EmbeddingError('EMBEDDING_HTTP', `${c.label}: ${where} answered HTTP ${res.status}${errorDetail(text)}`, res.status)
  try {
    return JSON.parse(text) as unknown
  } catch {
    throw new EmbeddingError('EMBEDDING_BAD_RESPONSE', `${c.label}: ${where} answered with a body that is not JSON`)
  }
}

export interface HttpProviderOptions {
  baseUrl: string
  model: string
  dimensions: number
  /** Timeout of an embedding call; 30 s when absent. */
  timeoutMs?: number
  /** Timeout of an availability probe; 5 s when absent. */
  availabilityTimeoutMs?: number
}

function checkHttpOptions(kind: string, o: HttpProviderOptions): string {
  checkDimensions(o.dimensions)
  if (!o.model) throw new EmbeddingError('EMBEDDING_CONFIG', `the ${kind} provider needs a model name`)
  let u: URL
  try {
    u = new URL(o.baseUrl)
  } catch {
    throw new EmbeddingError('EMBEDDING_CONFIG', `the ${kind} provider needs an http(s) base URL`)
  }
  if (u.protocol !== 'http:' && u.protocol !== 'https:') {
    throw new EmbeddingError('EMBEDDING_CONFIG', `the ${kind} provider needs an http(s) base URL`)
  }
  return o.baseUrl.replace(/\/+$/, '')
}

function checkDimensions(d: number): void {
  if (!Number.isInteger(d) || d < 1 || d > 16_000) {
    throw new EmbeddingError('EMBEDDING_CONFIG', `embedding dimensions must be an integer from 1 to 16000, got ${d}`)
  }
}

/** Ollama's `/api/embed` (§5.4). */
export class OllamaProvider implements EmbeddingProvider {
  readonly modelName: string
  readonly dimensions: number
  private readonly base: string
  private readonly timeoutMs: number
  private readonly availabilityTimeoutMs: number

  constructor(o: HttpProviderOptions) {
    this.base = checkHttpOptions('ollama', o)
    this.modelName = o.model
    this.dimensions = o.dimensions
    this.timeoutMs = o.timeoutMs ?? EMBED_TIMEOUT_MS
    this.availabilityTimeoutMs = o.availabilityTimeoutMs ?? AVAILABILITY_TIMEOUT_MS
  }

  async embed(texts: string[]): Promise<number[][]> {
    if (texts.length === 0) return []
    const body = { model: this.modelName, input: texts }
    const json = await callJson({ label: 'ollama', method: 'POST', url: `${this.base}/api/embed`, timeoutMs: this.timeoutMs, body })
    return checkVectors('ollama', isRecord(json) ? json.embeddings : undefined, texts.length, this.dimensions)
  }

  /** Available when the server lists the model by exact name or as `<model>:<tag>`. */
  async isAvailable(): Promise<boolean> {
    try {
      const json = await callJson({ label: 'ollama', method: 'GET', url: `${this.base}/api/tags`, timeoutMs: this.availabilityTimeoutMs })
      const models = isRecord(json) ? json.models : undefined
      if (!Array.isArray(models)) return false
      const m = this.modelName
      return models.some(
        (x) => isRecord(x) && [x.name, x.model].some((n) => typeof n === 'string' && (n === m || n.startsWith(`${m}:`))),
      )
    } catch {
      return false
    }
  }
}

export interface OpenAiProviderOptions extends HttpProviderOptions {
  apiKey?: string
}

/** Any OpenAI-compatible `/v1/embeddings` server (OpenAI, vLLM, LiteLLM, llama.cpp, LM Studio…). */
export class OpenAiProvider implements EmbeddingProvider {
  readonly modelName: string
  readonly dimensions: number
  private readonly api: string
  private readonly headers: Record<string, string>
  private readonly timeoutMs: number
  private readonly availabilityTimeoutMs: number

  constructor(o: OpenAiProviderOptions) {
    const base = checkHttpOptions('openai', o)
    // Accept both `https://host` and `https://host/v1`, the two forms servers document.
    this.api = base.endsWith('/v1') ? base : `${base}/v1`
    this.headers = o.apiKey ? { authorization: `Bearer ${o.apiKey}` } : {}
    this.modelName = o.model
    this.dimensions = o.dimensions
    this.timeoutMs = o.timeoutMs ?? EMBED_TIMEOUT_MS
    this.availabilityTimeoutMs = o.availabilityTimeoutMs ?? AVAILABILITY_TIMEOUT_MS
  }

  embed(texts: string[]): Promise<number[][]> {
    return this.embedWithin(texts, this.timeoutMs)
  }

  private async embedWithin(texts: string[], timeoutMs: number): Promise<number[][]> {
    if (texts.length === 0) return []
    const json = await callJson({
      label: 'openai',
      method: 'POST',
      url: `${this.api}/embeddings`,
      timeoutMs,
      headers: this.headers,
      body: { model: this.modelName, input: texts },
    })
    const data = isRecord(json) ? json.data : undefined
    if (!Array.isArray(data)) throw new EmbeddingError('EMBEDDING_BAD_RESPONSE', 'openai returned no data array')
    if (data.length !== texts.length) {
      throw new EmbeddingError('EMBEDDING_BAD_RESPONSE', `openai returned ${data.length} embeddings for ${texts.length} input texts`)
    }
    return checkVectors('openai', orderByIndex(data), texts.length, this.dimensions)
  }

  /** Available when `/v1/models` lists the model, otherwise when a one-word embedding succeeds. */
  async isAvailable(): Promise<boolean> {
    try {
      const json = await callJson({
        label: 'openai',
        method: 'GET',
        url: `${this.api}/models`,
        timeoutMs: this.availabilityTimeoutMs,
        headers: this.headers,
      })
      const data = isRecord(json) ? json.data : undefined
      if (Array.isArray(data) && data.some((m) => isRecord(m) && m.id === this.modelName)) return true
    } catch {
      // Many compatible servers have no model list, or list aliases only: ask for an embedding instead.
    }
    try {
      await this.embedWithin(['ping'], this.availabilityTimeoutMs)
      return true
    } catch {
      return false
    }
  }
}

/** `data[i].embedding` placed by `data[i].index`; positional when no item carries an index. */
function orderByIndex(data: unknown[]): unknown[] {
  const items = data.map((d) => (isRecord(d) ? d : {}))
  if (items.every((d) => d.index === undefined)) return items.map((d) => d.embedding)
  const out: unknown[] = new Array(items.length)
  for (const d of items) {
    const i = d.index
    if (typeof i !== 'number' || !Number.isInteger(i) || i < 0 || i >= items.length || i in out) {
      throw new EmbeddingError('EMBEDDING_BAD_RESPONSE', `openai returned a missing, duplicate or out-of-range index ${String(i)}`)
    }
    out[i] = d.embedding
  }
  return out
}

// --- Hash provider -----------------------------------------------------------------------------

const SEED_WORD = 0x9e3779b9
const SEED_TRIGRAM = 0x85ebca6b
const SEED_EMPTY = 0xc2b2ae35
const WORD = /[\p{L}\p{N}\p{M}]+/gu

/** FNV-1a over code points `cps[from..to)`, finished with murmur3's fmix32 for well-spread bits. */
function hashRange(cps: number[], from: number, to: number, seed: number): number {
  let h = (0x811c9dc5 ^ seed) >>> 0
  for (let i = from; i < to; i++) {
    const c = cps[i]
    h = Math.imul(h ^ (c & 0xffff), 0x01000193)
    if (c > 0xffff) h = Math.imul(h ^ (c >>> 16), 0x01000193)
  }
  h ^= h >>> 16
  h = Math.imul(h, 0x85ebca6b)
  h ^= h >>> 13
  h = Math.imul(h, 0xc2b2ae35)
  h ^= h >>> 16
  return h >>> 0
}

/**
 * Built-in offline embedder: feature hashing of character 3-grams (of each lower-cased, NFKC-normalised
 * word padded with spaces) and of whole words, into `dimensions` buckets with a hash-derived sign,
 * L2-normalised. It is LEXICAL, not semantic: texts sharing words or word pieces ("backup",
 * "backups") come out close, synonyms ("car", "automobile") do not. Deterministic across runs and
 * machines, no model, no network; for tests, demos and users without a model server.
 */
export class HashProvider implements EmbeddingProvider {
  readonly modelName = HASH_MODEL
  readonly dimensions: number

  constructor(dimensions: number) {
    checkDimensions(dimensions)
    this.dimensions = dimensions
  }

  async embed(texts: string[]): Promise<number[][]> {
    return checkVectors('hash', texts.map((t) => this.vector(t)), texts.length, this.dimensions)
  }

  async isAvailable(): Promise<boolean> {
    return true
  }

  vector(text: string): number[] {
    const dims = this.dimensions
    const acc = new Float64Array(dims)
    const add = (h: number): void => {
      acc[h % dims] += h & 0x80000000 ? -1 : 1
    }
    const cps: number[] = []
    let features = 0
    for (const [word] of text.normalize('NFKC').toLowerCase().matchAll(WORD)) {
      cps.length = 0
      cps.push(0x20)
      for (let i = 0; i < word.length; i++) {
        const c = word.codePointAt(i)!
        cps.push(c)
        if (c > 0xffff) i++
      }
      cps.push(0x20)
      add(hashRange(cps, 1, cps.length - 1, SEED_WORD))
      for (let i = 0; i + 3 <= cps.length; i++) add(hashRange(cps, i, i + 3, SEED_TRIGRAM))
      features++
    }
    // A text without words still gets a unit vector: a zero vector has no cosine distance.
    if (features === 0) add(hashRange([], 0, 0, SEED_EMPTY))
    let norm = 0
    for (let i = 0; i < dims; i++) norm += acc[i] * acc[i]
    // Opposite-signed collisions can cancel every feature out; fall back to the empty-text vector.
    if (norm === 0) {
      add(hashRange([], 0, 0, SEED_EMPTY))
      norm = 1
    }
    const inv = 1 / Math.sqrt(norm)
    const out = new Array<number>(dims)
    for (let i = 0; i < dims; i++) out[i] = acc[i] * inv
    return out
  }
}
