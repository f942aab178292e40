/**
 * The room, not the pair, as the unit (protocol.md §6). Rooms get a type, settings and a
 * membership log; `room_members` rows replace the two pair columns (read markers move into them);
 * a message belongs to a room and a sender, with a receiver only in 1:1 rooms, and takes one
 * global stream position (`pos`) instead of one inbox row per member; Processing Chats become a
 * table of their own. Existing 1:1 data is moved as it is: envelopes, CIDs and room seqs are
 * unchanged, so every message still decrypts, verifies against its anchored manifest and recovers.
 *
 * Tables whose columns change are rebuilt (SQLite cannot drop a NOT NULL or a unique pair):
 * made under a new name, filled, the old one dropped, the new one renamed (PostgreSQL keeps
 * index names per schema, so the new table cannot take the old names while the old one exists).
 * Frozen in time: takes Kysely<any> and imports no app code.
 */
import { type Kysely, sql } from 'kysely'
import type { Dialect } from './index.js'

export async function up(db: Kysely<any>, _dialect: Dialect): Promise<void> {
  await db.schema
    .createTable('rooms_next')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('type', 'text', (c) => c.notNull())
    .addColumn('name', 'text')
    .addColumn('description', 'text', (c) => c.notNull().defaultTo(''))
    .addColumn('avatar', 'text')
    .addColumn('announce', 'integer', (c) => c.notNull().defaultTo(0))
    // `<address>:<address>`, sorted, for 1:1 rooms only: one room per pair.
    .addColumn('direct_key', 'text', (c) => c.unique())
    .addColumn('seq', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('member_count', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('log_index', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('log_head', 'text')
    .addColumn('log_head_seq', 'integer')
    .addColumn('last_pos', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('created_at', 'text', (c) => c.notNull())
    .addColumn('created_by', 'text')
    .addColumn('deleted_at', 'text')
    .execute()
  await sql`insert into rooms_next (id, type, description, announce, direct_key, seq, member_count, log_index, last_pos, created_at)
    select id, kind, '', 0, member_a || ':' || member_b, message_count, 2, 0, 0, created_at from rooms`.execute(db)

  await db.schema
    .createTable('room_members')
    .addColumn('room_id', 'text', (c) => c.notNull())
    .addColumn('address', 'text', (c) => c.notNull())
    .addColumn('status', 'text', (c) => c.notNull())
    .addColumn('role', 'text', (c) => c.notNull())
    .addColumn('joined_seq', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('joined_pos', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('left_pos', 'integer')
    .addColumn('muted_until', 'text')
    .addColumn('banned', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('banned_until', 'text')
    .addColumn('read_seq', 'integer', (c) => c.notNull().defaultTo(0))
    .addPrimaryKeyConstraint('room_members_pk', ['room_id', 'address'])
    .execute()
  for (const column of ['member_a', 'member_b']) {
    await sql`insert into room_members (room_id, address, status, role, joined_seq, joined_pos, banned, read_seq)
      select r.id, r.${sql.ref(column)}, 'member', 'member', 0, 0, 0, coalesce(
        (select rr.read_seq from room_reads rr where rr.room_id = r.id and rr.address = r.${sql.ref(column)}), 0)
      from rooms r`.execute(db)
  }

  await db.schema
    .createTable('room_roles')
    .addColumn('room_id', 'text', (c) => c.notNull())
    .addColumn('name', 'text', (c) => c.notNull())
    .addColumn('permissions', 'text', (c) => c.notNull())
    .addPrimaryKeyConstraint('room_roles_pk', ['room_id', 'name'])
    .execute()

  await db.schema
    .createTable('messages_next')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('room_id', 'text', (c) => c.notNull())
    .addColumn('seq', 'integer', (c) => c.notNull())
    .addColumn('pos', 'integer', (c) => c.notNull())
    .addColumn('kind', 'text', (c) => c.notNull())
    .addColumn('type', 'text', (c) => c.notNull())
    .addColumn('ref', 'text')
    .addColumn('sender', 'text', (c) => c.notNull())
    .addColumn('receiver', 'text')
    .addColumn('timestamp', 'text', (c) => c.notNull())
    .addColumn('cid', 'text', (c) => c.notNull().unique())
    .addColumn('envelope', 'text', (c) => c.notNull())
    .addColumn('content', 'text')
    .addColumn('content_cid', 'text')
    .addColumn('e2ee', 'integer', (c) => c.notNull())
    .addColumn('received_at', 'text', (c) => c.notNull())
    .addColumn('recalled_by', 'text')
    .addColumn('pinned_by', 'text')
    .addUniqueConstraint('messages_next_room_seq_unique', ['room_id', 'seq'])
    .execute()
  // One stream position per message, in the order they were committed (received, then room order).
  await sql`insert into messages_next (id, room_id, seq, pos, kind, type, sender, receiver, timestamp, cid, envelope, e2ee, received_at)
    select id, room_id, seq, row_number() over (order by received_at, room_id, seq), 'envelope', 'message',
      sender, receiver, timestamp, cid, envelope, e2ee, received_at from messages`.execute(db)
  await sql`update rooms_next set last_pos = coalesce((select max(m.pos) from messages_next m where m.room_id = rooms_next.id), 0)`.execute(
    db,
  )

  await db.schema
    .createTable('counters')
    .addColumn('name', 'text', (c) => c.primaryKey())
    .addColumn('value', 'integer', (c) => c.notNull())
    .execute()
  await sql`insert into counters (name, value) select 'pos', coalesce(max(pos), 0) from messages_next`.execute(db)

  await db.schema
    .createTable('processing_chats')
    .addColumn('address', 'text', (c) => c.notNull())
    .addColumn('room_id', 'text', (c) => c.notNull())
    .addPrimaryKeyConstraint('processing_chats_pk', ['address', 'room_id'])
    .execute()
  await sql`insert into processing_chats (address, room_id)
    select distinct receiver, room_id from messages_next where e2ee = 0 and receiver is not null`.execute(db)

  // The resume point of each stream: the position of the inbox entry it had acknowledged.
  await db.schema
    .alterTable('users')
    .addColumn('acked_pos', 'integer', (c) => c.notNull().defaultTo(0))
    .execute()
  await sql`update users set acked_pos = coalesce((select m.pos from inbox i join messages_next m on m.id = i.message_id
    where i.address = users.address and i.seq = users.acked_seq), 0)`.execute(db)
  for (const column of ['processing_chats', 'inbox_seq', 'acked_seq']) {
    await db.schema.alterTable('users').dropColumn(column).execute()
  }

  for (const table of ['inbox', 'room_reads', 'messages', 'rooms']) await db.schema.dropTable(table).execute()
  await db.schema.alterTable('messages_next').renameTo('messages').execute()
  await db.schema.alterTable('rooms_next').renameTo('rooms').execute()
  await createIndexes(db)
}

async function createIndexes(db: Kysely<any>): Promise<void> {
  // A wallet's rooms (and the stream's), and a room's members by seniority (succession, listing).
  await db.schema.createIndex('room_members_address_idx').on('room_members').columns(['address', 'status']).execute()
  await db.schema
    .createIndex('room_members_seniority_idx')
    .on('room_members')
    .columns(['room_id', 'status', 'joined_seq', 'address'])
    .execute()
  // A room's events by stream position (the stream's replay), and its log entries alone (a
  // partial index: messages, the hot path, never write to it). Every index costs each message
  // write; unread counts and last messages read the (room_id, seq) key backwards instead.
  await db.schema.createIndex('messages_room_pos_idx').on('messages').columns(['room_id', 'pos']).execute()
  await db.schema
    .createIndex('messages_room_log_idx')
    .on('messages')
    .columns(['room_id', 'seq'])
    .where(sql.ref('kind'), '=', 'log')
    .execute()
  // Relayed messages (pattern β), by receiver, room and seq: counts, Processing Chats, handoffs.
  await db.schema.createIndex('messages_relayed_seq_idx').on('messages').columns(['receiver', 'e2ee', 'room_id', 'seq']).execute()
  await db.schema.createIndex('rooms_public_idx').on('rooms').columns(['type', 'member_count']).execute()
}

export async function down(db: Kysely<any>, dialect: Dialect): Promise<void> {
  // Back to pairs: only 1:1 rooms and their plain messages survive (groups did not exist then).
  await db.schema
    .createTable('rooms_prev')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('kind', 'text', (c) => c.notNull())
    .addColumn('member_a', 'text', (c) => c.notNull())
    .addColumn('member_b', 'text', (c) => c.notNull())
    .addColumn('message_count', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('created_at', 'text', (c) => c.notNull())
    .addUniqueConstraint('rooms_prev_members_unique', ['member_a', 'member_b'])
    .execute()
  const splitKey =
    dialect === 'sqlite'
      ? sql`substr(direct_key, 1, 42), substr(direct_key, 44, 42)`
      : sql`split_part(direct_key, ':', 1), split_part(direct_key, ':', 2)`
  await sql`insert into rooms_prev (id, kind, member_a, member_b, message_count, created_at)
    select id, 'p2p', ${splitKey}, seq, created_at from rooms where type = 'p2p'`.execute(db)
  await db.schema
    .createTable('room_reads')
    .addColumn('address', 'text', (c) => c.notNull())
    .addColumn('room_id', 'text', (c) => c.notNull())
    .addColumn('read_seq', 'integer', (c) => c.notNull())
    .addPrimaryKeyConstraint('room_reads_pk', ['address', 'room_id'])
    .execute()
  await sql`insert into room_reads (address, room_id, read_seq)
    select m.address, m.room_id, m.read_seq from room_members m join rooms_prev r on r.id = m.room_id where m.read_seq > 0`.execute(
    db,
  )
  await db.schema
    .createTable('messages_prev')
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
    .addUniqueConstraint('messages_prev_room_seq_unique', ['room_id', 'seq'])
    .execute()
  await sql`insert into messages_prev (id, room_id, seq, sender, receiver, timestamp, cid, envelope, e2ee, received_at)
    select m.id, m.room_id, m.seq, m.sender, m.receiver, m.timestamp, m.cid, m.envelope, m.e2ee, m.received_at
    from messages m join rooms_prev r on r.id = m.room_id`.execute(db)
  await db.schema
    .createTable('inbox')
    .addColumn('address', 'text', (c) => c.notNull())
    .addColumn('seq', 'integer', (c) => c.notNull())
    .addColumn('room_id', 'text', (c) => c.notNull())
    .addColumn('message_id', 'text', (c) => c.notNull())
    .addPrimaryKeyConstraint('inbox_pk', ['address', 'seq'])
    .execute()
  // Each side's inbox, in the order the messages were stored.
  await sql`insert into inbox (address, seq, room_id, message_id)
    select address, row_number() over (partition by address order by pos), room_id, id from (
      select m.sender as address, m.room_id, m.id, m.pos from messages m join rooms_prev r on r.id = m.room_id
      union all
      select m.receiver as address, m.room_id, m.id, m.pos from messages m join rooms_prev r on r.id = m.room_id
    ) sides`.execute(db)
  await db.schema
    .alterTable('users')
    .addColumn('processing_chats', 'text', (c) => c.notNull().defaultTo('[]'))
    .execute()
  await db.schema
    .alterTable('users')
    .addColumn('inbox_seq', 'integer', (c) => c.notNull().defaultTo(0))
    .execute()
  await db.schema
    .alterTable('users')
    .addColumn('acked_seq', 'integer', (c) => c.notNull().defaultTo(0))
    .execute()
  await sql`update users set inbox_seq = (select count(*) from inbox where inbox.address = users.address),
    acked_seq = (select count(*) from inbox join messages m on m.id = inbox.message_id
      where inbox.address = users.address and m.pos <= users.acked_pos)`.execute(db)
  await db.schema.alterTable('users').dropColumn('acked_pos').execute()
  for (const table of ['processing_chats', 'counters', 'room_roles', 'room_members', 'messages', 'rooms']) {
    await db.schema.dropTable(table).execute()
  }
  await db.schema.alterTable('messages_prev').renameTo('messages').execute()
  await db.schema.alterTable('rooms_prev').renameTo('rooms').execute()
  await db.schema.createIndex('rooms_member_b_idx').on('rooms').column('member_b').execute()
  await db.schema.createIndex('messages_relayed_seq_idx').on('messages').columns(['receiver', 'e2ee', 'room_id', 'seq']).execute()
}
