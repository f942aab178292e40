/**
 * 1:1 rooms. A room id is 128 random bits chosen by the server when two wallets first talk, never
 * derived from their addresses (XMTP v1's deterministic topics leaked who talks to whom). Members
 * are fixed at creation, so membership is cached for the life of the process.
 */
import { randomBytes } from 'node:crypto'
import type { Conversation, Room } from '@dmtp/protocol'
import type { Database } from '../../db/database.js'
import { HttpError } from '../../errors.js'
import type { Clock } from '../../identity.js'
import { toMessageRecord } from '../messages/records.js'
import { countUnread, findRoom, findRoomByMembers, listLastMessages, listRoomsOf, type RoomRow } from './reader.js'

export class RoomService {
  private readonly members = new Map<string, readonly [string, string]>()

  constructor(
    private readonly database: Database,
    private readonly clock: Clock,
  ) {}

  /** Returns the room of `address` and `peer`, creating it on first contact. */
  async open(address: string, peer: string): Promise<Room> {
    if (address === peer)
      throw new HttpError({ code: 'invalid_request', message: 'You cannot open a conversation with yourself.' })
    const [a, b] = address < peer ? [address, peer] : [peer, address]
    const existing = await findRoomByMembers(this.database.db, a, b)
    if (existing) return toRoom(existing)
    await this.database.db
      .insertInto('rooms')
      .values({
        id: randomBytes(16).toString('base64url'),
        kind: 'p2p',
        member_a: a,
        member_b: b,
        message_count: 0,
        created_at: this.clock.now().toISOString(),
      })
      .onConflict((oc) => oc.columns(['member_a', 'member_b']).doNothing())
      .execute()
    const created = await findRoomByMembers(this.database.db, a, b)
    if (!created) throw new Error('room vanished after insert')
    return toRoom(created)
  }

  /** The members of a room, or undefined when there is no such room. */
  async getMembers(roomId: string): Promise<readonly [string, string] | undefined> {
    const cached = this.members.get(roomId)
    if (cached) return cached
    const row = await findRoom(this.database.db, roomId)
    if (!row) return undefined
    const members = [row.member_a, row.member_b] as const
    if (this.members.size > 100_000) this.members.clear()
    this.members.set(roomId, members)
    return members
  }

  /**
   * @throws {HttpError} room_not_found for a room that does not exist or `address` is not in: the
   * two are not told apart, so room ids cannot be probed.
   */
  async requireMember(address: string, roomId: string): Promise<readonly [string, string]> {
    const members = await this.getMembers(roomId)
    if (!members?.includes(address)) {
      throw new HttpError({ code: 'room_not_found', message: 'No such conversation.' })
    }
    return members
  }

  async conversations(address: string): Promise<Conversation[]> {
    const db = this.database.db
    const rooms = await listRoomsOf(db, address)
    const [last, unread] = await Promise.all([listLastMessages(db, rooms), countUnread(db, address)])
    const lastByRoom = new Map(last.map((row) => [row.room_id, row]))
    const unreadByRoom = new Map(unread.map((row) => [row.room_id, Number(row.unread)]))
    return rooms
      .map((row) => {
        const lastRow = lastByRoom.get(row.id)
        return {
          room: toRoom(row),
          peer: row.member_a === address ? row.member_b : row.member_a,
          messageCount: row.message_count,
          unread: unreadByRoom.get(row.id) ?? 0,
          lastMessage: lastRow ? toMessageRecord(lastRow) : null,
        }
      })
      .sort((x, y) =>
        (y.lastMessage?.receivedAt ?? y.room.createdAt).localeCompare(x.lastMessage?.receivedAt ?? x.room.createdAt),
      )
  }

  /** Moves the user's read marker forward (never back, never past the last message). */
  async markRead(address: string, roomId: string, seq: number): Promise<{ readSeq: number }> {
    await this.requireMember(address, roomId)
    const db = this.database.db
    const room = await findRoom(db, roomId)
    const target = Math.min(seq, room?.message_count ?? 0)
    await db
      .insertInto('room_reads')
      .values({ address, room_id: roomId, read_seq: target })
      .onConflict((oc) =>
        oc
          .columns(['address', 'room_id'])
          .doUpdateSet({ read_seq: (eb) => eb.ref('excluded.read_seq') })
          .where((eb) => eb('room_reads.read_seq', '<', eb.ref('excluded.read_seq'))),
      )
      .execute()
    const row = await db
      .selectFrom('room_reads')
      .select('read_seq')
      .where('address', '=', address)
      .where('room_id', '=', roomId)
      .executeTakeFirstOrThrow()
    return { readSeq: row.read_seq }
  }
}

function toRoom(row: RoomRow): Room {
  return { id: row.id, kind: 'p2p', members: [row.member_a, row.member_b], createdAt: row.created_at }
}
