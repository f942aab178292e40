/**
 * The wallet's rooms (1:1 and groups, and invitations), most recent first, with unread counts and
 * the last message read here.
 */
import { type Membership, type Room, roomsResponseSchema } from '@dmtp/protocol'
import { type DecryptedMessage, decryptRecord } from '../_decrypt.js'
import { authedRequest } from '../_session.js'
import type { DmtpClientBase } from '../client.js'

export type RoomSummary = {
  room: Room
  membership: Membership
  /** The other wallet of a 1:1 room; null for groups. */
  peer: string | null
  unread: number
  lastMessage: DecryptedMessage | null
}

export type GetRoomsReturnType = RoomSummary[]

/**
 * @example
 * import { getRooms } from '@dmtp/sdk'
 * for (const { room, unread } of await getRooms(client)) console.log(room.name ?? room.id, unread)
 */
export async function getRooms(client: DmtpClientBase): Promise<GetRoomsReturnType> {
  const response = await authedRequest(client, { method: 'GET', path: '/v1/rooms', schema: roomsResponseSchema })
  return Promise.all(
    response.rooms.map(async (entry) => {
      client.state.roomInfo.set(entry.room.id, entry.room)
      if (entry.peer) client.state.rooms.set(entry.peer, entry.room.id)
      return {
        room: entry.room,
        membership: entry.membership,
        peer: entry.peer,
        unread: entry.unread,
        lastMessage: entry.lastMessage ? await decryptRecord(client, entry.lastMessage) : null,
      }
    }),
  )
}
