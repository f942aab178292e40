/**
 * Prints `hostile_caught_ratio` after a run: attacks caught ÷ attacks tried, where an attack (one
 * name, run once per database dialect) is caught when every one of its tests passed. Attacks whose
 * tests all skipped (no PostgreSQL, say) are listed as not run rather than counted either way.
 */
import type { Reporter, TestModule } from 'vitest/node'
import { ATTACK_PREFIX } from './attack.js'

export default class HostileReporter implements Reporter {
  onTestRunEnd(testModules: ReadonlyArray<TestModule>): void {
    const attacks = new Map<string, { passed: number; failed: number }>()
    for (const module of testModules) {
      for (const testCase of module.children.allTests()) {
        if (!testCase.name.startsWith(ATTACK_PREFIX)) continue
        const state = testCase.result().state
        const tally = attacks.get(testCase.name) ?? { passed: 0, failed: 0 }
        if (state === 'passed') tally.passed++
        if (state === 'failed') tally.failed++
        attacks.set(testCase.name, tally)
      }
    }
    if (attacks.size === 0) return
    const tried = [...attacks].filter(([, tally]) => tally.passed + tally.failed > 0)
    const missed = tried.filter(([, tally]) => tally.failed > 0).map(([name]) => name.slice(ATTACK_PREFIX.length))
    const caught = tried.length - missed.length
    const ratio = tried.length === 0 ? 0 : caught / tried.length
    const notRun = attacks.size - tried.length
    const lines = [
      `hostile_caught_ratio: ${ratio.toFixed(3)} (${caught} of ${tried.length} attacks caught${notRun ? `; ${notRun} not run` : ''})`,
      ...missed.map((name) => `  not caught: ${name}`),
    ]
    process.stdout.write(`\n${lines.join('\n')}\n`)
  }
}
