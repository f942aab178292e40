/**
 * Rooms (protocol.md §6): 1:1 rooms opened on first contact, groups created from a signed create
 * event, and every membership, role and settings change as a signed event appended to the room's
 * log. The checks that need no order (who signs, with which key, when) are made here; the rules
 * (`planRoomEvent`) are checked by the writer, in commit order. Room ids are 128 random bits,
 * never derived from the members (XMTP v1's deterministic topics leaked who talks to whom).
 */
import { randomBytes } from 'node:crypto'
import {
  isBanned,
  isInvited,
  isMuted,
  type LogRecord,
  type Member,
  type Membership,
  type MyRoom,
  type Room,
  type RoomEvent,
  verifyRoomEventSignature,
} from '@dmtp/protocol'
import type { AppContext } from '../../context.js'
import { HttpError } from '../../errors.js'
import { memberChannel } from '../../ports/pub-sub/channels.js'
import { listLogRecords } from '../messages/reader.js'
import { toRoomRecord } from '../messages/records.js'
import { checkLinkSignature } from '../room-links/use-link.js'
import type { MemberRow, RoomRow } from './reader.js'
import { RoomReader } from './reader.js'
import { type CachedMember, type CachedRoom, toCached } from './room-cache.js'
import { NO_EPOCH, roomEncryption } from './room-epoch.js'
import { RoomTransactor } from './transactor.js'

export type RoomServiceDeps = Pick<AppContext, 'database' | 'crypto' | 'keys' | 'roomCache' | 'writer' | 'clock' | 'pubSub'> & {
  limits: AppContext['config']['limits']
}

const noRoom = () => new HttpError({ code: 'room_not_found', message: 'No such room.' })

export class RoomService {
  constructor(private readonly deps: RoomServiceDeps) {}

  /** The 1:1 room of `address` and `peer`, created on first contact. */
  async openDirect(address: string, peer: string): Promise<{ room: Room; membership: Membership }> {
    if (address === peer)
      throw new HttpError({ code: 'invalid_request', message: 'You cannot open a conversation with yourself.' })
    const pair = address < peer ? [address, peer] : [peer, address]
    const key = pair.join(':')
    const { database, clock } = this.deps
    let row = await new RoomReader(database.db).findDirect(key)
    if (!row) {
      await database.transaction(async ({ db, onCommit }) => {
        const transactor = new RoomTransactor(db)
        if (await transactor.findDirect(key)) return
        const id = randomBytes(16).toString('base64url')
        // Two first contacts at once: one room wins, the other insert changes nothing.
        const created = await transactor.insertDirectRoom({
          id,
          type: 'p2p',
          name: null,
          description: '',
          avatar: null,
          announce: 0,
          direct_key: key,
          seq: 0,
          member_count: 2,
          log_index: 0,
          log_head: null,
          log_head_seq: null,
          last_pos: 0,
          ...NO_EPOCH,
          created_at: clock.now().toISOString(),
          created_by: null,
          deleted_at: null,
        })
        if (!created) return
        for (const member of pair) {
          await transactor.upsertMember({
            room_id: id,
            address: member,
            status: 'member',
            role: 'member',
            joined_seq: 0,
            joined_pos: 0,
            banned: 0,
            read_seq: 0,
          })
        }
        // Both wallets' open streams take the new room in; its first position is 1.
        onCommit(() => {
          for (const member of pair)
            this.deps.pubSub.publish(memberChannel(member), { roomId: id, status: 'member', seq: 1, pos: 0 })
        })
      })
      row = await new RoomReader(database.db).findDirect(key)
      if (!row) throw new Error('room vanished after insert')
    }
    const room = await this.cached(row.id)
    return { room: toRoom(room.row, room.room.customRoles), membership: this.membershipOf(room, address) }
  }

