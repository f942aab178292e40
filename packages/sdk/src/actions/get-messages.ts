/**
 * Reads a room's history by cursor (pass `nextCursor` back for the next page): its messages,
 * actions and membership changes (system lines), each verified (and decrypted) on this device;
 * one that fails a check says why in `status`. `foldMessages` turns them into a timeline.
 */
import { messagesResponseSchema } from '@dmtp/protocol'
import { getAddress } from 'viem/utils'
import { type DecryptedMessage, decryptRecord } from '../_decrypt.js'
import { authedRequest } from '../_session.js'
import type { DmtpClientBase } from '../client.js'
import { openDirect } from './open-direct.js'

export type GetMessagesParameters = {
  /** The room; or, for 1:1, the peer's address. */
  room?: string | undefined
  peer?: string | undefined
  /** The `seq` to continue after (exclusive); omit for the start (asc) or the end (desc). */
  cursor?: number | undefined
  limit?: number | undefined
  /** `asc` (oldest first, default) or `desc` (newest first, for chat views loading upwards). */
  order?: 'asc' | 'desc' | undefined
}

export type GetMessagesReturnType = { messages: DecryptedMessage[]; nextCursor: number | null }

/**
 * @example
 * import { foldMessages, getMessages } from '@dmtp/sdk'
 * let page = await getMessages(client, { room })
 * while (page.nextCursor !== null) page = await getMessages(client, { room, cursor: page.nextCursor })
 */
export async function getMessages(
  client: DmtpClientBase,
  { room, peer, cursor, limit = 50, order = 'asc' }: GetMessagesParameters,
): Promise<GetMessagesReturnType> {
  if ((room === undefined) === (peer === undefined)) throw new TypeError('"room" or "peer" expected (one of them)')
  const id = room ?? (await openDirect(client, { peer: getAddress(peer as string) }))
  const response = await authedRequest(client, {
    method: 'GET',
    path: `/v1/rooms/${id}/messages`,
    query: { cursor, limit, order },
    schema: messagesResponseSchema,
  })
  // In order, so that log entries are replayed before the messages placed after them.
  const ascending = order === 'asc' ? response.messages : [...response.messages].reverse()
  const read: DecryptedMessage[] = []
  for (const record of ascending) {
    const message = await decryptRecord(client, record)
    read.push(message.room === id ? message : { ...message, text: null, status: 'altered' })
  }
  return { messages: order === 'asc' ? read : read.reverse(), nextCursor: response.nextCursor }
}
