/**
 * Posts a message or message action to a room, in the room's format: in a 1:1 room encrypted with
 * the pair key (or, to a wallet without keys, relayed through the server's key: pattern β); in a
 * room without E2EE signed, with its content as a block of its own. Made and signed on this
 * device; sent over the open stream when there is one, HTTP otherwise. A retry after a network
 * failure is safe: the server deduplicates by message id, and a send with a `clientMessageId`
 * this client already made delivers the same envelope again (the server answers with the first
 * result), so an app retrying `send()` never stores a second copy.
 *
 * An ack counts only with a receipt signed by the server's verified key for exactly this envelope
 * (protocol.md §5.6); the receipt is kept, and later history reads are held to it (`_receipts.ts`).
 * @internal
 */
import {
  type ActionType,
  ApiError,
  type CryptoBackend,
  type Envelope,
  type EnvelopeHeader,
  GROUP_SUITE,
  type MessageContent,
  P2P_SUITE,
  RELAY_SUITE,
  type Receipt,
  type RoomEncryption,
  type SendMessageResult,
  SIGNED_SUITE,
  sealEnvelope,
  sealGroupEnvelope,
  sealSignedEnvelope,
  sendMessageResponseSchema,
  signAuthor,
  toBase64Url,
  toBlock,
} from '@dmtp/protocol'
import { conversationKey, currentKeys } from './_keyring.js'
import { checkAck, holdReceipt } from './_receipts.js'
import { keyRing, rotateRoomKey, syncRoomKeys } from './_room-keys.js'
import { roomLog } from './_room-log.js'
import { roomInfo } from './_rooms.js'
import { forgetServerKey, serverKey } from './_server-key.js'
import { authedRequest } from './_session.js'
import { forgetCurrentBundle, keyCheckWarning, requireCurrentBundle } from './actions/get-key-bundle.js'
import { openDirect } from './actions/open-direct.js'
import type { DmtpClientBase, SentEnvelope } from './client.js'
import { RecipientNotRegisteredError } from './errors.js'

export type PostResult = {
  id: string
  room: string
  cid: string
  seq: number
  receivedAt: string
  /** True for end-to-end encrypted messages; false for pattern β and rooms without E2EE. */
  e2ee: boolean
  /** Said plainly when `e2ee` is false: why, and what happens next. */
  notice?: string | undefined
  /** The server's signed receipt, verified: its word that the message is stored at `seq`. */
  receipt: Receipt
  /**
   * Set on every send to a wallet whose key (or "no keys" answer) could not be checked against the
   * chain: a rolled-back, swapped or hidden key would not be caught.
   */
  warning?: string | undefined
}

export type PostParameters = {
  /** A room id, or for 1:1 the peer's address (`to`). */
  room?: string | undefined
  to?: string | undefined
  type?: ActionType | undefined
  /** The message acted on, or replied to. */
  ref?: string | undefined
  content: MessageContent
  /** To a wallet without keys: relay through the server (default) or refuse. */
  relay?: boolean | undefined
  /** The app's id for this send; the same id again is a retry of it, not a new message. */
  clientMessageId?: string | undefined
  /** In a private room with E2EE on that allows it: send this message in plaintext (marked so). */
  plain?: boolean | undefined
}

export async function post(client: DmtpClientBase, parameters: PostParameters): Promise<PostResult> {
  const retried = parameters.clientMessageId === undefined ? undefined : client.state.outbox.get(parameters.clientMessageId)
  if (retried) return { ...(await deliver(client, retried.envelope, retried.content)), notice: retried.notice }
  for (let attempt = 0; ; attempt++) {
    try {
      return await postOnce(client, parameters)
    } catch (error) {
      // Keys changed between fetch and send: a rotation, or the receiver just set up.
      if (attempt === 0 && error instanceof ApiError && (error.code === 'stale_key' || error.code === 'recipient_registered')) {
        if (parameters.to) forgetCurrentBundle(client, parameters.to)
        for (const peer of client.state.rooms.keys()) forgetCurrentBundle(client, peer)
        forgetServerKey(client)
        client.state.currentCid = undefined
        continue
      }
      // E2EE was turned on since this client last looked: learn the room's state and encrypt.
      if (attempt === 0 && parameters.room && !parameters.plain && error instanceof ApiError && error.code === 'e2ee_required') {
        keyRing(client, parameters.room).encryption = undefined
        continue
      }
      throw error
    }
  }
}

async function postOnce(client: DmtpClientBase, parameters: PostParameters): Promise<PostResult> {
  const wallet = await client.getWallet()
  if (parameters.room) {
    const info = await roomInfo(client, parameters.room)
    if (info.type === 'private' && !parameters.plain) {
      const encryption = keyRing(client, parameters.room).encryption ?? (await syncRoomKeys(client, parameters.room))
      if (encryption.e2ee) return postGroup(client, { ...parameters, room: parameters.room })
    }
    if (info.type !== 'p2p') return postSigned(client, { ...parameters, room: parameters.room })
    const peer = info.pair?.find((address) => address !== wallet.address)
    if (!peer) throw new TypeError('"room" expected a 1:1 room of this wallet')
    return postPair(client, { ...parameters, to: peer, room: parameters.room })
  }
  if (!parameters.to) throw new TypeError('"room" or "to" expected')
  return postPair(client, { ...parameters, to: parameters.to })
}

