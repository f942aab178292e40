/**
 * Queries of rooms, their members and roles (no writes: `transactor.ts` adds those).
 */
import { type Selectable, sql } from 'kysely'
import type { Db } from '../../db/database.js'
import type { RoomMembersTable } from '../../db/schema/room-members.js'
import type { RoomsTable } from '../../db/schema/rooms.js'

export type RoomRow = Selectable<RoomsTable>
export type MemberRow = Selectable<RoomMembersTable>

/** Where a page of members ends: the last one's seniority and address. */
export type MemberPosition = { joinedSeq: number; address: string }

export class RoomReader {
  constructor(readonly db: Db) {}

  findRoom(id: string): Promise<RoomRow | undefined> {
    return this.db.selectFrom('rooms').selectAll().where('id', '=', id).executeTakeFirst()
  }

  findDirect(directKey: string): Promise<RoomRow | undefined> {
    return this.db.selectFrom('rooms').selectAll().where('direct_key', '=', directKey).executeTakeFirst()
  }

  findMembers(roomId: string, addresses: string[]): Promise<MemberRow[]> {
    if (addresses.length === 0) return Promise.resolve([])
    return this.db
      .selectFrom('room_members')
      .selectAll()
      .where('room_id', '=', roomId)
      .where('address', 'in', addresses)
      .execute()
  }

  /** Members of a 1:1 room (its two wallets). */
  listAllMembers(roomId: string): Promise<MemberRow[]> {
    return this.db.selectFrom('room_members').selectAll().where('room_id', '=', roomId).execute()
  }

  async listRoles(roomId: string): Promise<{ name: string; permissions: string }[]> {
    return this.db.selectFrom('room_roles').select(['name', 'permissions']).where('room_id', '=', roomId).execute()
  }

  async countOwners(roomId: string): Promise<number> {
    const row = await this.db
      .selectFrom('room_members')
      .select((eb) => eb.fn.countAll<number>().as('n'))
      .where('room_id', '=', roomId)
      .where('status', '=', 'member')
      .where('role', '=', 'owner')
      .executeTakeFirstOrThrow()
    return Number(row.n)
  }

  async countMembers(roomId: string, status: MemberRow['status'] = 'member'): Promise<number> {
    const row = await this.db
      .selectFrom('room_members')
      .select((eb) => eb.fn.countAll<number>().as('n'))
      .where('room_id', '=', roomId)
      .where('status', '=', status)
      .executeTakeFirstOrThrow()
    return Number(row.n)
  }

  /** Addresses banned from the room at `now` (bans that lifted by then do not count). */
  async countBanned(roomId: string, now: string): Promise<number> {
    const row = await this.db
      .selectFrom('room_members')
      .select((eb) => eb.fn.countAll<number>().as('n'))
      .where('room_id', '=', roomId)
      .where('banned', '=', 1)
      .where((eb) => eb.or([eb('banned_until', 'is', null), eb('banned_until', '>', now)]))
      .executeTakeFirstOrThrow()
    return Number(row.n)
  }

  /** The longest-standing member with `role` (any role when undefined). */
  findSenior(roomId: string, role?: string): Promise<MemberRow | undefined> {
    let query = this.db.selectFrom('room_members').selectAll().where('room_id', '=', roomId).where('status', '=', 'member')
    if (role) query = query.where('role', '=', role)
    // The protocol's tie-break (pickSuccessor): lower-case hex orders the same under any collation.
    return query.orderBy('joined_seq').orderBy(sql`lower(address)`).limit(1).executeTakeFirst()
  }

  /** A page of a room's members by seniority, or of its banned addresses. */
  listMembers(
    roomId: string,
    {
      status,
      after,
      limit,
      now,
    }: { status: 'member' | 'invited' | 'requested' | 'banned'; after?: MemberPosition; limit: number; now: string },
  ): Promise<MemberRow[]> {
    let query = this.db.selectFrom('room_members').selectAll().where('room_id', '=', roomId)
    query =
      status === 'banned'
        ? query.where('banned', '=', 1).where((eb) => eb.or([eb('banned_until', 'is', null), eb('banned_until', '>', now)]))
        : query.where('status', '=', status)
    if (status === 'invited') query = query.where((eb) => eb.or([eb('invited_until', 'is', null), eb('invited_until', '>', now)]))
    if (after) {
      query = query.where((eb) => eb(eb.refTuple('joined_seq', 'address'), '>', eb.tuple(after.joinedSeq, after.address)))
    }
    return query.orderBy('joined_seq').orderBy('address').limit(limit).execute()
  }

