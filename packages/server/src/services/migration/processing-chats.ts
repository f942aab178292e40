/**
 * Seed 002's Processing Chats: the rooms whose relayed messages (pattern β) still wait for their
 * receiver's keys. The one module that writes the table: a relayed send notes its room, each
 * migration upload drops the rooms it emptied (`MigrationTransactor.refreshProcessingChats`). Its
 * reader is `listProcessingReceivers` (reader.ts).
 */
import type { Db } from '../../db/database.js'
import { listRelayedRooms } from './reader.js'

export async function noteProcessingChat(db: Db, receiver: string, roomId: string): Promise<void> {
  await db
    .insertInto('processing_chats')
    .values({ address: receiver, room_id: roomId })
    .onConflict((oc) => oc.columns(['address', 'room_id']).doNothing())
    .execute()
}

/** Keeps only the rooms that still hold relayed messages for `receiver`. */
export async function refreshProcessingChats(db: Db, receiver: string): Promise<void> {
  const rooms = await listRelayedRooms(db, receiver)
  let query = db.deleteFrom('processing_chats').where('address', '=', receiver)
  if (rooms.length > 0) query = query.where('room_id', 'not in', rooms)
  await query.execute()
}