async function postPair(
  client: DmtpClientBase,
  { to: receiver, room, type, ref, content, relay = true, clientMessageId }: PostParameters & { to: string },
): Promise<PostResult> {
  const [wallet, crypto] = await Promise.all([client.getWallet(), client.getCrypto()])
  const [own, peer] = await Promise.all([currentKeys(client), requireCurrentBundle(client, receiver)])
  if (!peer && (!relay || type !== undefined || ref !== undefined || content.type !== 'text')) {
    // Replies and actions need the receiver's keys: a relayed message is a plain text.
    throw new RecipientNotRegisteredError({ address: receiver })
  }
  const target = peer ?? (await serverKey(client))
  // The room is created only once the message can go: a refused send leaves nothing behind.
  const [roomId, key] = await Promise.all([
    room ?? openDirect(client, { peer: receiver }),
    conversationKey(client, { cid: own.cid, keys: own.keys, address: wallet.address }, target),
  ])
  const header = {
    v: 1 as const,
    suite: peer ? (P2P_SUITE as typeof P2P_SUITE) : (RELAY_SUITE as typeof RELAY_SUITE),
    id: messageId(crypto, wallet.address, clientMessageId),
    room: roomId,
    sender: wallet.address,
    receiver,
    timestamp: new Date().toISOString(),
    senderKey: own.cid,
    receiverKey: target.cid,
    ...(type !== undefined ? { type } : {}),
    ...(ref !== undefined ? { ref } : {}),
  } as EnvelopeHeader
  // A relayed message is signed inside too, so the server that can read it can never alter it.
  const author =
    peer || content.type !== 'text'
      ? undefined
      : await signAuthor(crypto, {
          message: { ...header, text: content.text },
          signingKey: own.keys.ed25519.secretKey,
          key: own.cid,
        })
  const sealed = author ? { ...content, author } : content
  const envelope = await sealEnvelope(crypto, { header, content: sealed, key, signingKey: own.keys.ed25519.secretKey })
  const cid = toBlock(envelope, crypto.sha256).cid
  rememberSent(client, cid, sealed)
  const notice = peer
    ? undefined
    : `${receiver} has not set up DMTP yet: this message is encrypted to the DMTP server, which can read it, until they do; then it is made end-to-end encrypted and the server's copy deleted.`
  remember(client, clientMessageId, { envelope, content: undefined, notice })
  const warning = keyCheckWarning(client, receiver)
  return { ...(await deliver(client, envelope, undefined, cid)), notice, ...(warning ? { warning } : {}) }
}

async function postSigned(
  client: DmtpClientBase,
  { room, type, ref, content, clientMessageId }: PostParameters & { room: string },
): Promise<PostResult> {
  const { crypto, own, fields } = await roomHeaderFields(client, { room, type, ref, clientMessageId })
  const { envelope } = await sealSignedEnvelope(crypto, {
    header: { v: 1, suite: SIGNED_SUITE, ...fields },
    content,
    signingKey: own.keys.ed25519.secretKey,
  })
  const notice =
    'This room is not end-to-end encrypted: the server and anyone who can read the room see this message; it is signed by you.'
  remember(client, clientMessageId, { envelope, content, notice })
  return { ...(await deliver(client, envelope, content)), notice }
}

/** What every room message's header holds: id, room, sender and key, time, the log head seen, the action. */
async function roomHeaderFields(
  client: DmtpClientBase,
  { room, type, ref, clientMessageId }: Pick<PostParameters, 'type' | 'ref' | 'clientMessageId'> & { room: string },
) {
  const [wallet, crypto, own] = await Promise.all([client.getWallet(), client.getCrypto(), currentKeys(client)])
  const log = roomLog(client, room)
  if (!log.head) await log.sync()
  const head = log.head
  if (!head) throw new ApiError({ code: 'room_not_found', message: 'This room has no membership log.' })
  const fields = {
    id: messageId(crypto, wallet.address, clientMessageId),
    room,
    sender: wallet.address,
    senderKey: own.cid,
    timestamp: new Date().toISOString(),
    logHead: head.cid,
    ...(type !== undefined ? { type } : {}),
    ...(ref !== undefined ? { ref } : {}),
  }
  return { crypto, own, fields }
}

const MAX_GROUP_ATTEMPTS = 4

/**
 * A private-group message under the room's current epoch: rotating first when the room is due
 * (a member left or was removed, one joined, the key is old), never after, so no one removed reads
 * it. The server refuses a message under a stale epoch with what to rotate from (`stale_epoch`).
 */
