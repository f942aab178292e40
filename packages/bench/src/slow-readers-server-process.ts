/**
 * The server of the slow-readers scenario: `server-process.ts` (message and request limits raised
 * for load, every connection limit at its default, which is what is measured) that also reports
 * its own memory. It samples its RSS every 10 ms and answers one JSON line per request:
 * `{ "rss": "reset" }` starts a new peak, `{ "rss": "read" }` reads it; both answer
 * `{ rss, peak, sockets }` (bytes; `sockets`: WebSocket connections the server holds open).
 * An argument sets `limits.stream.bufferBytes`.
 */
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import readline from 'node:readline'
import { envToConfig, envToSecrets, Server } from '@dmtp/server'

const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'dmtp-bench-slow-'))
const env = { DMTP_PORT: 0, DMTP_DATA_DIR: dataDir, DMTP_LOG_LEVEL: 'warn', DMTP_CHAIN: 'none' } as const
const config = envToConfig(env)
config.limits.messagesPerSecond = 1_000_000
config.limits.messageBurst = 1_000_000
config.limits.requestsPerMinute = 1_000_000
if (process.argv[2]) config.limits.stream.bufferBytes = Number(process.argv[2])
const server = await Server.create(config, envToSecrets(env, config))
const url = await server.start()
// Decorated by @fastify/websocket, whose type augmentation this package does not load.
const { websocketServer } = server.app as unknown as { websocketServer: { clients: Set<unknown> } }

let peak = process.memoryUsage.rss()
const sample = () => {
  peak = Math.max(peak, process.memoryUsage.rss())
}
setInterval(sample, 10).unref()
process.stdout.write(`${JSON.stringify({ url })}\n`)

const stop = async () => {
  await server.destroy()
  fs.rmSync(dataDir, { recursive: true, force: true })
  process.exit(0)
}
process.on('SIGTERM', () => void stop())
process.on('SIGINT', () => void stop())

for await (const line of readline.createInterface({ input: process.stdin })) {
  const { rss: command } = JSON.parse(line) as { rss: 'reset' | 'read' }
  sample()
  const rss = process.memoryUsage.rss()
  if (command === 'reset') peak = rss
  process.stdout.write(`${JSON.stringify({ rss, peak, sockets: websocketServer.clients.size })}\n`)
}