  /**
   * Creates a group from its signed `create` event (the creator's client chose the random id).
   * @throws {HttpError} invalid_request, stale_key, invalid_signature, clock_skew, conflict.
   */
  async create(address: string, event: RoomEvent): Promise<{ room: Room; membership: Membership }> {
    if (event.type !== 'create')
      throw new HttpError({ code: 'invalid_request', message: 'A new room starts with a create event.' })
    if (event.basis !== 0) throw new HttpError({ code: 'invalid_request', message: 'A create event has basis 0.' })
    await this.checkEvent(address, event)
    await this.deps.writer.append(event)
    const room = await this.cached(event.room)
    return { room: toRoom(room.row, room.room.customRoles), membership: this.membershipOf(room, address) }
  }

  /**
   * Appends a signed event (join, leave, invite, moderation, roles, settings) to a room's log.
   * Joining a room one is in again changes nothing (`entry` null).
   */
  async postEvent(
    address: string,
    roomId: string,
    event: RoomEvent,
  ): Promise<{ entry: LogRecord | null; membership: Membership }> {
    if (event.room !== roomId) throw new HttpError({ code: 'invalid_request', message: 'The event names another room.' })
    if (event.type === 'create') throw new HttpError({ code: 'conflict', message: 'This room already exists.' })
    const room = await this.deps.roomCache.room(this.deps.database.db, roomId)
    if (!room || room.room.deleted) throw noRoom()
    await this.deps.roomCache.members(this.deps.database.db, room, [address])
    if (event.type === 'join' && room.member(address).status === 'member') {
      return { entry: null, membership: this.membershipOf(room, address) }
    }
    await this.checkEvent(address, event)
    try {
      const result = await this.deps.writer.append(event)
      return {
        entry: JSON.parse(result.recordJson) as LogRecord,
        membership: this.membershipOf(await this.cached(roomId), address),
      }
    } catch (error) {
      // Two joins raced: the other one made this wallet a member.
      if (event.type === 'join' && error instanceof HttpError && error.code === 'conflict') {
        const now = await this.cached(roomId)
        await this.deps.roomCache.members(this.deps.database.db, now, [address])
        if (now.member(address).status === 'member') return { entry: null, membership: this.membershipOf(now, address) }
      }
      throw error
    }
  }

  /**
   * What needs no order: the actor signs as the signed-in wallet, with its current key, now (and
   * the invite link it uses, if any, is its issuer's).
   */
  private async checkEvent(address: string, event: RoomEvent): Promise<void> {
    if (event.actor !== address) {
      throw new HttpError({ code: 'sender_mismatch', message: 'The event names another actor than the signed-in wallet.' })
    }
    const skew = Math.abs(Date.parse(event.at) - this.deps.clock.now().getTime())
    if (skew > this.deps.limits.maxClockSkewSeconds * 1000) {
      throw new HttpError({ code: 'clock_skew', message: 'The event time is too far from the server time; check your clock.' })
    }
    const key = await this.deps.keys.getCurrent(address)
    if (!key || key.cid !== event.actorKey) {
      throw new HttpError({ code: 'stale_key', message: 'actorKey is not your current key bundle; fetch it and retry.' })
    }
    if (!(await verifyRoomEventSignature(this.deps.crypto, event, key.ed25519))) {
      throw new HttpError({ code: 'invalid_signature', message: "The event signature does not verify with the actor's key." })
    }
    if ((event.type === 'join' || event.type === 'request') && event.link) await checkLinkSignature(this.deps, event.link)
  }

  /**
   * The room, for a wallet that may read it: anyone for a public room; members only for 1:1 and
   * private rooms. Others get `room_not_found` (ids cannot be probed).
   */
  async requireReader(address: string, roomId: string): Promise<CachedRoom> {
    const room = await this.deps.roomCache.room(this.deps.database.db, roomId)
    if (!room || room.room.deleted) throw noRoom()
    if (room.room.type === 'public') return room
    await this.deps.roomCache.members(this.deps.database.db, room, [address])
    if (room.member(address).status === 'member') return room
    throw noRoom()
  }

