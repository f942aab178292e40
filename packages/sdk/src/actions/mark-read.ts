/** Moves the read marker of a room (unread counts drop to what is newer). */
import { markReadResponseSchema } from '@dmtp/protocol'
import { getAddress } from 'viem/utils'
import { authedRequest } from '../_session.js'
import type { DmtpClientBase } from '../client.js'
import { openDirect } from './open-direct.js'

export type MarkReadParameters = { room?: string | undefined; peer?: string | undefined; seq: number }

/**
 * @example
 * import { markRead } from '@dmtp/sdk'
 * await markRead(client, { room, seq: lastSeenSeq })
 */
export async function markRead(client: DmtpClientBase, { room, peer, seq }: MarkReadParameters): Promise<{ readSeq: number }> {
  if ((room === undefined) === (peer === undefined)) throw new TypeError('"room" or "peer" expected (one of them)')
  const id = room ?? (await openDirect(client, { peer: getAddress(peer as string) }))
  return authedRequest(client, { method: 'POST', path: `/v1/rooms/${id}/read`, body: { seq }, schema: markReadResponseSchema })
}
