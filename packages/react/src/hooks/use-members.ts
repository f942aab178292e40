/**
 * `useMembers(room)`: a room's members (or its invitations, join requests, bans), by seniority, a
 * page at a time (`client.rooms.members`), each with its role, mute and ban state and whether the
 * membership log replayed here proves it (`verified`). Every page loaded so far is refetched when
 * a log entry of the room arrives or the app changes the room, so roles and mutes stay current.
 */
import type { GetMembersParameters, VerifiedMember } from '@dmtp/sdk'
import { useCallback } from 'react'
import { useDMTPStore } from '../_context.js'
import { useResource } from '../_resource.js'

export type UseMembersParameters = {
  /** `member` (default), `invited`, `requested` or `banned`. */
  status?: GetMembersParameters['status']
  /** Members per page. Default 100, at most 500. */
  pageSize?: number | undefined
}

export type UseMembersReturnType = {
  /** By seniority (the longest-standing first). Empty until connected and loaded. */
  members: VerifiedMember[]
  /** How many there are in all (the server's count). */
  total: number
  hasMore: boolean
  /** Loads the next page; rejects with the SDK's error. */
  loadMore: () => Promise<void>
  refresh: () => Promise<void>
  isLoading: boolean
  error: Error | null
}

type MembersState = { room: string | null; members: VerifiedMember[]; next: string | null; total: number }

const INITIAL: MembersState = { room: null, members: [], next: null, total: 0 }

/**
 * @param room - a room id, or a wallet address for the 1:1 room with it; undefined for none.
 * @example
 * import { useMembers } from '@dmtp/react'
 *
 * function Members({ room }: { room: string }) {
 *   const { members, hasMore, loadMore } = useMembers(room)
 *   return (
 *     <ul>
 *       {members.map((m) => <li key={m.address}>{m.address} {m.role} {m.mutedUntil && '(muted)'} {!m.verified && '⚠️'}</li>)}
 *       {hasMore && <button onClick={() => loadMore()}>More</button>}
 *     </ul>
 *   )
 * }
 */
export function useMembers(
  room: string | undefined,
  { status = 'member', pageSize = 100 }: UseMembersParameters = {},
): UseMembersReturnType {
  const store = useDMTPStore('useMembers')
  const { data, isLoading, error, refresh, session } = useResource<MembersState>({
    store,
    key: room === undefined ? undefined : `${room}\n${status}\n${pageSize}`,
    initial: INITIAL,
    async load(previous) {
      const id = previous.room ?? (await store.roomOf(room as string))
      // As many as were loaded, so a refetch does not shrink the list under the reader.
      const wanted = Math.max(previous.members.length, 1)
      const members: VerifiedMember[] = []
      let after: string | undefined
      for (;;) {
        const page = await store.client.rooms.members(id, { status, after, limit: pageSize })
        members.push(...page.members)
        if (page.next === null || members.length >= wanted) return { room: id, members, next: page.next, total: page.total }
        after = page.next
      }
    },
    onEvent(event, session) {
      // Before a first load succeeds (a private room hides itself from the invited) the id is the one asked for.
      const id = session.get().room ?? room
      const changed =
        (event.type === 'room' && event.room === id) ||
        ((event.type === 'message' || event.type === 'sent') && event.message.room === id && event.message.type === 'system')
      if (changed) session.refresh().catch(() => {})
    },
  })
  const loadMore = useCallback(async () => {
    await session()?.run(async (previous) => {
      if (previous.room === null || previous.next === null) return previous
      const page = await store.client.rooms.members(previous.room, { status, after: previous.next, limit: pageSize })
      const known = new Set(previous.members.map((member) => member.address))
      return {
        ...previous,
        members: [...previous.members, ...page.members.filter((member) => !known.has(member.address))],
        next: page.next,
        total: page.total,
      }
    })
  }, [session, store, status, pageSize])
  return { members: data.members, total: data.total, hasMore: data.next !== null, loadMore, refresh, isLoading, error }
}