  async get(address: string, roomId: string): Promise<{ room: Room; membership: Membership }> {
    const room = await this.deps.roomCache.room(this.deps.database.db, roomId)
    if (!room || room.room.deleted) throw noRoom()
    await this.deps.roomCache.members(this.deps.database.db, room, [address])
    const status = room.member(address).status
    if (room.room.type !== 'public' && status === 'none') throw noRoom()
    return { room: toRoom(room.row, room.room.customRoles), membership: this.membershipOf(room, address) }
  }

  /** The signed-in wallet's rooms (members, invitations, requests), most recent first. */
  async list(address: string): Promise<MyRoom[]> {
    const reader = new RoomReader(this.deps.database.db)
    const now = this.deps.clock.now().toISOString()
    const rows = await reader.listRoomsOf(address, now)
    const ids = rows.map((row) => row.id)
    const [last, unread, peers, roles] = await Promise.all([
      reader.listLastMessages(ids),
      reader.countUnread(address),
      reader.listPeers(
        address,
        rows.filter((row) => row.type === 'p2p').map((row) => row.id),
      ),
      Promise.all(rows.map(async (row) => [row.id, await this.deps.roomCache.room(this.deps.database.db, row.id)] as const)),
    ])
    const lastByRoom = new Map(last.map((row) => [row.room_id, row]))
    const unreadByRoom = new Map(unread.map((row) => [row.room_id, Number(row.unread)]))
    const cached = new Map(roles)
    return rows
      .map((row) => {
        const lastRow = lastByRoom.get(row.id)
        return {
          room: toRoom(row, cached.get(row.id)?.room.customRoles ?? {}),
          membership: membership(
            {
              status: row.m_status as Member['status'],
              role: row.m_role,
              mutedUntil: row.m_muted_until,
              banned: false,
              bannedUntil: null,
              invitedUntil: row.m_invited_until,
              readSeq: row.m_read_seq,
            },
            now,
          ),
          peer: peers.get(row.id) ?? null,
          unread: unreadByRoom.get(row.id) ?? 0,
          lastMessage: lastRow ? (toRoomRecord({ ...lastRow, kind: 'envelope' }) as MyRoom['lastMessage']) : null,
        }
      })
      .sort((x, y) =>
        (y.lastMessage?.receivedAt ?? y.room.createdAt).localeCompare(x.lastMessage?.receivedAt ?? x.room.createdAt),
      )
  }

  async search({
    q,
    cursor = 0,
    limit,
  }: {
    q: string
    cursor?: number | undefined
    limit: number
  }): Promise<{ rooms: Room[]; next: number | null }> {
    const rows = await new RoomReader(this.deps.database.db).searchPublic({ text: q, offset: cursor, limit })
    const rooms = await Promise.all(
      rows.map(async (row) =>
        toRoom(row, (await this.deps.roomCache.room(this.deps.database.db, row.id))?.room.customRoles ?? {}),
      ),
    )
    return { rooms, next: rows.length === limit ? cursor + limit : null }
  }

  async members(
    address: string,
    roomId: string,
    query: { status: 'member' | 'invited' | 'requested' | 'banned'; after?: string | undefined; limit: number },
  ): Promise<{ members: Member[]; next: string | null; total: number }> {
    const room = await this.requireReader(address, roomId)
    const reader = new RoomReader(this.deps.database.db)
    const now = this.deps.clock.now().toISOString()
    const split = query.after?.indexOf('~') ?? -1
    const after =
      query.after && split > 0
        ? { joinedSeq: Number(query.after.slice(0, split)), address: query.after.slice(split + 1) }
        : undefined
    const rows = await reader.listMembers(roomId, { status: query.status, after, limit: query.limit, now })
    const total =
      query.status === 'member'
        ? room.room.members
        : query.status === 'banned'
          ? await reader.countBanned(roomId, now)
          : await reader.countMembers(roomId, query.status)
    const last = rows.at(-1)
    return {
      members: rows.map((row) => toMember(row, now)),
      next: rows.length === query.limit && last ? `${last.joined_seq}~${last.address}` : null,
      total,
    }
  }

