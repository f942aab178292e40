/**
 * Turns end-to-end encryption of a private room on or off (the `e2ee_on` / `e2ee_off`
 * permissions), as a signed event in its membership log. Turning it on makes the next epoch's key
 * here at once, so the room's next message is already encrypted; from then on the server refuses
 * plaintext unless `plain` lets members choose it per message. Turning it off: new messages are
 * signed but readable by the server, and the server refuses encrypted ones (`e2ee_off`).
 */
import type { RoomEncryption } from '@dmtp/protocol'
import { keyRing, rotateRoomKey, syncRoomKeys } from '../_room-keys.js'
import { postRoomEvent } from '../_rooms.js'
import type { DmtpClientBase } from '../client.js'

export type SetEncryptionParameters = {
  room: string
  e2ee: boolean
  /** With `e2ee`: members may still send a message in plaintext, marked so (default false). */
  plain?: boolean | undefined
}

export type SetEncryptionReturnType = RoomEncryption

/**
 * @example
 * import { setEncryption } from '@dmtp/sdk'
 * const { epoch } = await setEncryption(client, { room, e2ee: true })
 */
export async function setEncryption(
  client: DmtpClientBase,
  { room, e2ee, plain = false }: SetEncryptionParameters,
): Promise<SetEncryptionReturnType> {
  if (typeof e2ee !== 'boolean') throw new TypeError('"e2ee" expected a boolean')
  if (!e2ee && plain) throw new TypeError('"plain" expected only with e2ee on')
  await postRoomEvent(client, room, e2ee ? { type: 'e2ee_on', plain } : { type: 'e2ee_off' })
  keyRing(client, room).encryption = undefined
  const encryption = await syncRoomKeys(client, room)
  return e2ee ? rotateRoomKey(client, room) : encryption
}
