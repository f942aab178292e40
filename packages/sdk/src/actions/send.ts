/**
 * Sends a message: to a wallet (1:1, pattern α; to a wallet that has not set up DMTP, relayed
 * through the server's verified key until it does: pattern β), or to a room of any type. Made,
 * encrypted where the room is end-to-end encrypted, and signed on this device; resolves once the
 * server has stored it.
 */
import { MAX_MENTIONS, MAX_TEXT_LENGTH } from '@dmtp/protocol'
import { getAddress } from 'viem/utils'
import { type PostResult, post } from '../_post.js'
import type { DmtpClientBase } from '../client.js'
import type { ApiError, RecipientNotRegisteredError, ServerKeyRejectedError } from '../errors.js'

export type SendParameters = {
  /** The peer's address, for 1:1 (the room is opened on first contact). */
  to?: string | undefined
  /** Or the room to post in. */
  room?: string | undefined
  text: string
  /** The id of the message this one replies to. */
  replyTo?: string | undefined
  /** Addresses to highlight the message for. */
  mentions?: string[] | undefined
  /**
   * To a wallet that has not set up DMTP: encrypt to the server's key until it does (pattern β,
   * the default), or refuse with `RecipientNotRegisteredError` (`false`).
   */
  relay?: boolean | undefined
  /**
   * Your id for this send (e.g. a pending bubble's): `send()` again with the same id is a retry
   * and never stores a second copy. On this client it resends the same envelope and resolves with
   * the first result; from another process it fails with `message_id_conflict` (already stored).
   */
  clientMessageId?: string | undefined
  /**
   * In a private room with E2EE on that allows the per-message choice: send this one in plaintext,
   * readable by the server (the message shows `e2ee: false`). Refused (`e2ee_required`) elsewhere.
   */
  plain?: boolean | undefined
}

export type SendReturnType = PostResult

export type SendErrorType = RecipientNotRegisteredError | ServerKeyRejectedError | ApiError | Error

/**
 * @example
 * import { send } from '@dmtp/sdk'
 * const { id, e2ee, notice } = await send(client, { to: '0xB0b…', text: 'gm' })
 * await send(client, { room, text: 'welcome!', replyTo: id })
 * if (!e2ee) console.warn(notice)
 */
export async function send(
  client: DmtpClientBase,
  { to, room, text, replyTo, mentions, relay, clientMessageId, plain }: SendParameters,
): Promise<SendReturnType> {
  if (typeof text !== 'string' || text.length === 0) throw new TypeError('"text" expected a non-empty string')
  if (text.length > MAX_TEXT_LENGTH)
    throw new RangeError(`"text" expected at most ${MAX_TEXT_LENGTH} characters, got ${text.length}`)
  if ((to === undefined) === (room === undefined)) throw new TypeError('"to" or "room" expected (one of them)')
  if (mentions && mentions.length > MAX_MENTIONS)
    throw new RangeError(`"mentions" expected at most ${MAX_MENTIONS}, got ${mentions.length}`)
  if (
    clientMessageId !== undefined &&
    (typeof clientMessageId !== 'string' || clientMessageId.length === 0 || clientMessageId.length > 200)
  )
    throw new TypeError('"clientMessageId" expected a string of 1 to 200 characters')
  const wallet = await client.getWallet()
  const receiver = to === undefined ? undefined : getAddress(to)
  if (receiver === wallet.address) throw new TypeError('"to" cannot be your own address')
  const normalized = mentions?.map((address) => getAddress(address))
  return post(client, {
    to: receiver,
    room,
    ref: replyTo,
    relay,
    clientMessageId,
    plain,
    content: { type: 'text', text, ...(normalized?.length ? { mentions: normalized } : {}) },
  })
}