  async log(
    address: string,
    roomId: string,
    { after, limit }: { after: number; limit: number },
  ): Promise<{ entries: LogRecord[]; head: number; seq: number }> {
    await this.requireReader(address, roomId)
    // The room's position first, from the database: every entry up to it is committed, so the
    // entries read next hold all of them (a client then knows its log is whole up to there).
    const room = await new RoomReader(this.deps.database.db).findRoom(roomId)
    const rows = await listLogRecords(this.deps.database.db, { roomId, after, limit })
    return { entries: rows.map((row) => toRoomRecord(row) as LogRecord), head: room?.log_index ?? 0, seq: room?.seq ?? 0 }
  }

  /** Moves the wallet's read marker forward (never back); a position past the room's newest is refused. */
  async markRead(address: string, roomId: string, seq: number): Promise<{ readSeq: number }> {
    const room = await this.requireReader(address, roomId)
    if (room.member(address).status !== 'member')
      throw new HttpError({ code: 'not_member', message: 'You are not a member of this room.' })
    const newest = (await new RoomReader(this.deps.database.db).findRoom(roomId))?.seq ?? 0
    if (seq > newest) {
      throw new HttpError({
        code: 'position_out_of_range',
        message: `Position ${seq} is beyond the room's newest (${newest}).`,
      })
    }
    const readSeq = await new RoomTransactor(this.deps.database.db).markRead(roomId, address, seq)
    const cached = room.members.get(address)
    if (cached) cached.readSeq = Math.max(cached.readSeq, readSeq)
    return { readSeq }
  }

  private async cached(id: string): Promise<CachedRoom> {
    const room = await this.deps.roomCache.room(this.deps.database.db, id)
    if (!room) throw noRoom()
    return room
  }

  private membershipOf(room: CachedRoom, address: string): Membership {
    const state = room.members.get(address) ?? { ...room.member(address), joinedPos: 0, leftPos: null, readSeq: 0 }
    return membership(state, this.deps.clock.now().toISOString())
  }
}

function membership(
  state: Pick<CachedMember, 'status' | 'role' | 'mutedUntil' | 'banned' | 'bannedUntil' | 'invitedUntil' | 'readSeq'>,
  now: string,
): Membership {
  const member = { ...state, joinedSeq: 0 }
  const banned = isBanned(member, now)
  // A lapsed invitation is no standing: the invitee must be invited again.
  const lapsed = state.status === 'invited' && !isInvited(member, now)
  return {
    status: lapsed ? 'none' : state.status,
    role: state.status === 'member' ? state.role : null,
    mutedUntil: isMuted(member, now) ? state.mutedUntil : null,
    banned,
    bannedUntil: banned ? state.bannedUntil : null,
    invitedUntil: state.status === 'invited' && !lapsed ? state.invitedUntil : null,
    readSeq: state.readSeq,
  }
}

function toMember(row: MemberRow, now: string): Member {
  const state = toCached(row)
  const { mutedUntil, banned, bannedUntil, invitedUntil } = membership(state, now)
  return {
    address: row.address,
    status: row.status,
    role: row.role,
    joinedSeq: row.joined_seq,
    mutedUntil,
    banned,
    bannedUntil,
    invitedUntil,
    readSeq: row.read_seq,
  }
}

export function toRoom(row: RoomRow, customRoles: Record<string, readonly string[]>): Room {
  const pair = row.direct_key ? (row.direct_key.split(':') as [string, string]) : null
  return {
    id: row.id,
    type: row.type,
    name: row.name,
    description: row.description,
    avatar: row.avatar,
    announce: row.announce === 1,
    memberCount: row.member_count,
    messageCount: row.seq,
    customRoles: Object.fromEntries(Object.entries(customRoles).map(([name, list]) => [name, [...list]])),
    createdAt: row.created_at,
    logHead: row.log_head && row.log_head_seq ? { index: row.log_index, seq: row.log_head_seq, cid: row.log_head } : null,
    pair,
    encryption: roomEncryption(row),
  }
}
