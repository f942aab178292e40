/** Invites wallets to a room (needs `invite`); only they are told, and they join when they accept. */
import { MAX_EVENT_MEMBERS } from '@dmtp/protocol'
import { getAddress } from 'viem/utils'
import { postRoomEvent } from '../_rooms.js'
import type { DmtpClientBase } from '../client.js'

export type InviteParameters = { room: string; members: string[] }

/**
 * @example
 * import { invite } from '@dmtp/sdk'
 * await invite(client, { room, members: ['0xB0b…'] })
 */
export async function invite(client: DmtpClientBase, { room, members }: InviteParameters): Promise<void> {
  if (members.length === 0 || members.length > MAX_EVENT_MEMBERS)
    throw new RangeError(`"members" expected 1 to ${MAX_EVENT_MEMBERS}`)
  await postRoomEvent(client, room, { type: 'invite', members: members.map((address) => getAddress(address)) })
}
