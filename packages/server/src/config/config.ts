/**
 * The server's typed configuration: defaults applied, fields checked against each other, nested
 * by concern. Safe to log (secrets live in `secrets.ts`). Each port's config is a discriminated
 * union on `provider`; unset means the embedded default.
 */
import path from 'node:path'
import { ConfigError, type ServerEnv } from './env.js'

export type DatabaseConfig = { provider: 'sqlite'; path: string } | { provider: 'postgres'; url: string; schema: string }

export type PubSubConfig = { provider: 'memory' }

/** Where blocks (envelopes, key bundles, manifests) live: a SQLite file or files in the data dir, or a Kubo node. */
export type BlockStoreConfig =
  | { provider: 'sqlite'; path: string }
  | { provider: 'disk'; dir: string }
  | { provider: 'kubo'; url: string }

/**
 * The chain the registry lives on: anvil spawned by the server (embedded), any EVM JSON-RPC
 * (Polygon, Amoy, a local node), or none (no anchoring; for tests that do not need a chain).
 */
export type ChainConfig =
  | { provider: 'none' }
  | { provider: 'anvil'; dir: string; stateIntervalSeconds: number; publicRpcUrl: string | undefined }
  | {
      provider: 'rpc'
      url: string
      publicRpcUrl: string | undefined
      registry: `0x${string}` | undefined
    }

export type AnchoringConfig = {
  /** Sync at least this often when there is something new. */
  intervalSeconds: number
  /** …or as soon as this many new messages are waiting. */
  everyMessages: number
  /** Most CIDs one manifest lists; a larger backlog takes several syncs. */
  maxCidsPerManifest: number
  /** Delay before new key bundles are batched into one `addKeys`. */
  keyBatchDelayMs: number
}

