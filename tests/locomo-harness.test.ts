/**
 * The retrieval benchmark's harness (bench/locomo.ts) on a tiny LoCoMo-shaped conversation written for
 * this test: parsing, evidence normalisation, scoring, and a real load-and-ask through `search`.
 */
import t from 'tap'
import { askConversation, evidenceIds, firstEvidenceRank, loadConversation, parseLocomo, recall, recallByCategory, type ToolCall } from '../bench/locomo.js'
import { call, clientV1, startServer } from './helpers.js'

const TINY = [
  {
    sample_id: 'tiny-1',
    conversation: {
      speaker_a: 'Ana',
      speaker_b: 'Ben',
      session_1_date_time: '9:00 am on 2 March, 2024',
      session_1: [
        { speaker: 'Ana', dia_id: 'D1:1', text: 'I finally adopted a greyhound from the shelter last weekend!' },
        { speaker: 'Ben', dia_id: 'D1:2', text: 'Wonderful. My sister just opened a bakery downtown.' },
        { speaker: 'Ana', dia_id: 'D1:3', text: 'Here is the view from my morning run.', img_url: ['x'], blip_caption: 'a photo of a lighthouse at sunrise' },
      ],
      session_2_date_time: '6:30 pm on 20 April, 2024',
      session_2: [
        { speaker: 'Ben', dia_id: 'D2:1', text: 'The bakery won a prize for its sourdough.' },
        { speaker: 'Ana', dia_id: 'D2:2', text: 'I signed up for a pottery class on Thursdays.' },
      ],
    },
    qa: [
      { question: 'What dog did Ana adopt?', answer: 'a greyhound', evidence: ['D1:1'], category: 4 },
      { question: 'What won a prize for the bakery?', answer: 'sourdough', evidence: ['D2:1; D1:2'], category: 1 },
      { question: 'Where did Ana take the lighthouse photo?', answer: 'on a run', evidence: ['D:1:3'], category: 4 },
      { question: 'What does Ana do on Thursdays?', answer: 'pottery', evidence: ['D2:02'], category: 2 },
      { question: 'What is Ben allergic to?', answer: 'unknown', evidence: ['D1:2'], category: 5 },
      { question: 'No evidence recorded', answer: '', evidence: ['D'], category: 4 },
    ],
  },
]

t.test('evidence ids are normalised; questions without usable evidence are dropped', async (t) => {
  t.same(evidenceIds(['D8:6; D9:17', 'D', 'D:11:26', 'D30:05']), ['D8:6', 'D9:17', 'D11:26', 'D30:5'])
  const [conv] = parseLocomo(TINY)
  t.equal(conv.id, 'tiny-1')
  t.equal(conv.turns.length, 5)
  t.same(conv.turns[2], { diaId: 'D1:3', speaker: 'Ana', text: 'Here is the view from my morning run. [shares a photo of a lighthouse at sunrise]', date: '9:00 am on 2 March, 2024' })
  t.equal(conv.turns[3].date, '6:30 pm on 20 April, 2024')
  t.equal(conv.questions.length, 5, 'the question whose evidence names no turn is dropped')
})

t.test('scoring: first evidence rank, recall at 1/5/10 and MRR, category 5 apart', async (t) => {
  t.equal(firstEvidenceRank(['a', 'b', 'c'], ['c', 'b']), 2)
  t.equal(firstEvidenceRank([undefined, 'x'], ['a']), undefined)
  t.same(recall([1, 3, undefined, 7]), { n: 4, r1: 0.25, r5: 0.5, r10: 0.75, mrr: (1 + 1 / 3 + 1 / 7) / 4 })
  const by = recallByCategory([
    { category: 1, rank: 1 },
    { category: 4, rank: undefined },
    { category: 5, rank: 1 },
  ])
  t.same(by.get('1-4'), { n: 2, r1: 0.5, r5: 0.5, r10: 0.5, mrr: 0.5 }, 'category 5 is not in the main figure')
  t.equal(by.get('5')!.n, 1)
  t.equal(by.get('3')!.n, 0)
})

t.test('load and ask through search on a real server: every question finds its turn', async (t) => {
  const [conv] = parseLocomo(TINY)
  const srv = await startServer(t, { backend: 'pglite' })
  const client = await clientV1(t, srv.url)
  const tool: ToolCall = async (name, args) => (await call(client, name, args)).body as Record<string, unknown>
  const latencies = await loadConversation(tool, conv)
  t.equal(latencies.length, 5)
  const scored = await askConversation(tool, conv)
  t.same(scored.map((s) => s.category), [4, 1, 4, 2, 5])
  t.same(scored.map((s) => s.rank).slice(0, 4), [1, 1, 1, 1], 'full-text search answers each answerable question with an evidence turn first')
  // Only "Ben" links the unanswerable question to the data: both of his turns tie, the more recent first.
  t.equal(scored[4].rank, 2)
  const stored = await call(client, 'search', { query: 'greyhound', mode: 'list' })
  t.equal(stored.body.entries[0].logical_key, 'D1:1', 'the dia_id comes back as the logical key')
  t.equal(stored.body.entries[0].description, 'Ana: I finally adopted a greyhound from the shelter last weekend!')
})
