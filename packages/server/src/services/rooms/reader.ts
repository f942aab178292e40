import type { Db } from '../../db/database.js'

export type RoomRow = { id: string; kind: string; member_a: string; member_b: string; message_count: number; created_at: string }

export function findRoom(db: Db, id: string): Promise<RoomRow | undefined> {
  return db.selectFrom('rooms').selectAll().where('id', '=', id).executeTakeFirst()
}

export function findRoomByMembers(db: Db, memberA: string, memberB: string): Promise<RoomRow | undefined> {
  return db.selectFrom('rooms').selectAll().where('member_a', '=', memberA).where('member_b', '=', memberB).executeTakeFirst()
}

export function listRoomsOf(db: Db, address: string): Promise<RoomRow[]> {
  return db
    .selectFrom('rooms')
    .selectAll()
    .where((eb) => eb.or([eb('member_a', '=', address), eb('member_b', '=', address)]))
    .execute()
}

export function listLastMessages(db: Db, rooms: RoomRow[]) {
  const withMessages = rooms.filter((room) => room.message_count > 0)
  if (withMessages.length === 0) return Promise.resolve([])
  return db
    .selectFrom('messages')
    .select(['room_id', 'seq', 'cid', 'e2ee', 'received_at', 'envelope'])
    .where((eb) => eb.or(withMessages.map((room) => eb.and([eb('room_id', '=', room.id), eb('seq', '=', room.message_count)]))))
    .execute()
}

/** Messages from others above the user's read marker, per room. */
export function countUnread(db: Db, address: string) {
  return db
    .selectFrom('messages')
    .innerJoin('rooms', 'rooms.id', 'messages.room_id')
    .leftJoin('room_reads', (join) =>
      join.onRef('room_reads.room_id', '=', 'messages.room_id').on('room_reads.address', '=', address),
    )
    .select(['messages.room_id as room_id', (eb) => eb.fn.countAll<number>().as('unread')])
    .where((eb) => eb.or([eb('rooms.member_a', '=', address), eb('rooms.member_b', '=', address)]))
    .where('messages.sender', '!=', address)
    .where((eb) => eb('messages.seq', '>', eb.fn.coalesce('room_reads.read_seq', eb.lit(0))))
    .groupBy('messages.room_id')
    .execute()
}
