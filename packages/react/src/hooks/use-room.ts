/**
 * `useRoom(room)`: one room as the wallet stands in it (`client.rooms.get`): its description, the
 * wallet's membership and role, what that role may do here, and whether the membership log
 * replayed on this device proves what the server says (`verified`, `problems`), and whether the
 * server was caught showing members different logs (`fork`). Refetched when a log entry of the
 * room arrives (a join, a role change, a mute…), when a fork of it is found, and after the app's
 * own changes.
 * When the wallet is kicked, banned, or the room deleted, `removed` says by whom (the stream
 * delivers that entry and then nothing more from the room).
 *
 * It also carries the room's actions (join, leave, settings, invitations, roles, moderation),
 * each the SDK's, after which every view of the room refetches.
 */
import { hasPermission, outranks, type Permission, type RoleContext, rolePermissions } from '@dmtp/protocol'
import {
  ApiError,
  type DefineRoleParameters,
  type GetRoomReturnType,
  type InviteReturnType,
  type JoinRoomReturnType,
  type ModerateParameters,
  type UpdateRoomParameters,
} from '@dmtp/sdk'
import { useCallback, useEffect, useMemo } from 'react'
import { useDMTPStore } from '../_context.js'
import { type Removal, removalOf } from '../_messages.js'
import { useResource } from '../_resource.js'
import type { RoomChange } from '../_store.js'

export type { Removal } from '../_messages.js'

/** A ban's or mute's length (`forMs`, or `until` a time; neither: for good), and for a ban, `removeMessages`. */
export type ModerationOptions = Omit<ModerateParameters, 'room' | 'action' | 'members' | 'all'>

export type UseRoomReturnType = {
  /** The room id (a peer address passed in is resolved to its 1:1 room); null until known. */
  id: string | null
  room: GetRoomReturnType['room'] | null
  /** The wallet's standing: `member`, `invited`, `requested` or `none`, its role, mute and read marker. */
  membership: GetRoomReturnType['membership'] | null
  /** Whether the membership log replayed here proves the server's description (always true for 1:1 rooms). */
  verified: boolean
  problems: GetRoomReturnType['problems']
  /**
   * Evidence that the server shows members different membership logs (a split view), once this
   * device found it; null otherwise. Warn the reader: "The server shows members different member lists".
   */
  fork: GetRoomReturnType['fork']
  /** The wallet's role while it is a member, else null. */
  role: string | null
  /** What that role may do in this room (its settings applied: announcement-only, custom roles). */
  permissions: readonly Permission[]
  /** Whether the wallet is muted now. */
  muted: boolean
  /**
   * Whether the wallet may do this here; with `subjectRole`, also whether it outranks a member of
   * that role (moderation acts only downwards; an Owner acts on anyone).
   */
  can: (permission: Permission, subjectRole?: string) => boolean
  /** Set once the wallet was removed from the room while it was open: kicked, banned, left, or the room deleted. */
  removed: Removal | null
  isLoading: boolean
  /** The SDK's typed error from the last load (`room_not_found` for a private room the wallet is not in). */
  error: Error | null
  refresh: () => Promise<void>
  join: () => Promise<JoinRoomReturnType>
  leave: () => Promise<void>
  /** Deletes the room (needs `delete_room`). */
  remove: () => Promise<void>
  update: (changes: Omit<UpdateRoomParameters, 'room'>) => Promise<void>
  /** Invites wallets (for a week, the SDK default); `until` is when the invitation lapses. */
  invite: (members: string[]) => Promise<InviteReturnType>
  approve: (members: string[]) => Promise<void>
  reject: (members: string[]) => Promise<void>
  setRole: (members: string[], role: string) => Promise<void>
  defineRole: (role: string, permissions: DefineRoleParameters['permissions']) => Promise<void>
  kick: (members: string[] | 'all') => Promise<void>
  ban: (members: string[] | 'all', options?: ModerationOptions) => Promise<void>
  unban: (members: string[]) => Promise<void>
  mute: (members: string[] | 'all', options?: ModerationOptions) => Promise<void>
  unmute: (members: string[] | 'all') => Promise<void>
}

type RoomState = Pick<UseRoomReturnType, 'id' | 'room' | 'membership' | 'verified' | 'problems' | 'fork' | 'removed'> & {
  /** A removal the stream announced, confirmed (or not) by the next load. */
  pending: Removal | null
}

const INITIAL: RoomState = {
  id: null,
  room: null,
  membership: null,
  verified: true,
  problems: [],
  fork: null,
  removed: null,
  pending: null,
}
const GONE = new Set(['room_not_found', 'not_member', 'banned'])
/** setTimeout's longest delay; a mute lifting later is picked up by a later refetch. */
const MAX_TIMER_MS = 2_147_483_647

