/**
 * Makes a private room's next key epoch now: a fresh key wrapped to every member the signed log
 * shows. Sending rotates by itself when the room is due (a member left, was removed or joined;
 * the key is old); this is for a member who wants a new epoch anyway. When another member rotates
 * at the same moment, one epoch results and this client adopts its key.
 */
import type { RoomEncryption } from '@dmtp/protocol'
import { keyRing, rotateRoomKey as rotate, syncRoomKeys } from '../_room-keys.js'
import type { DmtpClientBase } from '../client.js'

export type RotateRoomKeyParameters = { room: string }
export type RotateRoomKeyReturnType = RoomEncryption

/**
 * @example
 * import { rotateRoomKey } from '@dmtp/sdk'
 * const { epoch } = await rotateRoomKey(client, { room })
 */
export async function rotateRoomKey(client: DmtpClientBase, { room }: RotateRoomKeyParameters): Promise<RotateRoomKeyReturnType> {
  keyRing(client, room).encryption = await syncRoomKeys(client, room)
  return rotate(client, room)
}