async function postGroup(
  client: DmtpClientBase,
  { room, type, ref, content, clientMessageId }: PostParameters & { room: string },
): Promise<PostResult> {
  const ring = keyRing(client, room)
  for (let attempt = 1; ; attempt++) {
    let encryption = ring.encryption ?? (await syncRoomKeys(client, room))
    if (encryption.due === null && !ring.keys.has(encryption.epoch)) encryption = await syncRoomKeys(client, room)
    if (encryption.due !== null || !ring.keys.has(encryption.epoch)) encryption = await rotateRoomKey(client, room)
    const roomKey = ring.keys.get(encryption.epoch)
    if (!roomKey) throw new ApiError({ code: 'stale_epoch', message: `No key of epoch ${encryption.epoch} for this room.` })
    const { crypto, own, fields } = await roomHeaderFields(client, { room, type, ref, clientMessageId })
    const envelope = await sealGroupEnvelope(crypto, {
      header: { v: 1, suite: GROUP_SUITE, epoch: roomKey.epoch, ...fields },
      content,
      roomKey,
      signingKey: own.keys.ed25519.secretKey,
    })
    const cid = toBlock(envelope, crypto.sha256).cid
    rememberSent(client, cid, content)
    try {
      const delivered = await deliver(client, envelope, undefined, cid)
      remember(client, clientMessageId, { envelope, content: undefined, notice: undefined })
      return delivered
    } catch (error) {
      if (!(error instanceof ApiError) || attempt >= MAX_GROUP_ATTEMPTS) throw error
      if (error.code === 'stale_epoch') ring.encryption = encryptionAfter(encryption, error)
      else if (error.code === 'e2ee_off') return postSigned(client, { room, type, ref, content, clientMessageId })
      else throw error
    }
  }
}

/** The room's state as a `stale_epoch` refusal tells it (then refreshed when it says too little). */
function encryptionAfter(known: RoomEncryption, error: ApiError): RoomEncryption | undefined {
  const { epoch, keyId, due } = error.data ?? {}
  if (typeof epoch !== 'number') return undefined
  return {
    ...known,
    epoch,
    keyId: typeof keyId === 'string' ? keyId : null,
    due: typeof due === 'string' ? (due as RoomEncryption['due']) : null,
  }
}

/**
 * A random message id, or one derived from the app's `clientMessageId` (and the sender, so two
 * wallets' ids never collide): a retry from a fresh process, whose envelope differs, then meets
 * the first one's id and gets `message_id_conflict` instead of storing a second copy.
 */
function messageId(crypto: CryptoBackend, sender: string, clientMessageId: string | undefined): string {
  if (clientMessageId === undefined) return toBase64Url(crypto.randomBytes(16))
  const seed = new TextEncoder().encode(`dmtp/v1/client-message-id\n${sender}\n${clientMessageId}`)
  return toBase64Url(crypto.sha256(seed).slice(0, 16))
}

function remember(client: DmtpClientBase, clientMessageId: string | undefined, sent: SentEnvelope): void {
  if (clientMessageId === undefined) return
  const { outbox } = client.state
  if (outbox.size >= MAX_REMEMBERED) outbox.delete(outbox.keys().next().value as string)
  outbox.set(clientMessageId, sent)
}

/**
 * Sends over the stream or HTTP, and resolves only with an ack whose receipt verifies.
 * @throws {ReceiptRejectedError}
 */
async function deliver(
  client: DmtpClientBase,
  envelope: Envelope,
  content?: MessageContent,
  cid?: string,
): Promise<Omit<PostResult, 'notice'>> {
  const acked = await send(client, envelope, content)
  const ownCid = cid ?? toBlock(envelope, (await client.getCrypto()).sha256).cid
  const signed = await checkAck(client, acked, { id: envelope.id, room: envelope.room, cid: ownCid })
  await holdReceipt(client, signed)
  return { ...acked, receipt: signed.receipt }
}

async function send(client: DmtpClientBase, envelope: Envelope, content?: MessageContent): Promise<SendMessageResult> {
  const socket = client.state.socket
  if (socket?.isConnected) {
    try {
      return await socket.sendEnvelope(envelope, content)
    } catch (error) {
      if (!(error instanceof ApiError && error.code === 'unavailable')) throw error
    }
  }
  return authedRequest(client, {
    method: 'POST',
    path: '/v1/messages',
    body: { envelope, ...(content ? { content } : {}) },
    schema: sendMessageResponseSchema,
  })
}

const MAX_REMEMBERED = 10_000

/**
 * The sender's own stream echoes each message back; remembering what was sent by CID lets the
 * echo skip a decryption of bytes this client made itself.
 */
function rememberSent(client: DmtpClientBase, cid: string, content: MessageContent): void {
  if (client.state.sent.size >= MAX_REMEMBERED) client.state.sent.clear()
  client.state.sent.set(cid, content)
}
