/**
 * Briefing benchmark (issue: the awareness engine): get_briefing at 10 connections over a realistic owner —
 * 20 sources, 200 active alerts, 20 suppressions, 50 patterns, 100 pending intentions — on each backend,
 * beside the foundation's baselines (bare SDK one-query server, get_stats) measured in the same run.
 * The intentions are not yet due, so every call does the full work (claim attempt included) without
 * firing anything: the steady state a client sees at each conversation start.
 */
import { alternate, benchBackends, legacyCall, load, modernCall, once, report, startBenchServer, type BenchServer } from './lib.js'

/** One owner's awareness data, written straight to the database (the tools would take minutes). */
async function seed(server: BenchServer): Promise<void> {
  const statements = [
    `INSERT INTO entries (id, owner_id, type, source, created, tags, data)
     SELECT gen_random_uuid()::text, 'bench', 'status', 'src-' || i, now(), '["bench"]',
            jsonb_build_object('metrics', jsonb_build_object('cpu', i, 'disk_pct', 50 + i), 'ttl_sec', 86400)
     FROM generate_series(0, 19) AS i`,
    `INSERT INTO entries (id, owner_id, type, source, created, tags, data)
     SELECT gen_random_uuid()::text, 'bench', 'alert', 'src-' || (i % 20), now() - (i || ' seconds')::interval,
            CASE WHEN i % 3 = 0 THEN '["disk"]' ELSE '["net"]' END::jsonb,
            jsonb_build_object('alert_id', 'alert-' || i, 'level', CASE WHEN i % 5 = 0 THEN 'critical' ELSE 'warning' END,
                               'alert_type', 'threshold', 'message', 'Metric ' || i || ' crossed its threshold on src-' || (i % 20), 'resolved', false)
     FROM generate_series(0, 199) AS i`,
    `INSERT INTO entries (id, owner_id, type, source, created, expires, tags, data)
     SELECT gen_random_uuid()::text, 'bench', 'suppression', CASE WHEN i < 15 THEN 'src-' || i ELSE '' END, now(), now() + interval '1 day',
            CASE WHEN i % 2 = 0 THEN '["disk"]' ELSE '[]' END::jsonb,
            jsonb_build_object('metric', NULL, 'suppress_level', 'warning', 'escalation_override', true, 'reason', 'bench')
     FROM generate_series(0, 19) AS i`,
    `INSERT INTO entries (id, owner_id, type, source, created, tags, data)
     SELECT gen_random_uuid()::text, 'bench', 'pattern', CASE WHEN i % 10 = 0 THEN '' ELSE 'src-' || (i % 20) END, now(), '[]',
            jsonb_build_object('description', 'pattern ' || i, 'effect', CASE WHEN i % 2 = 0 THEN 'nightly backup load' ELSE 'metric ' || i || ' spike' END,
                               'conditions', CASE WHEN i % 3 = 0 THEN '{"hour_range": [1, 5]}'::jsonb ELSE '{}'::jsonb END, 'learned_from', 'bench')
     FROM generate_series(0, 49) AS i`,
    `INSERT INTO entries (id, owner_id, type, source, created, tags, data)
     SELECT gen_random_uuid()::text, 'bench', 'intention', 'personal', now(), '["todo"]',
            jsonb_build_object('goal', 'Intention number ' || i, 'state', 'pending',
                               'deliver_at', CASE WHEN i % 2 = 0 THEN to_char(now() + interval '30 days', 'YYYY-MM-DD"T"HH24:MI:SS"Z"') END,
                               'constraints', NULL, 'urgency', 'normal', 'recurrence', NULL, 'learned_from', 'bench')
     FROM generate_series(0, 99) AS i`,
  ]
  for (const sql of statements) await server.sql(sql)
}

export async function benchBriefing(): Promise<void> {
  for (const backend of await benchBackends()) {
    const product = await startBenchServer({ kind: 'awareness', backend })
    const bare = await startBenchServer({ kind: 'bare-sdk', backend })
    try {
      await seed(product)
      const check = await once(product.url, legacyCall('get_briefing'))
      const b = JSON.parse(check.result?.content?.[0]?.text ?? '{}') as { evaluation?: { alerts_checked?: number; intentions_pending?: number }; attention_needed?: boolean }
      if (b.evaluation?.alerts_checked !== 200 || b.evaluation.intentions_pending !== 100) throw new Error(`unexpected briefing before the benchmark: ${JSON.stringify(b).slice(0, 300)}`)
      const connections = 10
      const results = await alternate([
        { name: 'bare SDK, one tool, one query', run: () => load(bare, { connections, request: () => legacyCall('count') }) },
        { name: 'get_stats', run: () => load(product, { connections, request: () => legacyCall('get_stats') }) },
        { name: 'get_briefing, 2025-era JSON', run: () => load(product, { connections, request: () => legacyCall('get_briefing') }) },
        { name: 'get_briefing, 2026-07-28', run: () => load(product, { connections, request: () => modernCall('get_briefing') }) },
      ])
      report(`get_briefing on ${backend} (20 sources, 200 alerts, 20 suppressions, 50 patterns, 100 intentions), ${connections} connections`, results, 'bare SDK, one tool, one query')
    } finally {
      await product.close()
      await bare.close()
    }
  }
}
