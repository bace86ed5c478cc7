/**
 * The pure pieces of search: the SIMD dot-product kernel, in-memory top-k ordering and RRF fusion with its
 * tie-breakers (data-and-engine.md §6.4).
 */
import t from 'tap'
import { LEXICAL_WEIGHT, RRF_K, VECTOR_WEIGHT, fuse } from '../search/hybrid.js'
import { jsScan, simdScan, wasmMemory } from '../search/simd.js'
import { topRows } from '../search/vector-cache.js'

const r4 = (x: number) => Math.round(x * 10_000) / 10_000

// ---------------------------------------------------------------------------------------------
// Pure pieces

t.test('the SIMD kernel computes the same dot products as JavaScript', async (t) => {
  const rows = 37
  const width = 776 // 768 padded to a multiple of 8
  const memory = wasmMemory(Math.ceil((rows * width * 4 + width * 4 + rows * 8 * 2) / 65_536) + 1)
  const scan = simdScan(memory)
  t.ok(scan, 'WebAssembly SIMD is available on this Node')
  const f32 = new Float32Array(memory.buffer)
  for (let i = 0; i < rows * width + width; i++) f32[i] = Math.sin(i * 0.37)
  const q = rows * width * 4
  const outSimd = q + width * 4
  const outJs = outSimd + rows * 4
  scan!(0, q, outSimd, rows, width * 4)
  jsScan(f32, 0, q, outJs, rows, width * 4)
  for (let r = 0; r < rows; r++) t.ok(Math.abs(f32[outSimd / 4 + r] - f32[outJs / 4 + r]) < 1e-3, `row ${r}`)
})

t.test('topRows orders by similarity, then id, NaN last, honouring a filter', async (t) => {
  const scored = { sims: new Float32Array([0.5, 0.9, NaN, 0.9, 0.1, 0.9000001]), entryIds: ['e', 'd', 'c', 'b', 'a', 'f'] }
  t.same(topRows(scored, 6), [3, 1, 5, 0, 4, 2], 'ties (to 5 decimals) by id, NaN after every number')
  t.same(topRows(scored, 2), [3, 1])
  t.same(topRows(scored, 3, (id) => id !== 'b'), [1, 5, 0])
  t.same(topRows(scored, 0), [])
})

t.test('weighted RRF fusion: scores and tie-breakers (§6.4)', async (t) => {
  const at = (id: string, ms = 0) => ({ id, recency: new Date(ms) })
  const fused = fuse([
    { rows: [at('v1', 5), at('both', 1)], weight: VECTOR_WEIGHT },
    { rows: [at('both', 1), at('x', 2), at('l3', 9)], weight: LEXICAL_WEIGHT },
  ])
  t.same(fused.map((f) => f.id), ['both', 'x', 'l3', 'v1'], 'a half-weight vector rank 1 counts less than a full-text rank 3')
  t.equal(fused[0].score, VECTOR_WEIGHT / (RRF_K + 2) + LEXICAL_WEIGHT / (RRF_K + 1))
  t.equal(fused[3].score, VECTOR_WEIGHT / (RRF_K + 1))
  const equal = (rows: { id: string; recency: Date }[]) => ({ rows, weight: 1 })
  const tie = fuse([equal([at('old', 1)]), equal([at('new', 2)])])
  t.same(tie.map((f) => f.id), ['new', 'old'], 'equal scores: the most recent wins')
  const sameTime = fuse([equal([at('b', 1)]), equal([at('a', 1)])])
  t.same(sameTime.map((f) => f.id), ['a', 'b'], 'then the id')
  const best = fuse([equal([at('deep', 1), at('z', 1)]), equal([at('z', 1)])])
  t.equal(best[0].id, 'z', 'ranked by both branches first')
  t.equal(r4(1.5 / 11), 0.1364)
})

// ---------------------------------------------------------------------------------------------
// Through the MCP endpoint, per backend
