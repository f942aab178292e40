/**
 * Group rooms for server tests, on @dmtp/protocol only (server tests must not import the SDK):
 * `GroupWallet` is a {@link TestWallet} that signs membership-log events and the signed envelopes
 * of rooms without E2EE, with every field open to forgery, and reads rooms, logs, members and
 * history over raw HTTP. Times follow the clock given (the server's `TestClock`), so expiry tests
 * sign at the server's "now".
 */
import {
  type LogEntry,
  type LogRecord,
  type Member,
  type MessageContent,
  type RoomActionType,
  type RoomEvent,
  type RoomEventBody,
  RoomLogState,
  SIGNED_SUITE,
  type SignedEnvelope,
  sealSignedEnvelope,
  signRoomEvent,
  toBase64Url,
  toBlock,
  type UnsignedRoomEvent,
  verifyInviteLinkSignature,
  verifyRoomEventSignature,
} from '@dmtp/protocol'
import { nodeCryptoBackend as crypto } from '@dmtp/protocol/node'
import type { TestServer } from './_util.js'
import { type ApiResponse, api, TestWallet } from './_wallet.js'

export type Now = () => Date

export type SignEventOptions = {
  /** The newest room position seen (default 0, always acceptable). */
  basis?: number
  /** Signed over: replace any field of the event (actor, actorKey, room, at, id…). */
  overrides?: Partial<Record<string, unknown>>
  /** Sign with another key than this wallet's (a forgery). */
  signingKey?: Uint8Array
}

export type SealOptions = {
  type?: Exclude<RoomActionType, 'message'> | undefined
  ref?: string | undefined
  /** The log head the sender saw (default the newest this process knows of). */
  logHead?: string
  /** Signed over: replace any header field (sender, senderKey, room, timestamp, id…). */
  overrides?: Partial<SignedEnvelope>
  signingKey?: Uint8Array
}

export type CreateRoomOptions = {
  type?: 'public' | 'private'
  name?: string
  description?: string
  announce?: boolean
}

/** The newest log entry CID of each room, as seen by any wallet of this process. */
const heads = new Map<string, string>()
/** A CID no log has: the log head for rooms that do not exist. */
const NO_HEAD = toBlock({ none: true }).cid

export function randomId(): string {
  return toBase64Url(crypto.randomBytes(16))
}

export class GroupWallet extends TestWallet {
  constructor(
    baseUrl: string,
    readonly now: Now = () => new Date(),
  ) {
    super(baseUrl)
  }

  /** A signed-in wallet with registered keys. */
  static async create(server: TestServer, now?: Now): Promise<GroupWallet> {
    return new GroupWallet(server.url, now).setup()
  }

  /** Signs a room event as this wallet (or as `overrides` say). */
  async signEvent(
    room: string,
    body: RoomEventBody,
    { basis = 0, overrides = {}, signingKey }: SignEventOptions = {},
  ): Promise<RoomEvent> {
    const event = {
      v: 1,
      id: randomId(),
      room,
      actor: this.address,
      actorKey: this.bundleCid,
      at: this.now().toISOString(),
      basis,
      ...body,
      ...overrides,
    } as UnsignedRoomEvent
    return signRoomEvent(crypto, { event, signingKey: signingKey ?? this.keys.ed25519.secretKey })
  }

  /** POSTs an event as it is (signed earlier, or forged) to `/v1/rooms/:room/events`. */
  async postEvent(room: string, event: unknown, token = this.token): Promise<ApiResponse> {
    const response = await api(this.baseUrl, 'POST', `/v1/rooms/${room}/events`, { token, body: { event } })
    if (response.status === 200 && response.body.entry) heads.set(room, response.body.entry.cid)
    return response
  }

  /** Signs and posts an event. */
  async act(room: string, body: RoomEventBody, options: SignEventOptions = {}): Promise<ApiResponse> {
    return this.postEvent(room, await this.signEvent(room, body, options))
  }

