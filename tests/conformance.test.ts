/**
 * The official MCP conformance suite against a listening server, for both protocol eras:
 * @modelcontextprotocol/conformance 0.1.x (2025-11-25, every scenario: --suite all) and 0.2.0-alpha
 * (--requirements 2026-07-28, the scenarios that revision requires, plus the extension and pending ones it
 * runs unscored). Scenarios that need the suite's own test tools, resources and prompts, or capabilities
 * this server does not declare, are in tests/conformance-baseline.json with the failure they must show. So
 * a new failure, a failure for another reason, a baseline entry that starts passing or stops running all
 * fail here. Both releases import Node 22's fs.globSync; tests/fixtures/conformance-on-node20 supplies it.
 */
import t from 'tap'
import { readFileSync } from 'node:fs'
import { runConformanceSuite, type ConformanceSuite } from './conformance-runner.js'
import { backends, startServer } from './helpers.js'

interface SuiteBaseline extends ConformanceSuite {
  release: string
  minScenarios: number
  expectedFailures: Record<string, string | string[]>
}

const baseline = JSON.parse(readFileSync(new URL('./conformance-baseline.json', import.meta.url), 'utf8')) as { suites: Record<string, SuiteBaseline> }
const installed = (name: string): string =>
  (JSON.parse(readFileSync(new URL(`../node_modules/${name}/package.json`, import.meta.url), 'utf8')) as { version: string }).version

t.test('every conformance scenario passes, or fails exactly as its baseline entry says', async (t) => {
  const srv = await startServer(t, { backend: backends()[0] })
  for (const [era, suite] of Object.entries(baseline.suites)) {
    await t.test(`protocol ${era}: ${suite.package} ${suite.args.join(' ')}`, async (t) => {
      t.equal(installed(suite.package), suite.release, `the installed suite is the release the baseline was taken on`)
      const run = await runConformanceSuite(srv.url, suite)
      t.equal(run.error, undefined, 'the suite ran')
      t.ok(run.scenarios.size >= suite.minScenarios, `${run.scenarios.size} scenarios reported (at least ${suite.minScenarios})`)
      for (const name of Object.keys(suite.expectedFailures)) t.ok(run.scenarios.has(name), `baseline entry ${name} ran`)
      let passed = 0
      for (const [scenario, checks] of run.scenarios) {
        const failures = checks.filter((c) => c.status === 'FAILURE')
        const expected = suite.expectedFailures[scenario]
        if (expected === undefined) {
          t.same(failures, [], `${scenario}: no failed check`)
          if (failures.length === 0) passed++
          continue
        }
        const texts = typeof expected === 'string' ? [expected] : expected
        const described = failures.map((c) => `${c.name}: ${c.message ?? ''}`).join(' | ')
        t.ok(failures.length > 0, `${scenario}: still fails (if it passes now, take it out of the baseline)`)
        t.ok(failures.every((c) => texts.some((text) => (c.message ?? '').includes(text))), `${scenario}: fails only as the baseline says (${described})`)
      }
      t.comment(`${era}: ${passed} scenarios passed, ${Object.keys(suite.expectedFailures).length} expected failures`)
    })
  }
})
