/**
 * The briefing is not quadratic (security audit M3): one owner with 3,000 alerts, 3,000 global suppressions
 * that do not match them and 200 patterns gets a briefing quickly, and nobody else waits long for it.
 */
import t from 'tap'
import { backends, post, startServer } from './helpers.js'
import { bystander, envelope, probeDuring, toolCall } from './fixtures/abuse.js'

/** Twice the 1,500 × 1,500, so quadratic and linear collation are far apart. */
const N = 3_000
const BYSTANDER_MS = 700

for (const backend of backends()) {
  t.test(`a briefing over ${N} alerts and ${N} suppressions on ${backend}`, async (t) => {
    const attacked = await startServer(t, { backend })
    const other = await bystander(t, backend, attacked)
    const owner = attacked.owner
    // Written straight to the database: through the tools this setup would take most of a minute.
    await attacked.store.withOwner(owner, async (tx) => {
      await tx`INSERT INTO entries (id, owner_id, type, source, created, tags, data)
        SELECT gen_random_uuid()::text, ${owner}, 'alert', 'src-' || (i % 20), now() - (i || ' seconds')::interval, '["net"]',
               jsonb_build_object('alert_id', 'alert-' || i, 'level', CASE WHEN i % 5 = 0 THEN 'critical' ELSE 'warning' END,
                                  'alert_type', 'threshold', 'message', 'Metric ' || i || ' crossed its threshold', 'metric', 'm' || (i % 7), 'resolved', false)
        FROM generate_series(1, ${N}) AS i`
      await tx`INSERT INTO entries (id, owner_id, type, source, created, expires, tags, data)
        SELECT gen_random_uuid()::text, ${owner}, 'suppression', '', now(), now() + interval '1 day', jsonb_build_array('quiet-' || i),
               jsonb_build_object('metric', NULL, 'suppress_level', 'warning', 'escalation_override', true, 'reason', 'abuse test')
        FROM generate_series(1, ${N}) AS i`
      await tx`INSERT INTO entries (id, owner_id, type, source, created, tags, data)
        SELECT gen_random_uuid()::text, ${owner}, 'pattern', '', now(), '[]',
               jsonb_build_object('description', 'pattern ' || i, 'effect', 'unrelated effect ' || i, 'conditions', '{}'::jsonb, 'learned_from', 'test')
        FROM generate_series(0, 199) AS i`
    })
    const briefing = () => post(attacked.url, toolCall('get_briefing', {})).then(envelope)
    await briefing() // warm
    // Before the fix, on PGlite (idle machine): 1,500 × 1,500 took 343 ms (/health waited 323 ms) and this
    // 3,000 × 3,000 briefing 1,049 ms (/health waited 1,030 ms). After it: 136 ms and 193 ms.
    const run = await probeDuring(briefing, { attacked, other }, 20)
    t.equal(run.result.attention_needed, true)
    t.equal(run.result.suppressed_alerts ?? run.result.evaluation?.suppressed ?? 0, 0, 'no suppression matches')
    t.ok(run.healthMs < BYSTANDER_MS, `/health answered in ${run.healthMs.toFixed(0)} ms (the briefing took ${run.attackMs.toFixed(0)} ms)`)
    t.ok(run.statsMs < BYSTANDER_MS, `another owner's get_stats answered in ${run.statsMs.toFixed(0)} ms`)

    // A matching suppression among them is still found, by its tag's text in the message.
    await attacked.store.withOwner(owner, (tx) => tx`INSERT INTO entries (id, owner_id, type, source, created, expires, tags, data)
      VALUES (gen_random_uuid()::text, ${owner}, 'suppression', '', now(), now() + interval '1 day', '["THRESHOLD"]',
              jsonb_build_object('metric', NULL, 'suppress_level', 'critical', 'escalation_override', true, 'reason', 'all of it'))`)
    const quiet = await briefing()
    t.equal(quiet.attention_needed, false, 'every alert is suppressed by the one matching suppression')
  })
}
