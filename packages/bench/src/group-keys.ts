/**
 * `node packages/bench/dist/group-keys.js`: the private-group key and message benchmarks alone
 * (`scenarios/group-keys.ts`), beside Signal's sender keys in the same process. Prints the table,
 * then one line of JSON; `--quick` runs 3 repetitions instead of 7.
 */
import os from 'node:os'
import { round } from './_stats.js'
import { privateGroupBench } from './scenarios/group-keys.js'
import { privateGroupFigures, privateGroupRows } from './scenarios/group-keys-report.js'

const quick = process.argv.includes('--quick')
const log = (line: string) => process.stderr.write(`${line}\n`)

log(
  `private-group keys on ${os.cpus().length} × ${os.cpus()[0]?.model ?? 'cpu'}, Node ${process.version}${quick ? ' (quick)' : ''}`,
)
const loadBefore = round(os.loadavg()[0] as number, 2)
const bench = await privateGroupBench({ repetitions: quick ? 3 : 7, messages: quick ? 1_000 : 2_000, log })
const { keys, ratios, targets } = privateGroupFigures(bench)
const machine = {
  date: new Date().toISOString(),
  cpus: os.cpus().length,
  cpu: os.cpus()[0]?.model ?? 'unknown',
  node: process.version,
  quick,
  loadAverage: { before: loadBefore, after: round(os.loadavg()[0] as number, 2) },
}

const rows = privateGroupRows(bench)
const width = Math.max(...rows.map((row) => row[0].length))
const table = [
  ...rows.map(([name, value, note]) => `${name.padEnd(width)}  ${value.padStart(10)}  ${note}`),
  '',
  `targets met: ${targets.filter((target) => target.pass).length} of ${targets.length}; load average (1 min): ${machine.loadAverage.before} before, ${machine.loadAverage.after} after, on ${machine.cpus} cores`,
].join('\n')
process.stdout.write(`${table}\n${JSON.stringify({ machine, ...keys, ratios, targets, details: bench })}\n`)
