/** The 1:1 room with a wallet, created by the server on first contact (with a random id). */
import { roomResponseSchema } from '@dmtp/protocol'
import { getAddress } from 'viem/utils'
import { authedRequest } from '../_session.js'
import type { DmtpClientBase } from '../client.js'

export type OpenDirectParameters = { peer: string }
export type OpenDirectReturnType = string

/**
 * @returns the room id.
 * @example
 * import { openDirect } from '@dmtp/sdk'
 * const room = await openDirect(client, { peer: '0xB0b…' })
 */
export async function openDirect(client: DmtpClientBase, { peer }: OpenDirectParameters): Promise<OpenDirectReturnType> {
  const address = getAddress(peer)
  const known = client.state.rooms.get(address)
  if (known) return known
  const { room } = await authedRequest(client, {
    method: 'POST',
    path: '/v1/rooms',
    body: { peer: address },
    schema: roomResponseSchema,
  })
  client.state.rooms.set(address, room.id)
  client.state.roomInfo.set(room.id, room)
  return room.id
}
