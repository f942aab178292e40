/** Defines (or redefines) a custom role of a room, or removes one (`permissions: null`); needs `set_role`. */
import { isPermission, type Permission, ROLE_NAME } from '@dmtp/protocol'
import { postRoomEvent } from '../_rooms.js'
import type { DmtpClientBase } from '../client.js'

export type DefineRoleParameters = { room: string; role: string; permissions: Permission[] | null }

/**
 * @example
 * import { defineRole } from '@dmtp/sdk'
 * await defineRole(client, { room, role: 'moderator', permissions: ['send', 'react', 'kick', 'mute', 'unmute'] })
 */
export async function defineRole(client: DmtpClientBase, { room, role, permissions }: DefineRoleParameters): Promise<void> {
  if (!ROLE_NAME.test(role)) throw new RangeError('"role" expected lower case letters, digits, - and _ (at most 32)')
  if (permissions === null) {
    await postRoomEvent(client, room, { type: 'delete_role', role })
    return
  }
  const unknown = permissions.find((permission) => !isPermission(permission))
  if (unknown) throw new RangeError(`"permissions" expected DMTP permissions, got ${JSON.stringify(unknown)}`)
  await postRoomEvent(client, room, { type: 'define_role', role, permissions: [...new Set(permissions)] })
}
