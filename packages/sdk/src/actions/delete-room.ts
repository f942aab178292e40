/** Deletes a room for everyone (needs `delete_room`: Owners). */
import { postRoomEvent } from '../_rooms.js'
import type { DmtpClientBase } from '../client.js'

export type DeleteRoomParameters = { room: string }

/**
 * @example
 * import { deleteRoom } from '@dmtp/sdk'
 * await deleteRoom(client, { room })
 */
export async function deleteRoom(client: DmtpClientBase, { room }: DeleteRoomParameters): Promise<void> {
  await postRoomEvent(client, room, { type: 'delete' })
}
