/**
 * Gives members a role: `owner`, `admin`, `sub-admin`, `member` or one of the room's own. You
 * need `set_role`, must outrank them, and cannot grant a permission you do not hold.
 */
import { getAddress } from 'viem/utils'
import { postRoomEvent } from '../_rooms.js'
import type { DmtpClientBase } from '../client.js'

export type SetRoleParameters = { room: string; members: string[]; role: string }

/**
 * @example
 * import { setRole } from '@dmtp/sdk'
 * await setRole(client, { room, members: ['0xB0b…'], role: 'admin' })
 */
export async function setRole(client: DmtpClientBase, { room, members, role }: SetRoleParameters): Promise<void> {
  await postRoomEvent(client, room, { type: 'set_role', role, members: members.map((address) => getAddress(address)) })
}
