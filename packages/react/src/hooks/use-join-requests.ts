/**
 * `useJoinRequests(room)`: the wallets asking to join a private room (members with status
 * `requested`, by `client.rooms.members`), each checked against the membership log replayed here,
 * and the answers: `approve` lets them in, `reject` turns them down (both need
 * `accept_join_request`). Refetched when a log entry of the room arrives (a new request, another
 * member's answer) and after the app's own changes.
 */
import type { VerifiedMember } from '@dmtp/sdk'
import { useCallback } from 'react'
import { useDMTPStore } from '../_context.js'
import { useMembers } from './use-members.js'

export type UseJoinRequestsReturnType = {
  /** Oldest request first. */
  requests: VerifiedMember[]
  /** How many there are in all (the server's count). */
  total: number
  hasMore: boolean
  loadMore: () => Promise<void>
  approve: (members: string[]) => Promise<void>
  reject: (members: string[]) => Promise<void>
  refresh: () => Promise<void>
  isLoading: boolean
  error: Error | null
}

/**
 * @param room - a room id; undefined for none.
 * @example
 * import { useJoinRequests } from '@dmtp/react'
 *
 * function Requests({ room }: { room: string }) {
 *   const { requests, approve, reject } = useJoinRequests(room)
 *   return requests.map((r) => (
 *     <p key={r.address}>
 *       {r.address} <button onClick={() => approve([r.address])}>Let in</button>
 *       <button onClick={() => reject([r.address])}>Turn down</button>
 *     </p>
 *   ))
 * }
 */
export function useJoinRequests(room: string | undefined): UseJoinRequestsReturnType {
  const store = useDMTPStore('useJoinRequests')
  const { members, total, hasMore, loadMore, refresh, isLoading, error } = useMembers(room, { status: 'requested' })
  const answer = useCallback(
    async (members: string[], approve: boolean) => {
      const id = room as string
      await store.changeRoom(id, 'members', () =>
        approve ? store.client.rooms.approve(id, members) : store.client.rooms.reject(id, members),
      )
    },
    [store, room],
  )
  const approve = useCallback((members: string[]) => answer(members, true), [answer])
  const reject = useCallback((members: string[]) => answer(members, false), [answer])
  return { requests: members, total, hasMore, loadMore, approve, reject, refresh, isLoading, error }
}
