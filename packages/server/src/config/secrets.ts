/**
 * Secrets, kept apart from `ServerConfig` so the config can be logged. The one secret is the
 * operator key: the wallet that owns the DMTPRegistry (it sends the anchors) and that signs the
 * server's own DMTP key bundle (pattern β), so clients can tell the real server key from a forged
 * one. It comes from `DMTP_OPERATOR_KEY_FILE`, or, on embedded defaults, from `<data>/operator.key`,
 * generated on first start (mode 0600).
 */
import fs from 'node:fs'
import path from 'node:path'
import { generatePrivateKey } from 'viem/accounts'
import type { ServerConfig } from './config.js'
import { ConfigError, type ServerEnv } from './env.js'

export type ServerSecrets = { operatorKey: `0x${string}` }

export function envToSecrets(env: ServerEnv, config: ServerConfig): ServerSecrets {
  const file = env.DMTP_OPERATOR_KEY_FILE ? path.resolve(env.DMTP_OPERATOR_KEY_FILE) : path.join(config.dataDir, 'operator.key')
  let text: string
  try {
    text = fs.readFileSync(file, 'utf8').trim()
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT' || env.DMTP_OPERATOR_KEY_FILE) {
      throw new ConfigError(`Cannot read the operator key at ${file}: ${(error as Error).message}`)
    }
    fs.mkdirSync(config.dataDir, { recursive: true })
    text = generatePrivateKey()
    fs.writeFileSync(file, `${text}\n`, { mode: 0o600 })
  }
  const key = text.startsWith('0x') ? text : `0x${text}`
  if (!/^0x[0-9a-fA-F]{64}$/.test(key)) throw new ConfigError(`${file} does not hold a private key (0x + 64 hex digits)`)
  return { operatorKey: key as `0x${string}` }
}
