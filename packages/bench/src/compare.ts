/**
 * Same-machine comparison of the 1:1 figures: this tree against another checkout (the release
 * before a change), one after the other, alternating (A B A B…) so that a slow spell of a shared
 * host falls on both sides, never on one. Each run is a fresh process (`_compare-run.ts`) that
 * runs that checkout's own scenarios, SDK and server; the WebSocket echo floor is measured in
 * every run too, to show how steady the machine was. Prints each side's median and the ratio,
 * and writes bench-results/compare.json.
 *
 *   node packages/bench/dist/compare.js --baseline /tmp/dmtp-baseline [--rounds 3] [--quick]
 *
 * The other checkout must be installed and built (`npm install`, `npx tsc -b` there).
 */
import { spawn } from 'node:child_process'
import fs from 'node:fs'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { round } from './_stats.js'

const KEYS = [
  ['p2p_acked_msgs_per_s', 'higher'],
  ['server_only_msgs_per_s', 'higher'],
  ['delivery_p99_ms', 'lower'],
  ['delivery_p50_ms', 'lower'],
  ['floor_ws_echo_per_s', 'higher'],
] as const
type Key = (typeof KEYS)[number][0]
type Figures = Record<Key, number>

const baseline = option('--baseline')
if (!baseline) {
  process.stderr.write('usage: node packages/bench/dist/compare.js --baseline <checkout> [--rounds 3] [--quick]\n')
  process.exit(2)
}
const rounds = Math.max(1, Number(option('--rounds') ?? 3))
const quick = process.argv.includes('--quick')
const here = fileURLToPath(new URL('../../..', import.meta.url))
const sides = [
  { name: 'this tree', root: path.resolve(here) },
  { name: 'baseline', root: path.resolve(baseline) },
]
const runs = new Map<string, Figures[]>(sides.map((side) => [side.name, []]))

const started = performance.now()
for (let r = 1; r <= rounds; r++) {
  for (const side of sides) {
    process.stderr.write(`round ${r}/${rounds}: ${side.name} (${side.root})\n`)
    runs.get(side.name)?.push(await runSide(side.root))
  }
}

const median = (values: number[]) => {
  const sorted = values.slice().sort((a, b) => a - b)
  const middle = Math.floor(sorted.length / 2)
  return sorted.length % 2 ? (sorted[middle] as number) : ((sorted[middle - 1] as number) + (sorted[middle] as number)) / 2
}
const [mine, theirs] = sides.map((side) => runs.get(side.name) as Figures[]) as [Figures[], Figures[]]
const rows = KEYS.map(([key, better]) => {
  const a = round(median(mine.map((run) => run[key])), 2)
  const b = round(median(theirs.map((run) => run[key])), 2)
  return {
    key,
    better,
    thisTree: a,
    baseline: b,
    ratio: round(a / b, 3),
    thisTreeRuns: mine.map((run) => run[key]),
    baselineRuns: theirs.map((run) => run[key]),
  }
})

const width = Math.max(...rows.map((row) => row.key.length))
const table = [
  `${'key'.padEnd(width)}  ${'this tree'.padStart(10)}  ${'baseline'.padStart(10)}  ${'ratio'.padStart(6)}  runs (this tree | baseline)`,
  ...rows.map(
    (row) =>
      `${row.key.padEnd(width)}  ${String(row.thisTree).padStart(10)}  ${String(row.baseline).padStart(10)}  ${String(row.ratio).padStart(6)}  ${row.thisTreeRuns.join(' ')} | ${row.baselineRuns.join(' ')}  (${row.better} is better)`,
  ),
  '',
  `medians of ${rounds} alternating rounds${quick ? ' (quick: a tenth of the load)' : ''}, ${round((performance.now() - started) / 1000, 0)} s; ratio = this tree / baseline`,
].join('\n')
process.stdout.write(`${table}\n`)
fs.mkdirSync('bench-results', { recursive: true })
fs.writeFileSync(
  path.join('bench-results', 'compare.json'),
  `${JSON.stringify({ date: new Date().toISOString(), quick, rounds, sides, rows }, null, 2)}\n`,
)

function runSide(root: string): Promise<Figures> {
  const script = fileURLToPath(new URL('./_compare-run.js', import.meta.url))
  const child = spawn(process.execPath, [script, '--root', root, ...(quick ? ['--quick'] : [])], {
    stdio: ['ignore', 'pipe', 'inherit'],
  })
  let output = ''
  child.stdout.on('data', (chunk: Buffer) => {
    output += chunk.toString()
  })
  return new Promise((resolve, reject) => {
    child.once('exit', (code) => {
      if (code !== 0) return reject(new Error(`the run in ${root} exited with ${code}`))
      resolve(JSON.parse(output.trim().split('\n').at(-1) as string) as Figures)
    })
  })
}

function option(name: string): string | undefined {
  const i = process.argv.indexOf(name)
  return i >= 0 ? process.argv[i + 1] : undefined
}