  /** Rooms where `address` is a member, is invited (an invitation that has not lapsed at `now`) or asked to join. */
  listRoomsOf(
    address: string,
    now: string,
  ): Promise<
    (RoomRow & {
      m_status: string
      m_role: string
      m_muted_until: string | null
      m_invited_until: string | null
      m_read_seq: number
    })[]
  > {
    return this.db
      .selectFrom('room_members')
      .innerJoin('rooms', 'rooms.id', 'room_members.room_id')
      .selectAll('rooms')
      .select([
        'room_members.status as m_status',
        'room_members.role as m_role',
        'room_members.muted_until as m_muted_until',
        'room_members.invited_until as m_invited_until',
        'room_members.read_seq as m_read_seq',
      ])
      .where('room_members.address', '=', address)
      .where((eb) =>
        eb.or([
          eb('room_members.status', 'in', ['member', 'requested']),
          eb.and([
            eb('room_members.status', '=', 'invited'),
            eb.or([eb('room_members.invited_until', 'is', null), eb('room_members.invited_until', '>', now)]),
          ]),
        ]),
      )
      .where('rooms.deleted_at', 'is', null)
      .execute()
  }

  /** The other wallet of each 1:1 room among `roomIds`. */
  async listPeers(address: string, roomIds: string[]): Promise<Map<string, string>> {
    if (roomIds.length === 0) return new Map()
    const rows = await this.db
      .selectFrom('room_members')
      .select(['room_id', 'address'])
      .where('room_id', 'in', roomIds)
      .where('address', '!=', address)
      .execute()
    return new Map(rows.map((row) => [row.room_id, row.address]))
  }

  /**
   * Each room's newest plain message that was not recalled: one backward walk of each room's
   * (room_id, seq) key, which stops at the first plain message (usually the newest row).
   */
  async listLastMessages(roomIds: string[]) {
    const rows = await Promise.all(
      roomIds.map((roomId) =>
        this.db
          .selectFrom('messages')
          .select(['room_id', 'seq', 'cid', 'e2ee', 'received_at', 'envelope', 'content', 'content_cid'])
          .where('room_id', '=', roomId)
          .where('kind', '=', 'envelope')
          .where('type', '=', 'message')
          .where('recalled_by', 'is', null)
          .orderBy('seq', 'desc')
          .limit(1)
          .executeTakeFirst(),
      ),
    )
    return rows.filter((row) => row !== undefined)
  }

  /** Plain messages from others after the user's read marker, per room. */
  countUnread(address: string) {
    return this.db
      .selectFrom('room_members')
      .innerJoin('messages', (join) =>
        join.onRef('messages.room_id', '=', 'room_members.room_id').onRef('messages.seq', '>', 'room_members.read_seq'),
      )
      .select(['messages.room_id as room_id', (eb) => eb.fn.countAll<number>().as('unread')])
      .where('room_members.address', '=', address)
      .where('room_members.status', '=', 'member')
      .where('messages.kind', '=', 'envelope')
      .where('messages.type', '=', 'message')
      .where('messages.sender', '!=', address)
      .where('messages.recalled_by', 'is', null)
      .groupBy('messages.room_id')
      .execute()
  }

  /** Public rooms whose name or description holds `text`, largest first. */
  searchPublic({ text, offset, limit }: { text: string; offset: number; limit: number }): Promise<RoomRow[]> {
    let query = this.db.selectFrom('rooms').selectAll().where('type', '=', 'public').where('deleted_at', 'is', null)
    const needle = text.trim().toLowerCase()
    if (needle) {
      const pattern = `%${needle.replace(/[\\%_]/g, (c) => `\\${c}`)}%`
      query = query.where((eb) =>
        eb.or([
          eb(sql`lower(name)`, 'like', sql`${pattern} escape '\\'`),
          eb(sql`lower(description)`, 'like', sql`${pattern} escape '\\'`),
        ]),
      )
    }
    return query.orderBy('member_count', 'desc').orderBy('id').limit(limit).offset(offset).execute()
  }
}
