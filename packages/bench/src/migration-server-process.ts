/**
 * The server of the pattern β benchmark, in its own process (as a real server is): embedded
 * defaults with anvil, reached into for the server-side half. JSON requests on stdin:
 * - `{ address, bundle, expected }` stores the receiver's key bundle the way `POST /v1/keys` does,
 *   waits for every handoff, and answers `{ serverReencryptMs }`;
 * - `{ cpu: true }` answers `{ cpuMs }`, the CPU time this process has used so far (every thread).
 */

import readline from 'node:readline'
import type { KeyBundle } from '@dmtp/protocol'
import { createInProcessServer } from './_in-process-server.js'
import { cpuMs, round } from './_stats.js'

const { server, dispose } = await createInProcessServer('dmtp-migration-')
const url = await server.start()
const { ctx } = server
process.stdout.write(`${JSON.stringify({ url, domain: ctx.identity.domain, chainId: ctx.identity.chainId })}\n`)

const stop = async () => {
  await dispose()
  process.exit(0)
}
process.on('SIGTERM', () => void stop())
process.on('SIGINT', () => void stop())

type Request = { address: string; bundle: KeyBundle; expected: number } | { cpu: true }

for await (const line of readline.createInterface({ input: process.stdin })) {
  const request = JSON.parse(line) as Request
  if ('cpu' in request) {
    process.stdout.write(`${JSON.stringify({ cpuMs: cpuMs() })}\n`)
    continue
  }
  const { address, bundle, expected } = request
  const started = performance.now()
  await ctx.keys.put(address, bundle)
  // Storing the bundle started the handoffs; this waits for that run and finds nothing left.
  await ctx.migrations.prepare(address)
  const serverReencryptMs = round(performance.now() - started)
  const pending = await ctx.migrations.pending(address)
  if (pending !== expected) throw new Error(`${pending} of ${expected} handoffs written`)
  process.stdout.write(`${JSON.stringify({ serverReencryptMs })}\n`)
}
await stop()
