/**
 * `useRooms`: every room of the wallet (`client.rooms.list()`): 1:1 rooms and groups, and the
 * invitations and join requests it has, most recent first, with unread counts. Kept live from the
 * provider's stream: a new message moves its room to the top and counts as unread when another
 * wallet wrote it; a membership change (a join, a kick, an invitation, new settings) or a room the
 * list does not hold yet refetches it, so a room the wallet was removed from drops out.
 */
import type { CreateRoomParameters, CreateRoomReturnType, DecryptedMessage, JoinRoomReturnType, RoomSummary } from '@dmtp/sdk'
import { useCallback } from 'react'
import { useDMTPStore } from '../_context.js'
import { sameAddress } from '../_messages.js'
import { useResource } from '../_resource.js'

export type UseRoomsReturnType = {
  /** Most recent first. Empty until connected. */
  rooms: RoomSummary[]
  /** Unread messages over every room. */
  unread: number
  isLoading: boolean
  /** The SDK's typed error from the last load, if it failed. */
  error: Error | null
  /** Reloads from the server; rejects with the SDK's error (also kept in `error`). */
  refresh: () => Promise<void>
  /** Creates a group (`client.rooms.create`); the list picks it up. */
  create: (parameters: CreateRoomParameters) => Promise<CreateRoomReturnType>
  /** Joins a room (or asks to, for a private one; accepts an invitation); the list picks it up. */
  join: (room: string) => Promise<JoinRoomReturnType>
  /** Leaves a room, declines an invitation or withdraws a request; it drops out of the list. */
  leave: (room: string) => Promise<void>
  /** The id of the 1:1 room with a wallet (opened on first contact). */
  openDirect: (peer: string) => Promise<string>
}

const NONE: RoomSummary[] = []

/**
 * @example
 * import { useRooms } from '@dmtp/react'
 *
 * function RoomList({ onOpen }: { onOpen: (room: string) => void }) {
 *   const { rooms } = useRooms()
 *   return rooms.map(({ room, peer, unread }) => (
 *     <button key={room.id} onClick={() => onOpen(room.id)}>
 *       {room.name ?? peer} {unread > 0 && `(${unread})`}
 *     </button>
 *   ))
 * }
 */
export function useRooms(): UseRoomsReturnType {
  const store = useDMTPStore('useRooms')
  const { data, isLoading, error, refresh } = useResource({
    store,
    key: 'rooms',
    initial: NONE,
    load: () => store.client.rooms.list(),
    onEvent(event, session) {
      switch (event.type) {
        case 'message':
        case 'sent': {
          const next = withPosition(session.get(), event.message, session.me, event.type === 'sent')
          if (next === undefined) session.refresh().catch(() => {})
          else session.set(next)
          break
        }
        case 'read': {
          const list = session.get()
          const summary = list.find((entry) => entry.room.id === event.room)
          if (!summary || summary.unread === 0) break
          if ((summary.lastMessage?.seq ?? 0) <= event.seq)
            session.set(list.map((entry) => (entry === summary ? { ...entry, unread: 0 } : entry)))
          else session.refresh().catch(() => {})
          break
        }
        case 'room':
        case 'invitation':
        case 'migrated':
          session.refresh().catch(() => {})
          break
      }
    },
  })
  const create = useCallback(
    async (parameters: CreateRoomParameters) => {
      store.me()
      const created = await store.client.rooms.create(parameters)
      store.emit({ type: 'room', room: created.room.id, change: 'created' })
      return created
    },
    [store],
  )
  const join = useCallback((room: string) => store.changeRoom(room, 'joined', () => store.client.rooms.join(room)), [store])
  const leave = useCallback(
    (room: string) => store.changeRoom(room, 'left', () => store.client.rooms.leave(room)).then(() => {}),
    [store],
  )
  const openDirect = useCallback((peer: string) => store.client.openDirect(peer), [store])
  const unread = data.reduce((sum, entry) => sum + entry.unread, 0)
  return { rooms: data, unread, isLoading, error, refresh, create, join, leave, openDirect }
}

/**
 * The list with a room position applied, or undefined when only a refetch can tell (a room the
 * list does not hold, a membership change, a recall that may change the unread count).
 */
function withPosition(list: RoomSummary[], message: DecryptedMessage, me: string, local: boolean): RoomSummary[] | undefined {
  const index = list.findIndex((entry) => entry.room.id === message.room)
  const summary = list[index]
  if (!summary || message.type === 'system' || (message.type === 'recall' && !local)) return undefined
  const room = { ...summary.room, messageCount: Math.max(summary.room.messageCount, message.seq) }
  const last = summary.lastMessage
  if (message.type === 'edit') {
    if (!last || message.ref !== last.id || message.status !== 'ok' || !sameAddress(message.sender, last.sender)) return list
    return list.map((entry, i) => (i === index ? { ...entry, room, lastMessage: { ...last, text: message.text } } : entry))
  }
  if (message.type !== 'message') return room.messageCount === summary.room.messageCount ? list : replace(list, index, { room })
  if (last && message.seq < last.seq) return list
  if (last && message.seq === last.seq) {
    // The same message again: a stream echo or a migration replacing it (never by a local copy).
    return local ? list : replace(list, index, { lastMessage: message })
  }
  const incoming = !sameAddress(message.sender, me)
  const updated: RoomSummary = { ...summary, room, lastMessage: message, unread: summary.unread + (incoming ? 1 : 0) }
  return [updated, ...list.filter((_, i) => i !== index)]
}

function replace(list: RoomSummary[], index: number, patch: Partial<RoomSummary>): RoomSummary[] {
  return list.map((entry, i) => (i === index ? { ...entry, ...patch } : entry))
}
