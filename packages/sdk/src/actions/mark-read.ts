/** Moves the read marker of a conversation (unread counts drop to what is newer). */
import { getAddress } from 'viem/utils'
import { z } from 'zod'
import { authedRequest } from '../_session.js'
import type { DmtpClientBase } from '../client.js'
import { roomWith } from './send.js'

export type MarkReadParameters = { peer: string; seq: number }

/**
 * @example
 * import { markRead } from '@dmtp/sdk'
 * await markRead(client, { peer: '0xB0b…', seq: lastSeenSeq })
 */
export async function markRead(client: DmtpClientBase, { peer, seq }: MarkReadParameters): Promise<{ readSeq: number }> {
  const room = await roomWith(client, getAddress(peer))
  return authedRequest(client, {
    method: 'POST',
    path: `/v1/rooms/${room}/read`,
    body: { seq },
    schema: z.object({ readSeq: z.number().int() }),
  })
}
