/** Lists the wallet's conversations, most recent first, with the last message decrypted. */
import { conversationsResponseSchema } from '@dmtp/protocol'
import { type DecryptedMessage, decryptRecord } from '../_decrypt.js'
import { authedRequest } from '../_session.js'
import type { DmtpClientBase } from '../client.js'

export type ConversationSummary = {
  room: string
  peer: string
  messageCount: number
  unread: number
  lastMessage: DecryptedMessage | null
}

export type ConversationsReturnType = ConversationSummary[]

/**
 * @example
 * import { conversations } from '@dmtp/sdk'
 * for (const c of await conversations(client)) console.log(c.peer, c.unread)
 */
export async function conversations(client: DmtpClientBase): Promise<ConversationsReturnType> {
  const response = await authedRequest(client, { method: 'GET', path: '/v1/conversations', schema: conversationsResponseSchema })
  return Promise.all(
    response.conversations.map(async (conversation) => {
      client.state.rooms.set(conversation.peer, conversation.room.id)
      return {
        room: conversation.room.id,
        peer: conversation.peer,
        messageCount: conversation.messageCount,
        unread: conversation.unread,
        lastMessage: conversation.lastMessage ? await decryptRecord(client, conversation.lastMessage) : null,
      }
    }),
  )
}
