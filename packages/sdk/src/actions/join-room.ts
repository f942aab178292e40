/**
 * Joins a room: a public room (or a private one you are invited to) at once; a private room
 * otherwise by asking to join (`requested`), which a member with `accept_join_request` approves.
 */
import { type Membership, roomResponseSchema } from '@dmtp/protocol'
import { postRoomEvent } from '../_rooms.js'
import { authedRequest } from '../_session.js'
import type { DmtpClientBase } from '../client.js'

export type JoinRoomParameters = { room: string }
export type JoinRoomReturnType = { status: 'member' | 'requested'; membership: Membership }

/**
 * @example
 * import { joinRoom } from '@dmtp/sdk'
 * const { status } = await joinRoom(client, { room })
 */
export async function joinRoom(client: DmtpClientBase, { room }: JoinRoomParameters): Promise<JoinRoomReturnType> {
  // A private room hides itself from those not invited: its description is not found then.
  const described = await authedRequest(client, { method: 'GET', path: `/v1/rooms/${room}`, schema: roomResponseSchema }).catch(
    () => undefined,
  )
  if (described?.membership.status === 'member') return { status: 'member', membership: described.membership }
  const direct = described && (described.room.type === 'public' || described.membership.status === 'invited')
  const { membership } = await postRoomEvent(client, room, { type: direct ? 'join' : 'request' })
  return { status: membership.status === 'member' ? 'member' : 'requested', membership }
}