  /** Like {@link act}, and throws unless the server accepted it. */
  async must(room: string, body: RoomEventBody, options: SignEventOptions = {}): Promise<ApiResponse> {
    const response = await this.act(room, body, options)
    if (response.status !== 200) throw new Error(`${body.type} by ${this.address} failed: ${response.text}`)
    return response
  }

  /** A signed `create` event for a new random room id. */
  async createEvent(options: CreateRoomOptions = {}, sign: SignEventOptions = {}): Promise<RoomEvent> {
    const { type = 'public', name = 'Room', description = '', announce = false } = options
    return this.signEvent(randomId(), { type: 'create', roomType: type, name, description, announce, avatar: null }, sign)
  }

  async postCreate(event: unknown, token = this.token): Promise<ApiResponse> {
    const response = await api(this.baseUrl, 'POST', '/v1/rooms', { token, body: { event } })
    if (response.status === 200 && response.body.room.logHead) heads.set(response.body.room.id, response.body.room.logHead.cid)
    return response
  }

  /** Creates a group and returns its id. */
  async createRoom(options: CreateRoomOptions = {}): Promise<string> {
    const response = await this.postCreate(await this.createEvent(options))
    if (response.status !== 200) throw new Error(`create failed: ${response.text}`)
    return response.body.room.id
  }

  /** Makes and signs a message of a room without E2EE. */
  async sealSigned(
    room: string,
    content: MessageContent,
    { type, ref, logHead, overrides = {}, signingKey }: SealOptions = {},
  ): Promise<{ envelope: SignedEnvelope; content: MessageContent }> {
    const sealed = await sealSignedEnvelope(crypto, {
      header: {
        v: 1,
        suite: SIGNED_SUITE,
        id: randomId(),
        room,
        sender: this.address,
        senderKey: this.bundleCid,
        timestamp: this.now().toISOString(),
        logHead: logHead ?? heads.get(room) ?? NO_HEAD,
        ...(type !== undefined ? { type } : {}),
        ...(ref !== undefined ? { ref } : {}),
        ...overrides,
      },
      content,
      signingKey: signingKey ?? this.keys.ed25519.secretKey,
    })
    return { envelope: sealed.envelope, content }
  }

  /** POSTs a signed envelope and its content as they are. */
  async postSigned(envelope: unknown, content: unknown, token = this.token): Promise<ApiResponse> {
    return api(this.baseUrl, 'POST', '/v1/messages', { token, body: { envelope, ...(content === undefined ? {} : { content }) } })
  }

  /** Posts a text message (or, with `type`, an edit). */
  async say(room: string, text: string, options: SealOptions & { mentions?: string[] } = {}): Promise<ApiResponse> {
    const content: MessageContent = { type: 'text', text, ...(options.mentions ? { mentions: options.mentions } : {}) }
    const { envelope } = await this.sealSigned(room, content, options)
    return this.postSigned(envelope, content)
  }

  /** Like {@link say}, and returns the message id; throws unless the server accepted it. */
  async said(room: string, text: string): Promise<string> {
    const response = await this.say(room, text)
    if (response.status !== 200) throw new Error(`send by ${this.address} failed: ${response.text}`)
    return response.body.id
  }

  async react(room: string, ref: string, emoji = '👍'): Promise<ApiResponse> {
    const content: MessageContent = { type: 'reaction', emoji }
    return this.postSigned((await this.sealSigned(room, content, { type: 'react', ref })).envelope, content)
  }

  async edit(room: string, ref: string, text: string): Promise<ApiResponse> {
    return this.say(room, text, { type: 'edit', ref })
  }

  /** A recall, pin or unpin of message `ref`. */
  async plain(room: string, type: 'recall' | 'pin' | 'unpin', ref: string): Promise<ApiResponse> {
    const content: MessageContent = { type: 'none' }
    return this.postSigned((await this.sealSigned(room, content, { type, ref })).envelope, content)
  }

  get(path: string): Promise<ApiResponse> {
    return api(this.baseUrl, 'GET', path, { token: this.token })
  }

