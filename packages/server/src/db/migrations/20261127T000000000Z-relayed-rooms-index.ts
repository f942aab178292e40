/**
 * The relayed-messages index also holds the room, so the receiver's Processing Chats (the rooms
 * that still hold relayed messages, recomputed after each migration upload) are read from the
 * index alone instead of from every relayed row.
 * Frozen in time: takes Kysely<any> and imports no app code.
 */
import type { Kysely } from 'kysely'
import type { Dialect } from './index.js'

export async function up(db: Kysely<any>, _dialect: Dialect): Promise<void> {
  await db.schema.createIndex('messages_relayed_rooms_idx').on('messages').columns(['receiver', 'e2ee', 'room_id']).execute()
  await db.schema.dropIndex('messages_relayed_idx').execute()
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.createIndex('messages_relayed_idx').on('messages').columns(['receiver', 'e2ee']).execute()
  await db.schema.dropIndex('messages_relayed_rooms_idx').execute()
}
