/**
 * The only code that reads `process.env`: `DMTP_*` variables, zod-parsed into a typed partial
 * object. No defaults here; `envToConfig` applies them.
 */
import { z } from 'zod'

const port = z.coerce.number().int().min(0).max(65_535)
const positiveInt = z.coerce.number().int().positive()

export const serverEnvSchema = z.object({
  DMTP_HOST: z.string().min(1).optional(),
  DMTP_PORT: port.optional(),
  DMTP_DATA_DIR: z.string().min(1).optional(),
  DMTP_PUBLIC_URL: z.url().optional(),
  DMTP_DATABASE_URL: z.string().min(1).optional(),
  DMTP_DATABASE_SCHEMA: z
    .string()
    .regex(/^[a-z_][a-z0-9_]*$/)
    .optional(),
  DMTP_CHAIN_ID: positiveInt.optional(),
  DMTP_LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).optional(),
  DMTP_TOKEN_TTL_SECONDS: positiveInt.optional(),
  DMTP_SIGN_IN_CLOCK_SKEW_SECONDS: z.coerce.number().int().min(0).max(3600).optional(),
  DMTP_RATE_LIMIT_PER_MINUTE: positiveInt.optional(),
  DMTP_MESSAGES_PER_SECOND: positiveInt.optional(),
  DMTP_MESSAGE_BURST: positiveInt.optional(),
  DMTP_ROTATE_AFTER_MESSAGES: positiveInt.optional(),
  DMTP_ROTATE_AFTER_SECONDS: positiveInt.optional(),
  DMTP_IPFS_API: z.url().optional(),
  DMTP_BLOCK_STORE: z.enum(['sqlite', 'files']).optional(),
  DMTP_CHAIN: z.enum(['anvil', 'rpc', 'none']).optional(),
  DMTP_CHAIN_RPC: z.url().optional(),
  DMTP_CHAIN_PUBLIC_RPC: z.url().optional(),
  DMTP_OPERATOR_KEY_FILE: z.string().min(1).optional(),
  DMTP_REGISTRY_ADDRESS: z
    .string()
    .regex(/^0x[0-9a-fA-F]{40}$/)
    .optional(),
  DMTP_SYNC_INTERVAL: z.coerce.number().positive().optional(),
  DMTP_SYNC_EVERY: positiveInt.optional(),
  /** Worker threads for signature checks (0: libuv's threadpool instead); default: cores − 1, 1 to 4. */
  DMTP_VERIFY_THREADS: z.coerce.number().int().min(0).max(64).optional(),
  /** `required`: cross-origin browser requests must carry a dApp API key (`x-dmtp-api-key`). */
  DMTP_API_KEYS: z.enum(['optional', 'required']).optional(),
  /** Requests per minute of an API key created without a rate (and the most a wallet may give its own keys). */
  DMTP_API_KEY_RATE_LIMIT: positiveInt.optional(),
  /** Bytes a stream connection may have waiting to be sent before it is closed with 1013. */
  DMTP_STREAM_BUFFER_BYTES: positiveInt.optional(),
  /** Frames per second (and burst) a client may send on one stream; default: the message limits plus room for acks. */
  DMTP_STREAM_FRAMES_PER_SECOND: positiveInt.optional(),
  DMTP_STREAM_FRAME_BURST: positiveInt.optional(),
  DMTP_STREAMS_PER_WALLET: positiveInt.optional(),
  /** Concurrent connections from one IP address; 0: no limit (behind a proxy every client shares its address). */
  DMTP_CONNECTIONS_PER_IP: z.coerce.number().int().min(0).optional(),
  DMTP_HTTP_HEADERS_TIMEOUT_MS: positiveInt.optional(),
  DMTP_HTTP_REQUEST_TIMEOUT_MS: positiveInt.optional(),
  DMTP_HTTP_KEEP_ALIVE_TIMEOUT_MS: positiveInt.optional(),
  DMTP_HTTP_IDLE_TIMEOUT_MS: positiveInt.optional(),
})

export type ServerEnv = z.infer<typeof serverEnvSchema>

/**
 * @throws {ConfigError} naming every invalid variable.
 */
export function readEnv(env: Record<string, string | undefined> = process.env): ServerEnv {
  const picked = Object.fromEntries(Object.entries(env).filter(([key]) => key.startsWith('DMTP_')))
  const parsed = serverEnvSchema.safeParse(picked)
  if (!parsed.success) {
    const lines = parsed.error.issues.map((issue) => `${issue.path.join('.')}: ${issue.message}`)
    throw new ConfigError(`Invalid environment:\n  ${lines.join('\n  ')}`)
  }
  return parsed.data
}

export class ConfigError extends Error {
  override name = 'ConfigError'
}
