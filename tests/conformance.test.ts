/**
 * The official MCP conformance suite (@modelcontextprotocol/conformance) against a listening server:
 * initialize, ping and the three list scenarios, as a 2025-era client runs them.
 */
import t from 'tap'
import { CONFORMANCE_SCENARIOS, runConformanceScenario } from './conformance-runner.js'
import { backends, startServer } from './helpers.js'

t.test('conformance scenarios pass against a listening server', async (t) => {
  const srv = await startServer(t, { backend: backends()[0] })
  for (const scenario of CONFORMANCE_SCENARIOS) {
    const result = await runConformanceScenario(srv.url, scenario, { timeoutMs: 60_000 })
    const failures = result.checks.filter((c) => c.status === 'FAILURE')
    t.ok(result.checks.length > 0, `${scenario} ran checks`)
    t.same(failures, [], `${scenario}: no failed check`)
    t.equal(result.passed, true, `${scenario} passed`)
  }
})
