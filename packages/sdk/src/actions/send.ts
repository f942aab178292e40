/**
 * Sends a 1:1 message (seed 001, pattern α): fetch and verify the receiver's key bundle, derive the
 * combined key, encrypt and sign on this device, upload. Resolves once the server has stored it.
 * Uses the open stream when there is one (no extra connection), HTTP otherwise; a retry after a
 * network failure is safe, the server deduplicates by message id.
 */
import {
  ApiError,
  type Envelope,
  MAX_TEXT_LENGTH,
  P2P_SUITE,
  RELAY_SUITE,
  roomResponseSchema,
  sealEnvelope,
  sendMessageResponseSchema,
  signAuthor,
  toBase64Url,
  toBlock,
} from '@dmtp/protocol'
import { getAddress } from 'viem/utils'
import { conversationKey, currentKeys } from '../_keyring.js'
import { forgetServerKey, serverKey } from '../_server-key.js'
import { authedRequest } from '../_session.js'
import type { DmtpClientBase } from '../client.js'
import { RecipientNotRegisteredError, type ServerKeyRejectedError } from '../errors.js'
import { forgetCurrentBundle, requireCurrentBundle } from './get-key-bundle.js'

export type SendParameters = {
  to: string
  text: string
  /**
   * To a wallet that has not set up DMTP: encrypt to the server's key until it does (pattern β,
   * the default), or refuse with `RecipientNotRegisteredError` (`false`).
   */
  relay?: boolean | undefined
}

export type SendReturnType = {
  id: string
  room: string
  cid: string
  seq: number
  receivedAt: string
  /** True for pattern α; false when the message went to the server's key (pattern β). */
  e2ee: boolean
  /** Said plainly when `e2ee` is false: why, and what happens next. */
  notice?: string | undefined
}

export type SendErrorType = RecipientNotRegisteredError | ServerKeyRejectedError | ApiError | Error

/**
 * @example
 * import { send } from '@dmtp/sdk'
 * const { id, e2ee, notice } = await send(client, { to: '0xB0b…', text: 'gm' })
 * if (!e2ee) console.warn(notice)
 */
export async function send(client: DmtpClientBase, { to, text, relay = true }: SendParameters): Promise<SendReturnType> {
  if (typeof text !== 'string' || text.length === 0) throw new TypeError('"text" expected a non-empty string')
  if (text.length > MAX_TEXT_LENGTH)
    throw new RangeError(`"text" expected at most ${MAX_TEXT_LENGTH} characters, got ${text.length}`)
  const receiver = getAddress(to)
  const wallet = await client.getWallet()
  if (receiver === wallet.address) throw new TypeError('"to" cannot be your own address')
  for (let attempt = 0; ; attempt++) {
    try {
      return await sendOnce(client, receiver, text, relay)
    } catch (error) {
      // Keys changed between fetch and send: a rotation, or the receiver just set up.
      if (attempt === 0 && error instanceof ApiError && (error.code === 'stale_key' || error.code === 'recipient_registered')) {
        forgetCurrentBundle(client, receiver)
        forgetServerKey(client)
        client.state.currentCid = undefined
        continue
      }
      throw error
    }
  }
}

async function sendOnce(client: DmtpClientBase, receiver: string, text: string, relay: boolean): Promise<SendReturnType> {
  const [wallet, crypto] = await Promise.all([client.getWallet(), client.getCrypto()])
  const [own, peer] = await Promise.all([currentKeys(client), requireCurrentBundle(client, receiver)])
  if (!peer && !relay) throw new RecipientNotRegisteredError({ address: receiver })
  const target = peer ?? (await serverKey(client))
  // The room is created only once the message can go: a refused send leaves nothing behind.
  const [room, key] = await Promise.all([
    roomWith(client, receiver),
    conversationKey(client, { cid: own.cid, keys: own.keys, address: wallet.address }, target),
  ])
  const header = {
    v: 1 as const,
    suite: peer ? (P2P_SUITE as typeof P2P_SUITE) : (RELAY_SUITE as typeof RELAY_SUITE),
    id: toBase64Url(crypto.randomBytes(16)),
    room,
    sender: wallet.address,
    receiver,
    timestamp: new Date().toISOString(),
    senderKey: own.cid,
    receiverKey: target.cid,
  }
  // A relayed message is signed inside too, so the server that can read it can never alter it.
  const author = peer
    ? undefined
    : await signAuthor(crypto, { message: { ...header, text }, signingKey: own.keys.ed25519.secretKey, key: own.cid })
  const envelope = await sealEnvelope(crypto, {
    header,
    content: { type: 'text', text, ...(author ? { author } : {}) },
    key,
    signingKey: own.keys.ed25519.secretKey,
  })
  rememberSent(client, toBlock(envelope, crypto.sha256).cid, text)
  const result = await deliver(client, envelope)
  if (peer) return result
  return {
    ...result,
    notice: `${receiver} has not set up DMTP yet: this message is encrypted to the DMTP server, which can read it, until they do; then it is made end-to-end encrypted and the server's copy deleted.`,
  }
}

async function deliver(client: DmtpClientBase, envelope: Envelope): Promise<SendReturnType> {
  const socket = client.state.socket
  if (socket?.isConnected) {
    try {
      return await socket.sendEnvelope(envelope)
    } catch (error) {
      if (!(error instanceof ApiError && error.code === 'unavailable')) throw error
    }
  }
  return authedRequest(client, { method: 'POST', path: '/v1/messages', body: envelope, schema: sendMessageResponseSchema })
}

const MAX_REMEMBERED = 10_000

/**
 * The sender's own stream echoes each message back; remembering what was sent by CID lets the
 * echo skip a signature check and a decryption of bytes this client made itself.
 */
function rememberSent(client: DmtpClientBase, cid: string, text: string): void {
  if (client.state.sent.size >= MAX_REMEMBERED) client.state.sent.clear()
  client.state.sent.set(cid, text)
}

/** The room id shared with `peer`, created by the server on first contact. @internal */
export async function roomWith(client: DmtpClientBase, peer: string): Promise<string> {
  const known = client.state.rooms.get(peer)
  if (known) return known
  const { room } = await authedRequest(client, { method: 'POST', path: '/v1/rooms', body: { peer }, schema: roomResponseSchema })
  client.state.rooms.set(peer, room.id)
  return room.id
}
