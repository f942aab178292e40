/**
 * Pattern β: handoffs waiting for receivers, the relayed CID a migrated envelope replaces, and
 * the queue of blocks to delete (server-readable copies) that survives crashes.
 * Frozen in time: takes Kysely<any> and imports no app code.
 */
import type { Kysely } from 'kysely'
import type { Dialect } from './index.js'

export async function up(db: Kysely<any>, _dialect: Dialect): Promise<void> {
  await db.schema.alterTable('cids').addColumn('replaces', 'text').execute()
  await db.schema
    .createTable('handoffs')
    .addColumn('message_id', 'text', (c) => c.primaryKey())
    .addColumn('receiver', 'text', (c) => c.notNull())
    .addColumn('receiver_key', 'text', (c) => c.notNull())
    .addColumn('handoff', 'text', (c) => c.notNull())
    .addColumn('created_at', 'text', (c) => c.notNull())
    .execute()
  await db.schema.createIndex('handoffs_receiver_idx').on('handoffs').columns(['receiver', 'created_at']).execute()
  await db.schema
    .createTable('block_deletions')
    .addColumn('cid', 'text', (c) => c.primaryKey())
    .addColumn('created_at', 'text', (c) => c.notNull())
    .addColumn('done_at', 'text')
    .execute()
  await db.schema.createIndex('messages_relayed_idx').on('messages').columns(['receiver', 'e2ee']).execute()
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.dropIndex('messages_relayed_idx').execute()
  await db.schema.dropTable('block_deletions').execute()
  await db.schema.dropTable('handoffs').execute()
  await db.schema.alterTable('cids').dropColumn('replaces').execute()
}
