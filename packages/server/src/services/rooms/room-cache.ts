/**
 * Rooms and members in memory, for the checks every message and event needs (is the sender a
 * member, muted, allowed?). A room is loaded once; members are loaded on demand and kept. Only
 * the writer changes them, inside its transaction, in the order it commits; a transaction that
 * rolls back clears the cache, so it never holds what the database does not.
 */
import { isPermission, type MemberState, NO_MEMBER, type Permission, type RoomStateView } from '@dmtp/protocol'
import type { Db } from '../../db/database.js'
import { type MemberRow, RoomReader, type RoomRow } from './reader.js'

export type CachedMember = MemberState & { joinedPos: number; leftPos: number | null; readSeq: number }

export class CachedRoom implements RoomStateView {
  room: RoomStateView['room']
  readonly members = new Map<string, CachedMember>()

  constructor(
    public row: RoomRow,
    customRoles: Record<string, Permission[]>,
    owners: number,
  ) {
    this.room = {
      type: row.type,
      announce: row.announce === 1,
      customRoles,
      name: row.name,
      description: row.description,
      avatar: row.avatar,
      deleted: row.deleted_at !== null,
      e2ee: row.e2ee === 1,
      plain: row.plain === 1,
      owners,
      members: row.member_count,
    }
  }

  /** The state of `address`; it must have been loaded ({@link RoomCache.members}). */
  member(address: string): MemberState {
    return this.members.get(address) ?? NO_MEMBER
  }

  has(address: string): boolean {
    return this.members.has(address)
  }
}

const MAX_MEMBERS_CACHED = 200_000

export class RoomCache {
  private readonly rooms = new Map<string, CachedRoom>()
  private cachedMembers = 0

  /** The room, loaded if needed; undefined when there is no such room. */
  async room(db: Db, id: string): Promise<CachedRoom | undefined> {
    const cached = this.rooms.get(id)
    if (cached) return cached
    const reader = new RoomReader(db)
    const row = await reader.findRoom(id)
    if (!row) return undefined
    const [roles, owners] = await Promise.all([reader.listRoles(id), row.type === 'p2p' ? 0 : reader.countOwners(id)])
    const room = new CachedRoom(
      row,
      Object.fromEntries(roles.map((role) => [role.name, parsePermissions(role.permissions)])),
      owners,
    )
    // A pair has two members for good: keep them with the room.
    if (row.type === 'p2p') for (const member of await reader.listAllMembers(id)) this.put(room, member.address, toCached(member))
    this.rooms.set(id, room)
    return room
  }

  /** Loads the states of `addresses` in `room` (absent rows: not members). */
  async members(db: Db, room: CachedRoom, addresses: readonly string[]): Promise<void> {
    // The message path's usual case, without allocating: every address is known already.
    if (addresses.every((address) => room.has(address))) return
    const missing = [...new Set(addresses)].filter((address) => !room.has(address))
    if (missing.length === 0) return
    const rows = await new RoomReader(db).findMembers(room.row.id, missing)
    const found = new Map(rows.map((row) => [row.address, row]))
    for (const address of missing) {
      const row = found.get(address)
      this.put(room, address, row ? toCached(row) : { ...NO_MEMBER, joinedPos: 0, leftPos: null, readSeq: 0 })
    }
  }

  put(room: CachedRoom, address: string, state: CachedMember): void {
    if (!room.has(address)) this.cachedMembers++
    room.members.set(address, state)
    if (this.cachedMembers > MAX_MEMBERS_CACHED) this.clear()
  }

  /** Forgets a room's members (after a change to many of them at once). */
  forgetMembers(room: CachedRoom): void {
    this.cachedMembers -= room.members.size
    room.members.clear()
  }

  forget(id: string): void {
    const room = this.rooms.get(id)
    if (room) this.forgetMembers(room)
    this.rooms.delete(id)
  }

  clear(): void {
    this.rooms.clear()
    this.cachedMembers = 0
  }
}

export function toCached(row: MemberRow): CachedMember {
  return {
    status: row.status,
    role: row.role,
    joinedSeq: row.joined_seq,
    mutedUntil: row.muted_until,
    banned: row.banned === 1,
    bannedUntil: row.banned_until,
    invitedUntil: row.invited_until,
    joinedPos: row.joined_pos,
    leftPos: row.left_pos,
    readSeq: row.read_seq,
  }
}

export function parsePermissions(text: string): Permission[] {
  return text.split(' ').filter(isPermission)
}