  async room(room: string): Promise<ApiResponse> {
    return this.get(`/v1/rooms/${room}`)
  }

  async log(room: string, after = 0): Promise<LogRecord[]> {
    const response = await this.get(`/v1/rooms/${room}/log?after=${after}`)
    if (response.status !== 200) throw new Error(`log failed: ${response.text}`)
    return response.body.entries
  }

  async members(room: string, status = 'member'): Promise<Member[]> {
    const response = await this.get(`/v1/rooms/${room}/members?status=${status}&limit=500`)
    if (response.status !== 200) throw new Error(`members failed: ${response.text}`)
    return response.body.members
  }

  /** The whole history of a room (messages and log entries), oldest first. */
  async history(room: string): Promise<any[]> {
    const response = await this.get(`/v1/rooms/${room}/messages?order=asc&limit=500`)
    if (response.status !== 200) throw new Error(`history failed: ${response.text}`)
    return response.body.messages
  }
}

/** Signs in and sets up `count` wallets, in parallel. */
export async function groupWallets(server: TestServer, count: number, now?: Now): Promise<GroupWallet[]> {
  return Promise.all(Array.from({ length: count }, () => GroupWallet.create(server, now)))
}

/** The role of each member, as the members API says. */
export async function rolesOf(reader: GroupWallet, room: string): Promise<Record<string, string>> {
  return Object.fromEntries((await reader.members(room)).map((member) => [member.address, member.role]))
}

export type ReplayProblem = { index: number; type: string; problem: string }

/**
 * What a client does with a served log: checks each entry's signature against its actor's key
 * (`keys`: bundle CID → Ed25519 public key) and any invite link's against its issuer's, and
 * replays it with {@link RoomLogState}. Returns the state and every entry it flags.
 */
export function replayLog(
  room: string,
  records: LogRecord[],
  keys: Map<string, Uint8Array>,
): Promise<{ state: RoomLogState; problems: ReplayProblem[] }> {
  return replayEntries(
    room,
    records.map((record) => ({ entry: record.entry as LogEntry, cid: record.cid })),
    keys,
  )
}

async function replayEntries(
  room: string,
  entries: { entry: LogEntry; cid: string }[],
  keys: Map<string, Uint8Array>,
): Promise<{ state: RoomLogState; problems: ReplayProblem[] }> {
  const state = new RoomLogState(room)
  const problems: ReplayProblem[] = []
  for (const { entry, cid } of entries) {
    const key = keys.get(entry.event.actorKey)
    const signed = key !== undefined && (await verifyRoomEventSignature(crypto, entry.event, key))
    // A join or request by invite link: the link's issuer signed it too.
    const link = 'link' in entry.event ? entry.event.link : undefined
    const issuerKey = link && keys.get(link.issuerKey)
    const linkSigned = !link || (issuerKey !== undefined && (await verifyInviteLinkSignature(crypto, link, issuerKey)))
    const applied = state.apply(entry, cid)
    if (!signed) problems.push({ index: entry.index, type: entry.event.type, problem: 'signature does not verify' })
    if (!linkSigned)
      problems.push({ index: entry.index, type: entry.event.type, problem: 'invite link signature does not verify' })
    if (!applied.ok) problems.push({ index: entry.index, type: entry.event.type, problem: applied.problem })
  }
  return { state, problems }
}

/** Bundle CID → Ed25519 public key of each wallet (what a client fetches by `actorKey`). */
export function keyring(wallets: TestWallet[]): Map<string, Uint8Array> {
  return new Map(wallets.map((wallet) => [wallet.bundleCid, wallet.keys.ed25519.publicKey]))
}

/** Raises the per-address HTTP rate limit: a table test makes thousands of calls a minute. */
export function unlimited(config: {
  limits: { requestsPerMinute: number; messagesPerSecond: number; messageBurst: number }
}): void {
  config.limits.requestsPerMinute = 1_000_000
  config.limits.messagesPerSecond = 100_000
  config.limits.messageBurst = 100_000
}
