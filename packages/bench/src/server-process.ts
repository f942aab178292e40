/**
 * The DMTP server under test, in its own process so it has its own event loop and core. Limits
 * are raised for load: the defaults protect a public server from abuse, not a benchmark.
 */
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { envToConfig, envToSecrets, Server } from '@dmtp/server'

const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'dmtp-bench-'))
const env = { DMTP_PORT: 0, DMTP_DATA_DIR: dataDir, DMTP_LOG_LEVEL: 'warn' } as const
const config = envToConfig(env)
config.limits.messagesPerSecond = 1_000_000
config.limits.messageBurst = 1_000_000
config.limits.requestsPerMinute = 1_000_000
// Every benchmark client connects from 127.0.0.1: the per-IP cap is not what is measured.
config.limits.connectionsPerIp = 0
const server = await Server.create(config, envToSecrets(env, config))
const url = await server.start()
process.stdout.write(`${JSON.stringify({ url, dataDir })}\n`)

const stop = async () => {
  await server.destroy()
  fs.rmSync(dataDir, { recursive: true, force: true })
  process.exit(0)
}
process.on('SIGTERM', () => void stop())
process.on('SIGINT', () => void stop())
