/**
 * What this member holds of a private room's keys: the room's encryption state (E2EE on or off,
 * the current epoch, whether it is due), the epochs whose key it was given, and any delivery it
 * refused (a wrap not for it, made at a log head it is not shown, not signed by a member…).
 */
import type { RoomEncryption } from '@dmtp/protocol'
import { keyRing, syncRoomKeys } from '../_room-keys.js'
import type { DmtpClientBase } from '../client.js'

export type GetRoomKeysParameters = { room: string }
export type GetRoomKeysReturnType = { encryption: RoomEncryption; epochs: number[]; problems: string[] }

/**
 * @example
 * import { getRoomKeys } from '@dmtp/sdk'
 * const { encryption, epochs } = await getRoomKeys(client, { room })
 */
export async function getRoomKeys(client: DmtpClientBase, { room }: GetRoomKeysParameters): Promise<GetRoomKeysReturnType> {
  const encryption = await syncRoomKeys(client, room)
  const ring = keyRing(client, room)
  return { encryption, epochs: [...ring.keys.keys()].sort((a, b) => a - b), problems: [...ring.problems] }
}
