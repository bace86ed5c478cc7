/**
 * The pure pieces of search: the SIMD dot-product kernel, in-memory top-k ordering and RRF fusion with its
 * tie-breakers (data-and-engine.md §6.4).
 */
import t from 'tap'
import { RRF_K, fuse } from '../search/hybrid.js'
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

t.test('RRF fusion: scores and tie-breakers (§6.4)', async (t) => {
  const at = (id: string, ms = 0) => ({ id, recency: new Date(ms) })
  const fused = fuse([
    [at('v1', 5), at('both', 1)],
    [at('both', 1), at('x', 2), at('l3', 9)],
  ])
  t.equal(fused[0].id, 'both')
  t.equal(fused[0].score, 1 / 62 + 1 / 61)
  t.equal(fused[1].id, 'v1')
  t.equal(fused[1].score, 1 / (RRF_K + 1))
  const tie = fuse([[at('old', 1)], [at('new', 2)]])
  t.same(tie.map((f) => f.id), ['new', 'old'], 'rank 1 vector-only and rank 1 lexical-only tie; the most recent wins')
  const sameTime = fuse([[at('b', 1)], [at('a', 1)]])
  t.same(sameTime.map((f) => f.id), ['a', 'b'], 'then the id')
  t.equal(r4(2 / 61), 0.0328)
})

// ---------------------------------------------------------------------------------------------
// Through the MCP endpoint, per backend
