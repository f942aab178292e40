/** Leaves a room (or withdraws an invitation or a request). The last Owner's ownership passes on; the last member's leaving ends the room. */
import type { Membership } from '@dmtp/protocol'
import { postRoomEvent } from '../_rooms.js'
import type { DmtpClientBase } from '../client.js'

export type LeaveRoomParameters = { room: string }

/**
 * @example
 * import { leaveRoom } from '@dmtp/sdk'
 * await leaveRoom(client, { room })
 */
export async function leaveRoom(client: DmtpClientBase, { room }: LeaveRoomParameters): Promise<{ membership: Membership }> {
  const { membership } = await postRoomEvent(client, room, { type: 'leave' })
  return { membership }
}
