/**
 * A room's members (or invitations, requests, bans), paged by seniority, each checked against
 * the membership log replayed here: `verified` is false for a member or role the server shows
 * without the signed events that make it so.
 */
import { isBanned, isMuted, type Member, membersResponseSchema } from '@dmtp/protocol'
import { roomLog } from '../_room-log.js'
import { authedRequest } from '../_session.js'
import type { DmtpClientBase } from '../client.js'

export type GetMembersParameters = {
  room: string
  status?: 'member' | 'invited' | 'requested' | 'banned' | undefined
  /** `next` of the previous page. */
  after?: string | undefined
  limit?: number | undefined
}

export type VerifiedMember = Member & { verified: boolean }

export type GetMembersReturnType = { members: VerifiedMember[]; next: string | null; total: number }

/**
 * @example
 * import { getMembers } from '@dmtp/sdk'
 * const { members } = await getMembers(client, { room })
 * for (const m of members) console.log(m.address, m.role, m.verified ? '' : '(not proven by the log)')
 */
export async function getMembers(
  client: DmtpClientBase,
  { room, status = 'member', after, limit = 100 }: GetMembersParameters,
): Promise<GetMembersReturnType> {
  const page = await authedRequest(client, {
    method: 'GET',
    path: `/v1/rooms/${room}/members`,
    query: { status, after, limit },
    schema: membersResponseSchema,
  })
  const log = roomLog(client, room)
  await log.sync()
  const now = new Date().toISOString()
  const members = await Promise.all(
    page.members.map(async (member) => {
      await log.verifyActor(member.address)
      const proven = log.current.member(member.address)
      const verified =
        proven.status === member.status &&
        (member.status !== 'member' || proven.role === member.role) &&
        isBanned(proven, now) === member.banned &&
        isMuted(proven, now) === (member.mutedUntil !== null)
      return { ...member, verified }
    }),
  )
  return { members, next: page.next, total: page.total }
}
