/**
 * One side of `compare.ts`: the 1:1 scenarios of the checkout at `--root`, run with that
 * checkout's own bench, SDK and server (its built `packages/bench/dist`, imported from there), the
 * parameters `npm run bench` uses (`--quick`: a tenth). Prints one JSON line on stdout; progress
 * goes to stderr.
 *
 * Scenario functions are called as `run.ts` calls them: `serverOnly(url, opts)`,
 * `p2pThroughput(url, opts)`, `deliveryLatency(url, opts)`, `wsEchoFloor(port, opts)`, each with
 * a fresh server from that checkout's `server-process.js` (echo server: `echo-server.js`).
 */
import fs from 'node:fs'
import path from 'node:path'
import { pathToFileURL } from 'node:url'

type Child<T> = { info: T; stop(): Promise<void> }
type Scenario<T = string> = (target: T, options: Record<string, number>) => Promise<Record<string, number>>

const root = path.resolve(option('--root') ?? process.cwd())
const quick = process.argv.includes('--quick')
const scale = quick ? 0.1 : 1
const dist = path.join(root, 'packages', 'bench', 'dist')
const log = (line: string) => process.stderr.write(`[${path.basename(root)}] ${line}\n`)

for (const file of ['_child.js', 'server-process.js', 'echo-server.js', 'scenarios/p2p.js', 'scenarios/server-only.js']) {
  if (!fs.existsSync(path.join(dist, file))) throw new Error(`${path.join(dist, file)} is missing: run npx tsc -b in ${root}`)
}
const load = (file: string) => import(pathToFileURL(path.join(dist, file)).href)
const { startChild } = (await load('_child.js')) as { startChild<T>(script: string): Promise<Child<T>> }
const { wsEchoFloor } = (await load('scenarios/floors.js')) as { wsEchoFloor: Scenario<number> }
const { serverOnly } = (await load('scenarios/server-only.js')) as { serverOnly: Scenario }
const { p2pThroughput, deliveryLatency } = (await load('scenarios/p2p.js')) as {
  p2pThroughput: Scenario
  deliveryLatency: Scenario
}

async function withServer<T>(fn: (url: string) => Promise<T>): Promise<T> {
  const server = await startChild<{ url: string }>('./server-process.js')
  try {
    return await fn(server.info.url)
  } finally {
    await server.stop()
  }
}

log('floor: WebSocket echo…')
const echoServer = await startChild<{ port: number }>('./echo-server.js')
const echo = await wsEchoFloor(echoServer.info.port, {
  connections: 8,
  messages: Math.round(60_000 * scale),
  window: 64,
})
await echoServer.stop()
log('server only…')
const replay = await withServer((url) =>
  serverOnly(url, { pairs: 8, messages: Math.round(40_000 * scale), window: 64, warmup: Math.round(5_000 * scale) }),
)
log('end to end…')
const p2p = await withServer((url) => p2pThroughput(url, { pairs: 8, messages: Math.round(20_000 * scale), window: 32 }))
log('delivery latency…')
const latency = await withServer((url) => deliveryLatency(url, { pairs: 4, rate: 500, seconds: quick ? 2 : 6 }))

process.stdout.write(
  `${JSON.stringify({
    p2p_acked_msgs_per_s: p2p.msgsPerSecond,
    server_only_msgs_per_s: replay.msgsPerSecond,
    delivery_p50_ms: latency.p50,
    delivery_p99_ms: latency.p99,
    floor_ws_echo_per_s: echo.perSecond,
  })}\n`,
)
process.exit(0)

function option(name: string): string | undefined {
  const i = process.argv.indexOf(name)
  return i >= 0 ? process.argv[i + 1] : undefined
}
