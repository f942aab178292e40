/** Changes a room's name, description, picture or announcement-only setting (needs `set_info`). */
import { postRoomEvent } from '../_rooms.js'
import type { DmtpClientBase } from '../client.js'

export type UpdateRoomParameters = {
  room: string
  name?: string | undefined
  description?: string | undefined
  avatar?: string | null | undefined
  announce?: boolean | undefined
}

/**
 * @example
 * import { updateRoom } from '@dmtp/sdk'
 * await updateRoom(client, { room, name: 'DMTP builders', announce: true })
 */
export async function updateRoom(
  client: DmtpClientBase,
  { room, name, description, avatar, announce }: UpdateRoomParameters,
): Promise<void> {
  const changes = {
    ...(name !== undefined ? { name } : {}),
    ...(description !== undefined ? { description } : {}),
    ...(avatar !== undefined ? { avatar } : {}),
    ...(announce !== undefined ? { announce } : {}),
  }
  if (Object.keys(changes).length === 0) throw new TypeError('expected at least one of name, description, avatar, announce')
  await postRoomEvent(client, room, { type: 'update', ...changes })
}
