/**
 * Foundation schema: users, key bundles, rooms, messages, inboxes, CIDs, sessions and nonces.
 * Frozen in time: takes Kysely<any> and imports no app code.
 */
import { type Kysely, sql } from 'kysely'
import type { Dialect } from './index.js'

export async function up(db: Kysely<any>, dialect: Dialect): Promise<void> {
  await db.schema
    .createTable('users')
    .addColumn('address', 'text', (c) => c.primaryKey())
    .addColumn('processing_chats', 'text', (c) => c.notNull().defaultTo('[]'))
    .addColumn('inbox_seq', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('acked_seq', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('created_at', 'text', (c) => c.notNull())
    .execute()

  await db.schema
    .createTable('key_bundles')
    .addColumn('cid', 'text', (c) => c.primaryKey())
    .addColumn('address', 'text', (c) => c.notNull())
    .addColumn('bundle', 'text', (c) => c.notNull())
    .addColumn('issued_at', 'text', (c) => c.notNull())
    .addColumn('created_at', 'text', (c) => c.notNull())
    .addColumn('replaced_at', 'text')
    .execute()
  await db.schema.createIndex('key_bundles_address_idx').on('key_bundles').columns(['address', 'created_at']).execute()
  await db.schema
    .createIndex('key_bundles_current_idx')
    .on('key_bundles')
    .column('address')
    .unique()
    .where(sql.ref('replaced_at'), 'is', null)
    .execute()

  await db.schema
    .createTable('rooms')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('kind', 'text', (c) => c.notNull())
    .addColumn('member_a', 'text', (c) => c.notNull())
    .addColumn('member_b', 'text', (c) => c.notNull())
    .addColumn('message_count', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('created_at', 'text', (c) => c.notNull())
    .addUniqueConstraint('rooms_members_unique', ['member_a', 'member_b'])
    .execute()
  await db.schema.createIndex('rooms_member_b_idx').on('rooms').column('member_b').execute()

  await db.schema
    .createTable('room_reads')
    .addColumn('address', 'text', (c) => c.notNull())
    .addColumn('room_id', 'text', (c) => c.notNull())
    .addColumn('read_seq', 'integer', (c) => c.notNull())
    .addPrimaryKeyConstraint('room_reads_pk', ['address', 'room_id'])
    .execute()

  await db.schema
    .createTable('messages')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('room_id', 'text', (c) => c.notNull())
    .addColumn('seq', 'integer', (c) => c.notNull())
    .addColumn('sender', 'text', (c) => c.notNull())
    .addColumn('receiver', 'text', (c) => c.notNull())
    .addColumn('timestamp', 'text', (c) => c.notNull())
    .addColumn('cid', 'text', (c) => c.notNull().unique())
    .addColumn('envelope', 'text', (c) => c.notNull())
    .addColumn('e2ee', 'integer', (c) => c.notNull())
    .addColumn('received_at', 'text', (c) => c.notNull())
    .addUniqueConstraint('messages_room_seq_unique', ['room_id', 'seq'])
    .execute()

  await db.schema
    .createTable('inbox')
    .addColumn('address', 'text', (c) => c.notNull())
    .addColumn('seq', 'integer', (c) => c.notNull())
    .addColumn('room_id', 'text', (c) => c.notNull())
    .addColumn('message_id', 'text', (c) => c.notNull())
    .addPrimaryKeyConstraint('inbox_pk', ['address', 'seq'])
    // Rows live in the primary-key B-tree itself on SQLite: one write per entry instead of two.
    .$call((table) => (dialect === 'sqlite' ? table.modifyEnd(sql`without rowid`) : table))
    .execute()

  await db.schema
    .createTable('cids')
    .addColumn('seq', dialect === 'postgres' ? 'bigserial' : 'integer', (c) =>
      dialect === 'postgres' ? c.primaryKey() : c.primaryKey().autoIncrement(),
    )
    .addColumn('cid', 'text', (c) => c.notNull().unique())
    .addColumn('kind', 'text', (c) => c.notNull())
    .addColumn('room_id', 'text')
    .addColumn('address', 'text')
    .addColumn('created_at', 'text', (c) => c.notNull())
    .execute()

  await db.schema
    .createTable('sessions')
    .addColumn('token_hash', 'text', (c) => c.primaryKey())
    .addColumn('address', 'text', (c) => c.notNull())
    .addColumn('created_at', 'text', (c) => c.notNull())
    .addColumn('expires_at', 'text', (c) => c.notNull())
    .addColumn('revoked_at', 'text')
    .execute()
  await db.schema.createIndex('sessions_address_idx').on('sessions').column('address').execute()

  await db.schema
    .createTable('auth_nonces')
    .addColumn('nonce', 'text', (c) => c.primaryKey())
    .addColumn('created_at', 'text', (c) => c.notNull())
    .addColumn('expires_at', 'text', (c) => c.notNull())
    .addColumn('used_at', 'text')
    .execute()
}

export async function down(db: Kysely<any>): Promise<void> {
  for (const table of ['auth_nonces', 'sessions', 'cids', 'inbox', 'messages', 'room_reads', 'rooms', 'key_bundles', 'users']) {
    await db.schema.dropTable(table).execute()
  }
}
