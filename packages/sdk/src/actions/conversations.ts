/** Lists the wallet's 1:1 conversations, most recent first, with the last message decrypted (`getRooms` lists every room). */
import type { DecryptedMessage } from '../_decrypt.js'
import type { DmtpClientBase } from '../client.js'
import { getRooms } from './get-rooms.js'

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
  const rooms = await getRooms(client)
  return rooms.flatMap(({ room, peer, unread, lastMessage }) =>
    room.type === 'p2p' && peer ? [{ room: room.id, peer, messageCount: room.messageCount, unread, lastMessage }] : [],
  )
}
