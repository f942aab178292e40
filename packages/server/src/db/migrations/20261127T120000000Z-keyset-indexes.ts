/**
 * Pattern β pages that cost what they return, however long the queue. Both listings page by a
 * keyset (the last row's sort key), but their indexes held only part of it: each batch walked
 * every earlier row of the receiver again and sorted the rest, so a queue of n messages cost
 * O(n²). With the whole sort key indexed, each page seeks to its first row and reads in order.
 * The sweep of pending block deletions reads a partial index instead of every tombstone ever.
 * Frozen in time: takes Kysely<any> and imports no app code.
 */
import { type Kysely, sql } from 'kysely'
import type { Dialect } from './index.js'

export async function up(db: Kysely<any>, _dialect: Dialect): Promise<void> {
  // Relayed messages without a handoff, by room and seq (also covers counts and Processing Chats).
  await db.schema.createIndex('messages_relayed_seq_idx').on('messages').columns(['receiver', 'e2ee', 'room_id', 'seq']).execute()
  await db.schema.dropIndex('messages_relayed_rooms_idx').execute()
  // A receiver's handoffs to one key, oldest first, message id breaking ties.
  await db.schema
    .createIndex('handoffs_listing_idx')
    .on('handoffs')
    .columns(['receiver', 'receiver_key', 'created_at', 'message_id'])
    .execute()
  await db.schema.dropIndex('handoffs_receiver_idx').execute()
  await db.schema
    .createIndex('block_deletions_pending_idx')
    .on('block_deletions')
    .column('cid')
    .where(sql.ref('done_at'), 'is', null)
    .execute()
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.dropIndex('block_deletions_pending_idx').execute()
  await db.schema.createIndex('handoffs_receiver_idx').on('handoffs').columns(['receiver', 'created_at']).execute()
  await db.schema.dropIndex('handoffs_listing_idx').execute()
  await db.schema.createIndex('messages_relayed_rooms_idx').on('messages').columns(['receiver', 'e2ee', 'room_id']).execute()
  await db.schema.dropIndex('messages_relayed_seq_idx').execute()
}
