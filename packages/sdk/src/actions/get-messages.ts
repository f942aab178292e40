/**
 * Reads the history with a peer, by cursor: pass `nextCursor` back to get the next page. Each
 * message is verified and decrypted on this device; one that fails says why in `status`.
 */
import { messagesResponseSchema } from '@dmtp/protocol'
import { getAddress } from 'viem/utils'
import { type DecryptedMessage, decryptRecord } from '../_decrypt.js'
import { authedRequest } from '../_session.js'
import type { DmtpClientBase } from '../client.js'
import { roomWith } from './send.js'

export type GetMessagesParameters = {
  peer: string
  /** The `seq` to continue after (exclusive); omit for the start (asc) or the end (desc). */
  cursor?: number | undefined
  limit?: number | undefined
  /** `asc` (oldest first, default) or `desc` (newest first, for chat views loading upwards). */
  order?: 'asc' | 'desc' | undefined
}

export type GetMessagesReturnType = { messages: DecryptedMessage[]; nextCursor: number | null }

/**
 * @example
 * import { getMessages } from '@dmtp/sdk'
 * let page = await getMessages(client, { peer: '0xB0b…' })
 * while (page.nextCursor !== null) page = await getMessages(client, { peer: '0xB0b…', cursor: page.nextCursor })
 */
export async function getMessages(
  client: DmtpClientBase,
  { peer, cursor, limit = 50, order = 'asc' }: GetMessagesParameters,
): Promise<GetMessagesReturnType> {
  const room = await roomWith(client, getAddress(peer))
  const response = await authedRequest(client, {
    method: 'GET',
    path: `/v1/rooms/${room}/messages`,
    query: { cursor, limit, order },
    schema: messagesResponseSchema,
  })
  const messages = await Promise.all(
    response.messages.map(async (record) => {
      const message = await decryptRecord(client, record)
      return message.room === room ? message : { ...message, text: null, status: 'altered' as const }
    }),
  )
  return { messages, nextCursor: response.nextCursor }
}
