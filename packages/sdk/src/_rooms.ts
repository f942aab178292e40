/**
 * What actions share about rooms: the room's description (its type and, for a 1:1 room, its two
 * wallets), and signing and posting membership-log events.
 * @internal
 */
import {
  ApiError,
  postRoomEventResponseSchema,
  type Room,
  type RoomEvent,
  type RoomEventBody,
  roomResponseSchema,
  signRoomEvent,
  toBase64Url,
  type UnsignedRoomEvent,
} from '@dmtp/protocol'
import { currentKeys } from './_keyring.js'
import { roomLog } from './_room-log.js'
import { authedRequest } from './_session.js'
import type { DmtpClientBase } from './client.js'

/** The room as the server describes it, cached (a room never changes type or pair). */
export async function roomInfo(client: DmtpClientBase, room: string, { fresh = false } = {}): Promise<Room> {
  const known = client.state.roomInfo.get(room)
  if (known && !fresh) return known
  const response = await authedRequest(client, { method: 'GET', path: `/v1/rooms/${room}`, schema: roomResponseSchema })
  client.state.roomInfo.set(room, response.room)
  return response.room
}

/** Signs an event as the wallet, with its current key, now, having seen the room up to `basis`. */
export async function signEvent(client: DmtpClientBase, room: string, body: RoomEventBody, basis: number): Promise<RoomEvent> {
  const [wallet, crypto, own] = await Promise.all([client.getWallet(), client.getCrypto(), currentKeys(client)])
  const event = {
    v: 1,
    id: toBase64Url(crypto.randomBytes(16)),
    room,
    actor: wallet.address,
    actorKey: own.cid,
    at: new Date().toISOString(),
    basis,
    ...body,
  } as UnsignedRoomEvent
  return signRoomEvent(crypto, { event, signingKey: own.keys.ed25519.secretKey })
}

/**
 * Signs and appends an event to a room's log; retries once with fresh keys after a rotation.
 * @returns the server's answer: the entry made (null when nothing changed) and the wallet's standing.
 */
export async function postRoomEvent(client: DmtpClientBase, room: string, body: RoomEventBody) {
  const log = roomLog(client, room)
  for (let attempt = 0; ; attempt++) {
    // A private room hides itself from those who are not in it: asking to join (or joining by
    // invite link), one has seen nothing of it.
    const outside = body.type === 'request' || (body.type === 'join' && body.link !== undefined)
    const info = await roomInfo(client, room, { fresh: true }).catch((error) => {
      if (outside && error instanceof ApiError && error.code === 'room_not_found') return undefined
      throw error
    })
    const event = await signEvent(client, room, body, Math.max(info?.messageCount ?? 0, log.head?.seq ?? 0))
    try {
      const response = await authedRequest(client, {
        method: 'POST',
        path: `/v1/rooms/${room}/events`,
        body: { event },
        schema: postRoomEventResponseSchema,
      })
      // The log catches up when next needed, should this fail (after leaving a private room, or
      // deleting one, the server no longer shows it).
      if (response.entry) await log.receive(response.entry).catch(() => {})
      return response
    } catch (error) {
      if (attempt === 0 && error instanceof ApiError && error.code === 'stale_key') {
        client.state.currentCid = undefined
        continue
      }
      throw error
    }
  }
}
