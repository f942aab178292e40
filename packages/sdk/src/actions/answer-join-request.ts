/** Approves or turns down requests to join a private room (needs `accept_join_request`). */
import { getAddress } from 'viem/utils'
import { postRoomEvent } from '../_rooms.js'
import type { DmtpClientBase } from '../client.js'

export type AnswerJoinRequestParameters = { room: string; members: string[]; approve: boolean }

/**
 * @example
 * import { answerJoinRequest } from '@dmtp/sdk'
 * await answerJoinRequest(client, { room, members: ['0xB0b…'], approve: true })
 */
export async function answerJoinRequest(
  client: DmtpClientBase,
  { room, members, approve }: AnswerJoinRequestParameters,
): Promise<void> {
  await postRoomEvent(client, room, {
    type: approve ? 'approve' : 'reject',
    members: members.map((address) => getAddress(address)),
  })
}
