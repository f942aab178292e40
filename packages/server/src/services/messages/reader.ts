/**
 * Queries of room positions: a room's history, and a wallet's stream (every position of its
 * rooms after a cursor, merged in stream order).
 */
import { sql } from 'kysely'
import type { Db } from '../../db/database.js'
import { type RoomRow, roomRecordJson } from './records.js'

const recordColumns = ['kind', 'cid', 'seq', 'pos', 'e2ee', 'received_at', 'envelope', 'content', 'content_cid'] as const

export function listRoomRecords(
  db: Db,
  { roomId, cursor, limit, order }: { roomId: string; cursor: number | undefined; limit: number; order: 'asc' | 'desc' },
) {
  let query = db.selectFrom('messages').select(recordColumns).where('room_id', '=', roomId)
  if (cursor !== undefined) query = query.where('seq', order === 'asc' ? '>' : '<', cursor)
  return query.orderBy('seq', order).limit(limit).execute()
}

/** Log entries of a room after position `after`, in order. */
export function listLogRecords(db: Db, { roomId, after, limit }: { roomId: string; after: number; limit: number }) {
  return (
    db
      .selectFrom('messages')
      .select(recordColumns)
      .where('room_id', '=', roomId)
      // A literal, so that the partial index of log entries (kind = 'log') applies.
      .where('kind', '=', sql.lit('log'))
      .where('seq', '>', after)
      .orderBy('seq')
      .limit(limit)
      .execute()
  )
}

export type StreamEntry = { pos: number; roomId: string; seq: number; recordJson: string }

/**
 * The rooms a wallet's stream covers after `after`: those it is in, and those it left since
 * (up to where it left), that have news.
 */
export function listStreamRooms(db: Db, address: string, after: number) {
  return db
    .selectFrom('room_members')
    .innerJoin('rooms', 'rooms.id', 'room_members.room_id')
    .select([
      'rooms.id as id',
      'rooms.last_pos as last_pos',
      'room_members.joined_pos as joined_pos',
      'room_members.left_pos as left_pos',
      'room_members.status as status',
    ])
    .where('room_members.address', '=', address)
    .where((eb) => eb.or([eb('room_members.status', '=', 'member'), eb('room_members.left_pos', '>', after)]))
    .execute()
}

/**
 * Up to `limit` positions of the wallet's rooms after stream cursor `after`, in stream order.
 * Each room is read by its own index seek and the pages merged, so the cost is what is returned
 * (per room with news), not the whole backlog.
 */
export async function listStreamPage(db: Db, address: string, after: number, limit: number): Promise<StreamEntry[]> {
  const rooms = (await listStreamRooms(db, address, after)).filter((room) => room.last_pos > after)
  const pages = await Promise.all(
    rooms.map((room) => {
      let query = db
        .selectFrom('messages')
        .select([...recordColumns, 'room_id'])
        .where('room_id', '=', room.id)
        .where('pos', '>', Math.max(after, room.joined_pos - 1))
      if (room.status !== 'member' && room.left_pos !== null) query = query.where('pos', '<=', room.left_pos)
      return query.orderBy('pos').limit(limit).execute()
    }),
  )
  const rows = pages.flat().sort((a, b) => a.pos - b.pos)
  return rows.slice(0, limit).map((row) => ({
    pos: row.pos,
    roomId: row.room_id,
    seq: row.seq,
    recordJson: roomRecordJson(row as RoomRow),
  }))
}

/** The newest stream position of the wallet's rooms, and where it acknowledged. */
export async function findStreamState(db: Db, address: string): Promise<{ latest: number; acked: number }> {
  const [rooms, user] = await Promise.all([
    db
      .selectFrom('room_members')
      .innerJoin('rooms', 'rooms.id', 'room_members.room_id')
      .select((eb) => eb.fn.max('rooms.last_pos').as('latest'))
      .where('room_members.address', '=', address)
      .where('room_members.status', '=', 'member')
      .executeTakeFirst(),
    db.selectFrom('users').select('acked_pos').where('address', '=', address).executeTakeFirst(),
  ])
  return { latest: Number(rooms?.latest ?? 0), acked: user?.acked_pos ?? 0 }
}

export function findMessagesByIds(db: Db, ids: string[]) {
  return db
    .selectFrom('messages')
    .select(['id', 'room_id', 'sender', 'cid', 'seq', 'e2ee', 'received_at', 'kind'])
    .where('id', 'in', ids)
    .execute()
}

/** Whether `cid` is a log entry of `roomId` (what a signed message names as its log head). */
export async function isLogEntryOf(db: Db, roomId: string, cid: string): Promise<boolean> {
  const row = await db
    .selectFrom('messages')
    .select('room_id')
    .where('cid', '=', cid)
    .where('kind', '=', 'log')
    .executeTakeFirst()
  return row?.room_id === roomId
}

/** Whether `migrated` is the envelope a receiver's migration put in place of `relayed`. */
export async function isMigrationOf(db: Db, migrated: string, relayed: string): Promise<boolean> {
  const row = await db
    .selectFrom('cids')
    .select('cid')
    .where('cid', '=', migrated)
    .where('replaces', '=', relayed)
    .executeTakeFirst()
  return row !== undefined
}
