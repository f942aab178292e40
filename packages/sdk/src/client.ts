/**
 * `createClient({ server, wallet })`: the client holds config, a transport and caches; actions
 * are plain functions `(client, params)` in `actions/`, also bound as methods for convenience.
 */
import {
  type CryptoBackend,
  type DmtpKeys,
  detectCryptoBackend,
  type Envelope,
  type MessageContent,
  type Room,
  type ServerInfo,
} from '@dmtp/protocol'
import type { ChainConfig } from './_chain.js'
import type { HeldReceipt } from './_receipts.js'
import type { RoomFork } from './_room-fork.js'
import type { RoomKeyRing } from './_room-keys.js'
import type { RoomLog } from './_room-log.js'
import type { VerifiedKeyBundle } from './actions/get-key-bundle.js'
import { WalletRequiredError } from './errors.js'
import { type ClientStorage, memoryStorage } from './storage.js'
import { createHttpTransport, type HttpTransport } from './transports/http.js'
import type { StreamSocket } from './transports/stream-socket.js'
import { resolveWallet } from './wallets/resolve-wallet.js'
import type { DmtpWallet, WalletInput } from './wallets/types.js'

export type WebSocketLike = typeof globalThis.WebSocket

export type CreateClientParameters = {
  /** Base URL of the DMTP server, e.g. `http://localhost:8787`. */
  server: string
  /**
   * A dApp's API key (`dmtp apikey create`), for servers that require one: sent as the
   * `x-dmtp-api-key` header, and as `?apiKey=` on the stream (browsers cannot set WebSocket headers).
   */
  apiKey?: string | undefined
  /**
   * A viem LocalAccount, an EIP-1193 provider, or a {@link DmtpWallet}. Optional for read-only
   * uses (`whois`); actions that sign or decrypt then throw `WalletRequiredError`.
   */
  wallet?: WalletInput | undefined
  /** Crypto backend; defaults to WebCrypto when it has X25519/Ed25519, else noble. */
  crypto?: CryptoBackend | undefined
  storage?: ClientStorage | undefined
  fetch?: typeof globalThis.fetch | undefined
  /** WebSocket implementation; defaults to the global one, or `ws` on Node. */
  WebSocket?: WebSocketLike | undefined
  /**
   * The chain this server anchors on, as the user knows it (the deployment's published chain id
   * and registry, and an RPC the user trusts). Without it the chain of the server's first
   * `/v1/info` is pinned in `storage`; either way a server naming another chain is refused.
   */
  chain?: ChainConfig | undefined
}

/** Caches a client keeps; internal to the SDK. */
export type ClientState = {
  session: { token: string; address: string; expiresAt: number } | undefined
  info: ServerInfo | undefined
  /** Own unlocked keys, by key bundle CID (old bundles stay readable after rotation). */
  ownKeys: Map<string, Promise<DmtpKeys>>
  currentCid: string | undefined
  /** Verified bundles by CID. */
  bundles: Map<string, Promise<VerifiedKeyBundle>>
  /** Current bundle CID of each peer, with when it was fetched. */
  currentOf: Map<string, { cid: string; at: number }>
  /**
   * The newest key bundle verified per wallet (its own included), also kept in `storage`: an
   * older one served later is a rollback. `null`: none known, storage included.
   */
  newestBundles: Map<string, { cid: string; issuedAt: string } | null>
  /** Why a wallet's key, or the server's "no keys" answer for it, could not be checked on chain. */
  keyWarnings: Map<string, string>
  conversationKeys: Map<string, Promise<Uint8Array>>
  /** The 1:1 room with each peer. */
  rooms: Map<string, string>
  /** What this client knows of rooms (type, pair), by id. */
  roomInfo: Map<string, Room>
  /** Each room's membership log, replayed here. */
  roomLogs: Map<string, RoomLog>
  /** The open stream, which `send` uses when connected. */
  socket: StreamSocket | undefined
  /** Contents of 1:1 messages this client sent, by CID, until their echo comes back on the stream. */
  sent: Map<string, MessageContent>
  /** Envelopes sent with a `clientMessageId`, by it: a retried send delivers the same bytes again. */
  outbox: Map<string, SentEnvelope>
  /**
   * The server's signed receipts of this wallet's sends, by room and position, until history
   * confirms them; those history contradicted stay, with what it held (evidence). Also kept in
   * `storage` (bounded), so a later run can still check them.
   */
  receipts: Map<string, Map<number, HeldReceipt>>
  /** Private rooms: the epoch keys this member holds and the encryption state last seen, by room. */
  roomKeys: Map<string, RoomKeyRing>
  /** Rooms found forked (the server shows members different logs), by room; null: none, storage included. */
  forks: Map<string, RoomFork | null>
  /** Told of each fork found (`onFork`, the stream's `fork` event). */
  forkListeners: Set<(fork: RoomFork) => void>
}

export type SentEnvelope = { envelope: Envelope; content: MessageContent | undefined; notice: string | undefined }

export type DmtpClientBase = {
  readonly server: string
  readonly http: HttpTransport
  readonly storage: ClientStorage
  readonly WebSocket: WebSocketLike | undefined
  readonly fetch: typeof globalThis.fetch
  readonly apiKey: string | undefined
  /** The chain configured with `createClient({ chain })`, if any. */
  readonly chain: ChainConfig | undefined
  readonly state: ClientState
  getWallet(): Promise<DmtpWallet>
  getCrypto(): Promise<CryptoBackend>
}

/**
 * Creates a DMTP client.
 * @example
 * import { createClient } from '@dmtp/sdk'
 * import { privateKeyToAccount } from 'viem/accounts'
 * const client = createClient({ server: 'http://localhost:8787', wallet: privateKeyToAccount(key) })
 * await client.setup()
 * await client.send('0xB0b…', 'gm')
 */
export function createClientBase(parameters: CreateClientParameters): DmtpClientBase {
  let wallet: Promise<DmtpWallet> | undefined
  let crypto: Promise<CryptoBackend> | undefined
  return {
    server: parameters.server.replace(/\/$/, ''),
    http: createHttpTransport({ url: parameters.server, fetch: parameters.fetch, apiKey: parameters.apiKey }),
    apiKey: parameters.apiKey,
    chain: parameters.chain,
    storage: parameters.storage ?? { ...memoryStorage(), volatile: true },
    fetch: parameters.fetch ?? ((input, init) => globalThis.fetch(input, init)),
    WebSocket: parameters.WebSocket,
    state: {
      session: undefined,
      info: undefined,
      ownKeys: new Map(),
      currentCid: undefined,
      bundles: new Map(),
      currentOf: new Map(),
      newestBundles: new Map(),
      keyWarnings: new Map(),
      conversationKeys: new Map(),
      rooms: new Map(),
      roomInfo: new Map(),
      roomLogs: new Map(),
      socket: undefined,
      sent: new Map(),
      outbox: new Map(),
      receipts: new Map(),
      roomKeys: new Map(),
      forks: new Map(),
      forkListeners: new Set(),
    },
    getWallet() {
      const input = parameters.wallet
      wallet ??= input ? resolveWallet(input) : Promise.reject(new WalletRequiredError())
      return wallet
    },
    getCrypto() {
      crypto ??= parameters.crypto ? Promise.resolve(parameters.crypto) : detectCryptoBackend()
      return crypto
    },
  }
}
