/**
 * A room: what the server says of it, checked against the membership log replayed here. Name,
 * settings, member count and your role must be what the log proves; any difference is listed in
 * `problems` (a server that invents members or roles is caught here). A split view found so far
 * (the server showing members different logs) is in `fork`.
 */
import { type Membership, type Room, roomResponseSchema } from '@dmtp/protocol'
import { forkOf, type RoomFork } from '../_room-fork.js'
import { type LogProblem, roomLog } from '../_room-log.js'
import { authedRequest } from '../_session.js'
import type { DmtpClientBase } from '../client.js'

export type GetRoomParameters = { room: string }

export type GetRoomReturnType = {
  room: Room
  membership: Membership
  /** Whether the log replayed here proves what the server says (always true for 1:1 rooms, which have no log). */
  verified: boolean
  problems: (LogProblem | { problem: string })[]
  /**
   * Evidence that the server shows members different membership logs (a split view), once this
   * client found it; null otherwise. Not cleared: the server showed two logs.
   */
  fork: RoomFork | null
}

/**
 * @example
 * import { getRoom } from '@dmtp/sdk'
 * const { room, membership, verified } = await getRoom(client, { room: id })
 */
export async function getRoom(client: DmtpClientBase, { room }: GetRoomParameters): Promise<GetRoomReturnType> {
  const response = await authedRequest(client, { method: 'GET', path: `/v1/rooms/${room}`, schema: roomResponseSchema })
  client.state.roomInfo.set(room, response.room)
  if (response.room.type === 'p2p') return { ...response, verified: true, problems: [], fork: null }
  const wallet = await client.getWallet()
  const log = roomLog(client, room)
  await log.sync()
  await log.verifyActor(wallet.address)
  const problems: GetRoomReturnType['problems'] = [...log.problems]
  const state = log.current
  const claimed = response.room
  const mismatch = (what: string, served: unknown, proven: unknown) => {
    if (JSON.stringify(served) !== JSON.stringify(proven)) {
      problems.push({ problem: `the server says ${what} is ${JSON.stringify(served)}; the log proves ${JSON.stringify(proven)}` })
    }
  }
  mismatch('the name', claimed.name, state.room.name)
  mismatch('the description', claimed.description, state.room.description)
  mismatch('announcement-only', claimed.announce, state.room.announce)
  mismatch('the member count', claimed.memberCount, state.room.members)
  mismatch('the custom roles', sortedRoles(claimed.customRoles), sortedRoles(state.room.customRoles))
  if (claimed.type === 'private') {
    mismatch('end-to-end encryption', claimed.encryption?.e2ee ?? false, state.room.e2ee)
    mismatch('the per-message plaintext choice', claimed.encryption?.plain ?? false, state.room.plain)
  }
  const mine = state.member(wallet.address)
  mismatch(
    'your standing',
    { status: response.membership.status, role: response.membership.role },
    {
      status: mine.status,
      role: mine.status === 'member' ? mine.role : null,
    },
  )
  return { ...response, verified: problems.length === 0, problems, fork: await forkOf(client, room) }
}

function sortedRoles(roles: Readonly<Record<string, readonly string[]>>): [string, string[]][] {
  return Object.entries(roles)
    .map(([name, permissions]): [string, string[]] => [name, [...permissions].sort()])
    .sort(([a], [b]) => a.localeCompare(b))
}