export type ServerConfig = {
  service: {
    host: string
    port: number
    /** The public base URL; when unset it is derived from the listening address at start. */
    publicUrl: string | undefined
    chainId: number
  }
  dataDir: string
  db: DatabaseConfig
  pubSub: PubSubConfig
  blockStore: BlockStoreConfig
  chain: ChainConfig
  anchoring: AnchoringConfig
  auth: { tokenTtlSeconds: number; nonceTtlSeconds: number }
  limits: {
    /** Largest accepted request body, bytes. */
    bodyBytes: number
    /** HTTP requests per minute per address (or per IP before sign-in). */
    requestsPerMinute: number
    /** Sustained messages per second per address, and the burst above it. */
    messagesPerSecond: number
    messageBurst: number
    /** How far a message timestamp may be from the server clock. */
    maxClockSkewSeconds: number
    /** How long a new stream connection may wait before its `hello` frame. */
    helloTimeoutMs: number
  }
  /** Worker threads for Ed25519 checks; 0 leaves them to libuv's threadpool; undefined: cores − 1 (1–4). */
  verifyThreads: number | undefined
  log: { level: 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace' | 'silent' }
  /** dApp API keys (docs/api.md, "API keys"). */
  apiKeys: {
    /**
     * `optional`: a request may carry a key (then it must be valid and within its rate).
     * `required`: cross-origin browser requests (an `Origin` other than the server's) must carry one.
     */
    mode: 'optional' | 'required'
    /** Requests per minute of a key created without a rate; also the most a wallet may give its own keys. */
    defaultRateLimitPerMinute: number
    /** Active (unrevoked) keys one wallet may hold. */
    maxPerWallet: number
  }
}

export const DEFAULT_PORT = 8787

/** Builds the config from the environment plus overrides (CLI flags win over env). */
export function envToConfig(env: ServerEnv, overrides: Partial<ServerEnv> = {}): ServerConfig {
  const merged = { ...env, ...Object.fromEntries(Object.entries(overrides).filter(([, v]) => v !== undefined)) }
  const dataDir = path.resolve(merged.DMTP_DATA_DIR ?? '.dmtp-data')
  const databaseUrl = merged.DMTP_DATABASE_URL
  let db: DatabaseConfig
  if (!databaseUrl || databaseUrl.startsWith('sqlite:')) {
    const file = databaseUrl ? databaseUrl.slice('sqlite:'.length) : path.join(dataDir, 'dmtp.sqlite')
    db = { provider: 'sqlite', path: path.resolve(file) }
  } else if (/^postgres(ql)?:\/\//.test(databaseUrl)) {
    db = { provider: 'postgres', url: databaseUrl, schema: merged.DMTP_DATABASE_SCHEMA ?? 'public' }
  } else {
    throw new ConfigError('DMTP_DATABASE_URL must start with postgres://, postgresql:// or sqlite:')
  }
  const messagesPerSecond = merged.DMTP_MESSAGES_PER_SECOND ?? 50
  const chainProvider = merged.DMTP_CHAIN ?? (merged.DMTP_CHAIN_RPC ? 'rpc' : 'anvil')
  let chain: ChainConfig
  if (chainProvider === 'none') chain = { provider: 'none' }
  else if (chainProvider === 'anvil') {
    chain = {
      provider: 'anvil',
      dir: path.join(dataDir, 'chain'),
      stateIntervalSeconds: 5,
      publicRpcUrl: merged.DMTP_CHAIN_PUBLIC_RPC,
    }
  } else {
    if (!merged.DMTP_CHAIN_RPC || !merged.DMTP_OPERATOR_KEY_FILE || !merged.DMTP_CHAIN_ID) {
      // A real chain needs a funded key the operator chose; the embedded one generates its own.
      throw new ConfigError('DMTP_CHAIN=rpc needs DMTP_CHAIN_RPC, DMTP_CHAIN_ID and DMTP_OPERATOR_KEY_FILE')
    }
    chain = {
      provider: 'rpc',
      url: merged.DMTP_CHAIN_RPC,
      publicRpcUrl: merged.DMTP_CHAIN_PUBLIC_RPC,
      registry: merged.DMTP_REGISTRY_ADDRESS as `0x${string}` | undefined,
    }
  }
  return {
    service: {
      host: merged.DMTP_HOST ?? '127.0.0.1',
      port: merged.DMTP_PORT ?? DEFAULT_PORT,
      publicUrl: merged.DMTP_PUBLIC_URL?.replace(/\/$/, ''),
      chainId: merged.DMTP_CHAIN_ID ?? 31_337,
    },
    dataDir,
    db,
    pubSub: { provider: 'memory' },
    blockStore: merged.DMTP_IPFS_API
      ? { provider: 'kubo', url: merged.DMTP_IPFS_API.replace(/\/$/, '') }
      : merged.DMTP_BLOCK_STORE === 'files'
        ? { provider: 'disk', dir: path.join(dataDir, 'blocks') }
        : { provider: 'sqlite', path: path.join(dataDir, 'blocks.sqlite') },
    chain,
    anchoring: {
      // A real chain charges per anchor: every 5 minutes, or every 10,000 messages, by default.
      intervalSeconds: merged.DMTP_SYNC_INTERVAL ?? 300,
      everyMessages: merged.DMTP_SYNC_EVERY ?? 10_000,
      maxCidsPerManifest: 50_000,
      keyBatchDelayMs: 500,
    },
    auth: { tokenTtlSeconds: merged.DMTP_TOKEN_TTL_SECONDS ?? 7 * 24 * 3600, nonceTtlSeconds: 300 },
    limits: {
      bodyBytes: 128 * 1024,
      requestsPerMinute: merged.DMTP_RATE_LIMIT_PER_MINUTE ?? 600,
      messagesPerSecond,
      messageBurst: Math.max(merged.DMTP_MESSAGE_BURST ?? 200, messagesPerSecond),
      maxClockSkewSeconds: 300,
      helloTimeoutMs: 10_000,
    },
    verifyThreads: merged.DMTP_VERIFY_THREADS,
    log: { level: merged.DMTP_LOG_LEVEL ?? 'info' },
    apiKeys: {
      mode: merged.DMTP_API_KEYS ?? 'optional',
      defaultRateLimitPerMinute: merged.DMTP_API_KEY_RATE_LIMIT ?? 600,
      maxPerWallet: 20,
    },
  }
}
