/** Public rooms whose name or description holds the text, largest first, paged. */
import { type Room, roomSearchResponseSchema } from '@dmtp/protocol'
import { authedRequest } from '../_session.js'
import type { DmtpClientBase } from '../client.js'

export type SearchRoomsParameters = { text?: string | undefined; cursor?: number | undefined; limit?: number | undefined }
export type SearchRoomsReturnType = { rooms: Room[]; next: number | null }

/**
 * @example
 * import { searchRooms } from '@dmtp/sdk'
 * const { rooms, next } = await searchRooms(client, { text: 'builders' })
 */
export async function searchRooms(
  client: DmtpClientBase,
  { text = '', cursor, limit = 20 }: SearchRoomsParameters = {},
): Promise<SearchRoomsReturnType> {
  return authedRequest(client, {
    method: 'GET',
    path: '/v1/rooms/search',
    query: { q: text, cursor, limit },
    schema: roomSearchResponseSchema,
  })
}
