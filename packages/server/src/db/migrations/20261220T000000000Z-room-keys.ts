/**
 * Private-group keys (docs/private-groups.md): a room's E2EE state and current epoch on `rooms`,
 * every epoch's key id and signed rotation intent (`room_epochs`), and each member's wrapped key
 * of each epoch (`room_key_deliveries`: the delivery the server hands that member, signed by the
 * distributor). The server never sees a room key, only these wraps and commitments.
 * Frozen in time: takes Kysely<any> and imports no app code.
 */
import type { Kysely } from 'kysely'
import type { Dialect } from './index.js'

const ROOM_COLUMNS = ['e2ee', 'plain', 'epoch', 'key_id', 'rotation_due', 'epoch_at', 'epoch_messages'] as const

export async function up(db: Kysely<any>, _dialect: Dialect): Promise<void> {
  for (const column of ['e2ee', 'plain', 'epoch', 'epoch_messages']) {
    await db.schema
      .alterTable('rooms')
      .addColumn(column, 'integer', (col) => col.notNull().defaultTo(0))
      .execute()
  }
  for (const column of ['key_id', 'rotation_due', 'epoch_at']) {
    await db.schema.alterTable('rooms').addColumn(column, 'text').execute()
  }
  await db.schema
    .createTable('room_epochs')
    .addColumn('room_id', 'text', (col) => col.notNull())
    .addColumn('epoch', 'integer', (col) => col.notNull())
    .addColumn('key_id', 'text', (col) => col.notNull())
    .addColumn('distributor', 'text', (col) => col.notNull())
    .addColumn('log_index', 'integer', (col) => col.notNull())
    .addColumn('intent', 'text', (col) => col.notNull())
    .addColumn('created_at', 'text', (col) => col.notNull())
    .addPrimaryKeyConstraint('room_epochs_pk', ['room_id', 'epoch'])
    .execute()
  await db.schema
    .createTable('room_key_deliveries')
    .addColumn('room_id', 'text', (col) => col.notNull())
    .addColumn('recipient', 'text', (col) => col.notNull())
    .addColumn('epoch', 'integer', (col) => col.notNull())
    .addColumn('delivery', 'text', (col) => col.notNull())
    .addPrimaryKeyConstraint('room_key_deliveries_pk', ['room_id', 'recipient', 'epoch'])
    .execute()
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.dropTable('room_key_deliveries').execute()
  await db.schema.dropTable('room_epochs').execute()
  for (const column of ROOM_COLUMNS) await db.schema.alterTable('rooms').dropColumn(column).execute()
}
