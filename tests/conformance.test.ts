/**
 * The official MCP conformance suite (@modelcontextprotocol/conformance, the 2025-11-25 era) against a
 * listening server: every server scenario the installed suite lists. Those that need the suite's own test
 * tools, resources and prompts, or capabilities this server does not declare, are in
 * tests/conformance-baseline.json with the failure they must show. So a new scenario, a new failure, a
 * failure for another reason, or a baseline entry that starts passing all fail here.
 * 0.1.13 is the newest release that runs on Node 20 (0.1.14 and later, and the 2026-07-28 suite
 * 0.2.0-alpha, import fs.globSync, which Node 22 added); the 2026-07-28 era is tested by the SDK v2 client.
 */
import t from 'tap'
import { readFileSync } from 'node:fs'
import { listServerScenarios, runConformanceScenario } from './conformance-runner.js'
import { backends, startServer } from './helpers.js'

const baseline = JSON.parse(readFileSync(new URL('./conformance-baseline.json', import.meta.url), 'utf8')) as { expectedFailures: Record<string, string> }

t.test('every conformance scenario passes, or fails exactly as its baseline entry says', async (t) => {
  const srv = await startServer(t, { backend: backends()[0] })
  const scenarios = await listServerScenarios()
  t.ok(scenarios.length >= 30, `the suite lists ${scenarios.length} server scenarios`)
  for (const name of Object.keys(baseline.expectedFailures)) t.ok(scenarios.includes(name), `baseline entry ${name} is a scenario of the installed suite`)
  let passed = 0
  for (const scenario of scenarios) {
    const result = await runConformanceScenario(srv.url, scenario, { timeoutMs: 60_000 })
    const failures = result.checks.filter((c) => c.status === 'FAILURE')
    const expected = baseline.expectedFailures[scenario]
    if (expected === undefined) {
      t.same(failures, [], `${scenario}: no failed check`)
      t.equal(result.passed, true, `${scenario} passed`)
      if (result.passed) passed++
    } else {
      t.equal(result.passed, false, `${scenario}: still fails (if it passes now, take it out of the baseline)`)
      t.ok(failures.length > 0 && failures.every((c) => (c.message ?? '').includes(expected)), `${scenario}: fails only with "${expected}" (${failures.map((c) => c.message).join(' | ')})`)
    }
  }
  t.comment(`${passed} scenarios passed, ${Object.keys(baseline.expectedFailures).length} expected failures`)
})
