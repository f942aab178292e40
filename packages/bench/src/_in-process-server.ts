/**
 * A real server in the bench process, for scenarios that reach into its context: embedded
 * defaults with anvil, limits raised for load, and no periodic sync (anchoring runs only when a
 * scenario calls `syncNow()`). Logs go to stderr: stdout carries the JSON result.
 */
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { envToConfig, envToSecrets, Server } from '@dmtp/server'

export async function createInProcessServer(
  prefix: string,
): Promise<{ server: Server; dataDir: string; dispose(): Promise<void> }> {
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), prefix))
  const env = {
    DMTP_DATA_DIR: dataDir,
    DMTP_PORT: 0,
    DMTP_LOG_LEVEL: 'warn',
    DMTP_CHAIN: 'anvil',
    DMTP_SYNC_INTERVAL: 86_400,
    DMTP_SYNC_EVERY: 100_000_000,
  } as const
  const config = envToConfig(env)
  config.limits.messagesPerSecond = 1_000_000
  config.limits.messageBurst = 1_000_000
  config.limits.requestsPerMinute = 1_000_000
  const server = await Server.create(config, envToSecrets(env, config), { logDestination: process.stderr })
  return {
    server,
    dataDir,
    async dispose() {
      await server.destroy()
      fs.rmSync(dataDir, { recursive: true, force: true })
    },
  }
}
