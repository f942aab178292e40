/**
 * Creates a group: a public room (anyone can find, join, read and post; not encrypted, every
 * message signed) or a private one (by invitation or approval, end-to-end encrypted unless
 * `e2ee: false`: E2EE is turned on and epoch 1's key made here, before any message). The room id
 * is 128 random bits chosen here; the signed `create` event starts its membership log, with you
 * as its Owner.
 */
import {
  MAX_ROOM_DESCRIPTION_LENGTH,
  MAX_ROOM_NAME_LENGTH,
  type Membership,
  type Room,
  roomResponseSchema,
  toBase64Url,
} from '@dmtp/protocol'
import { roomLog } from '../_room-log.js'
import { signEvent } from '../_rooms.js'
import { authedRequest } from '../_session.js'
import type { DmtpClientBase } from '../client.js'
import { getRoom } from './get-room.js'
import { setEncryption } from './set-encryption.js'

export type CreateRoomParameters = {
  type: 'public' | 'private'
  name: string
  description?: string | undefined
  /** Announcement-only: only roles with `send` post (Members read). */
  announce?: boolean | undefined
  /** The CID of a picture block. */
  avatar?: string | undefined
  /** Private rooms: end-to-end encrypted (default true). */
  e2ee?: boolean | undefined
  /** Private rooms with E2EE: members may still choose plaintext for a message (default false). */
  plain?: boolean | undefined
}

export type CreateRoomReturnType = { room: Room; membership: Membership }

/**
 * @example
 * import { createRoom } from '@dmtp/sdk'
 * const { room } = await createRoom(client, { type: 'public', name: 'DMTP builders' })
 */
export async function createRoom(
  client: DmtpClientBase,
  { type, name, description = '', announce = false, avatar, e2ee = type === 'private', plain = false }: CreateRoomParameters,
): Promise<CreateRoomReturnType> {
  if (type !== 'public' && type !== 'private') throw new TypeError('"type" expected public or private')
  if (e2ee && type !== 'private') throw new TypeError('"e2ee" expected only for private rooms')
  if (typeof name !== 'string' || name.trim() !== name || name.length === 0 || name.length > MAX_ROOM_NAME_LENGTH) {
    throw new RangeError(`"name" expected 1 to ${MAX_ROOM_NAME_LENGTH} characters without leading or trailing spaces`)
  }
  if (description.length > MAX_ROOM_DESCRIPTION_LENGTH) {
    throw new RangeError(`"description" expected at most ${MAX_ROOM_DESCRIPTION_LENGTH} characters, got ${description.length}`)
  }
  const crypto = await client.getCrypto()
  const id = toBase64Url(crypto.randomBytes(16))
  const event = await signEvent(
    client,
    id,
    { type: 'create', roomType: type, name, description, announce, avatar: avatar ?? null },
    0,
  )
  const response = await authedRequest(client, { method: 'POST', path: '/v1/rooms', body: { event }, schema: roomResponseSchema })
  client.state.roomInfo.set(id, response.room)
  await roomLog(client, id).sync()
  if (!e2ee) return response
  await setEncryption(client, { room: id, e2ee: true, plain })
  return getRoom(client, { room: id })
}
