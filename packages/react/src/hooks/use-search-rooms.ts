/**
 * `useSearchRooms(text)`: public rooms whose name or description holds the text, largest first
 * (`client.rooms.search`), a page at a time. Searches again whenever the text changes (debounce
 * typing in the app); an empty text lists the largest rooms.
 */
import type { Room } from '@dmtp/protocol'
import { useCallback } from 'react'
import { useDMTPStore } from '../_context.js'
import { useResource } from '../_resource.js'

export type UseSearchRoomsParameters = {
  /** Rooms per page. Default 20, at most 100. */
  pageSize?: number | undefined
}

export type UseSearchRoomsReturnType = {
  rooms: Room[]
  hasMore: boolean
  loadMore: () => Promise<void>
  refresh: () => Promise<void>
  isLoading: boolean
  error: Error | null
}

type SearchState = { rooms: Room[]; next: number | null }

const INITIAL: SearchState = { rooms: [], next: null }

/**
 * @param text - what to look for; undefined to search nothing.
 * @example
 * import { useRooms, useSearchRooms } from '@dmtp/react'
 *
 * function Explore({ text }: { text: string }) {
 *   const { rooms } = useSearchRooms(text)
 *   const { join } = useRooms()
 *   return rooms.map((r) => <button key={r.id} onClick={() => join(r.id)}>{r.name} ({r.memberCount})</button>)
 * }
 */
export function useSearchRooms(
  text: string | undefined,
  { pageSize = 20 }: UseSearchRoomsParameters = {},
): UseSearchRoomsReturnType {
  const store = useDMTPStore('useSearchRooms')
  const { data, isLoading, error, refresh, session } = useResource<SearchState>({
    store,
    key: text === undefined ? undefined : `${text.trim()}\n${pageSize}`,
    initial: INITIAL,
    load: () => store.client.rooms.search({ text: text?.trim(), limit: pageSize }),
  })
  const loadMore = useCallback(async () => {
    await session()?.run(async (previous) => {
      if (previous.next === null) return previous
      const page = await store.client.rooms.search({ text: text?.trim(), cursor: previous.next, limit: pageSize })
      const known = new Set(previous.rooms.map((room) => room.id))
      return { rooms: [...previous.rooms, ...page.rooms.filter((room) => !known.has(room.id))], next: page.next }
    })
  }, [session, store, text, pageSize])
  return { rooms: data.rooms, hasMore: data.next !== null, loadMore, refresh, isLoading, error }
}
