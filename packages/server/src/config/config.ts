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

/** What one `/v1/stream` connection may hold and send (docs/api.md, "Limits and close codes"). */
export type StreamLimits = {
  /**
   * Bytes a connection may have waiting to be sent. Past it, a live connection is closed with 1013
   * (its client resumes from its cursor); a replay waits for the peer to take them instead.
   */
  bufferBytes: number
  /** After the server closes a stream, how long the peer has to take the close frame before it is dropped. */
  closeGraceMs: number
  /**
   * Frames per second a client may send on one connection, and the burst above it (a token
   * bucket); over it: a `too_many_frames` error frame, then close 1008. Undefined: the message
   * rate (and burst) plus room for acks and pings, so sending as fast as allowed never trips it.
   */
  framesPerSecond: number | undefined
  frameBurst: number | undefined
  /** Concurrent streams one wallet may hold open (on this instance). */
  perWallet: number
}

/** Node HTTP server timeouts: what keeps idle and slow (slowloris) connections from piling up. */
export type HttpTimeouts = {
  /** From a request's first byte to the end of its headers. */
  headersTimeoutMs: number
  /** From a request's first byte to the end of its body. */
  requestTimeoutMs: number
  /** How long a kept-alive connection may wait for its next request. */
  keepAliveTimeoutMs: number
  /** A connection with no bytes either way for this long is closed (streams keep theirs alive with pings). */
  idleTimeoutMs: number
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
  /** `clockSkewSeconds`: how far a sign-in message's Issued At / Not Before may be ahead of the server clock. */
  auth: { tokenTtlSeconds: number; nonceTtlSeconds: number; clockSkewSeconds: number }
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
    stream: StreamLimits
    /** Concurrent TCP connections (HTTP and streams) from one IP address; 0: no limit. */
    connectionsPerIp: number
    http: HttpTimeouts
    /** Private rooms: an epoch key is replaced after this many messages or this age (docs/private-groups.md §7). */
    rotation: { afterMessages: number; afterSeconds: number }
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
    auth: {
      tokenTtlSeconds: merged.DMTP_TOKEN_TTL_SECONDS ?? 7 * 24 * 3600,
      nonceTtlSeconds: 300,
      clockSkewSeconds: merged.DMTP_SIGN_IN_CLOCK_SKEW_SECONDS ?? 60,
    },
    limits: {
      bodyBytes: 128 * 1024,
      requestsPerMinute: merged.DMTP_RATE_LIMIT_PER_MINUTE ?? 600,
      messagesPerSecond,
      messageBurst: Math.max(merged.DMTP_MESSAGE_BURST ?? 200, messagesPerSecond),
      maxClockSkewSeconds: 300,
      helloTimeoutMs: 10_000,
      stream: {
        bufferBytes: merged.DMTP_STREAM_BUFFER_BYTES ?? 1 << 20,
        closeGraceMs: 2_000,
        framesPerSecond: merged.DMTP_STREAM_FRAMES_PER_SECOND,
        frameBurst: merged.DMTP_STREAM_FRAME_BURST,
        perWallet: merged.DMTP_STREAMS_PER_WALLET ?? 16,
      },
      connectionsPerIp: merged.DMTP_CONNECTIONS_PER_IP ?? 256,
      http: httpTimeouts(merged),
      rotation: {
        afterMessages: merged.DMTP_ROTATE_AFTER_MESSAGES ?? 10_000,
        afterSeconds: merged.DMTP_ROTATE_AFTER_SECONDS ?? 7 * 24 * 3600,
      },
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

function httpTimeouts(env: ServerEnv): HttpTimeouts {
  const timeouts = {
    headersTimeoutMs: env.DMTP_HTTP_HEADERS_TIMEOUT_MS ?? 10_000,
    requestTimeoutMs: env.DMTP_HTTP_REQUEST_TIMEOUT_MS ?? 30_000,
    keepAliveTimeoutMs: env.DMTP_HTTP_KEEP_ALIVE_TIMEOUT_MS ?? 5_000,
    idleTimeoutMs: env.DMTP_HTTP_IDLE_TIMEOUT_MS ?? 30_000,
  }
  // Node refuses a server whose headers may take longer than the whole request.
  if (timeouts.headersTimeoutMs > timeouts.requestTimeoutMs) {
    throw new ConfigError('DMTP_HTTP_HEADERS_TIMEOUT_MS must not exceed DMTP_HTTP_REQUEST_TIMEOUT_MS')
  }
  return timeouts
}