/**
 * @param room - a room id, or a wallet address for the 1:1 room with it; undefined for none.
 * @example
 * import { useRoom } from '@dmtp/react'
 *
 * function RoomHeader({ room }: { room: string }) {
 *   const { room: info, role, verified, can, removed } = useRoom(room)
 *   if (removed) return <p>You were removed from this room.</p>
 *   return (
 *     <h2>
 *       {info?.name} ({role}) {!verified && '⚠️ the membership log does not verify'}
 *       {can('kick') && <button>Moderate</button>}
 *     </h2>
 *   )
 * }
 */
export function useRoom(room: string | undefined): UseRoomReturnType {
  const store = useDMTPStore('useRoom')
  const { data, isLoading, error, refresh } = useResource<RoomState>({
    store,
    key: room,
    initial: INITIAL,
    async load(previous) {
      const id = previous.id ?? (await store.roomOf(room as string))
      try {
        const fetched = await store.client.rooms.get(id)
        const gone = fetched.membership.status !== 'member' ? (previous.pending ?? previous.removed) : null
        return { id, ...fetched, removed: gone, pending: null }
      } catch (error) {
        // A private room hides itself once the wallet is out: the announced removal is the answer.
        const removed = previous.pending ?? previous.removed
        if (removed && error instanceof ApiError && GONE.has(error.code)) {
          const membership = previous.membership && { ...previous.membership, status: 'none' as const, role: null }
          return { ...previous, id, membership, removed, pending: null }
        }
        throw error
      }
    },
    onEvent(event, session) {
      const state = session.get()
      // Before a first load succeeds (a private room hides itself from the invited) the id is the one asked for.
      if ((event.type === 'room' || event.type === 'fork') && event.room === (state.id ?? room)) session.refresh().catch(() => {})
      if ((event.type === 'message' || event.type === 'sent') && event.message.room === state.id) {
        if (event.message.type !== 'system') return
        const removal = removalOf(event.message, session.me)
        if (removal) session.set({ ...state, pending: removal })
        session.refresh().catch(() => {})
      }
    },
  })

  const { room: info, membership } = data
  const role = membership?.status === 'member' ? membership.role : null
  const context = info as RoleContext | null
  const permissions = useMemo(() => (context && role ? (rolePermissions(context, role) ?? []) : []), [context, role])
  const can = useCallback(
    (permission: Permission, subjectRole?: string) =>
      context !== null &&
      role !== null &&
      hasPermission(context, role, permission) &&
      (subjectRole === undefined || outranks(role, subjectRole)),
    [context, role],
  )
  const mutedUntil = membership?.mutedUntil ?? null
  const muted = mutedUntil !== null && mutedUntil > new Date().toISOString()

  // A mute lifts by itself: look again when it does.
  useEffect(() => {
    if (!mutedUntil) return
    const wait = new Date(mutedUntil).getTime() - Date.now()
    if (wait <= 0 || wait > MAX_TIMER_MS) return
    const timer = setTimeout(() => refresh().catch(() => {}), wait + 50)
    return () => clearTimeout(timer)
  }, [mutedUntil, refresh])

  const actions = useMemo(() => {
    const change =
      <A extends unknown[], R>(kind: RoomChange, run: (id: string, ...args: A) => Promise<R>) =>
      async (...args: A): Promise<R> => {
        store.me()
        const id = await store.roomOf(room as string)
        return store.changeRoom(id, kind, () => run(id, ...args))
      }
    const rooms = store.client.rooms
    const done = <T>(promise: Promise<T>) => promise.then(() => {})
    return {
      join: change('joined', (id) => rooms.join(id)),
      leave: change('left', (id) => done(rooms.leave(id))),
      remove: change('deleted', (id) => rooms.delete(id)),
      update: change('updated', (id, changes: Omit<UpdateRoomParameters, 'room'>) => rooms.update(id, changes)),
      invite: change('members', (id, members: string[]) => rooms.invite(id, members)),
      approve: change('members', (id, members: string[]) => rooms.approve(id, members)),
      reject: change('members', (id, members: string[]) => rooms.reject(id, members)),
      setRole: change('members', (id, members: string[], role: string) => rooms.setRole(id, members, role)),
      defineRole: change('updated', (id, role: string, permissions: DefineRoleParameters['permissions']) =>
        rooms.defineRole(id, role, permissions),
      ),
      kick: change('members', (id, members: string[] | 'all') => rooms.kick(id, members)),
      ban: change('members', (id, members: string[] | 'all', options?: ModerationOptions) => rooms.ban(id, members, options)),
      unban: change('members', (id, members: string[]) => rooms.unban(id, members)),
      mute: change('members', (id, members: string[] | 'all', options?: ModerationOptions) => rooms.mute(id, members, options)),
      unmute: change('members', (id, members: string[] | 'all') => rooms.unmute(id, members)),
    }
  }, [store, room])

  return {
    id: data.id,
    room: info,
    membership,
    verified: data.verified,
    problems: data.problems,
    fork: data.fork,
    role,
    permissions,
    muted,
    can,
    removed: data.removed,
    isLoading,
    error,
    refresh,
    ...actions,
  }
}
