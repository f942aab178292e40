/**
 * Anchoring: manifests and their chain state, a sync marker on every CID, and the on-chain state
 * of key bundles. Frozen in time: takes Kysely<any> and imports no app code.
 */
import type { Kysely } from 'kysely'
import type { Dialect } from './index.js'

export async function up(db: Kysely<any>, _dialect: Dialect): Promise<void> {
  await db.schema.alterTable('cids').addColumn('manifest_seq', 'integer').execute()
  await db.schema.createIndex('cids_manifest_idx').on('cids').columns(['manifest_seq', 'seq']).execute()

  await db.schema
    .createTable('manifests')
    .addColumn('seq', 'integer', (c) => c.primaryKey())
    .addColumn('cid', 'text', (c) => c.notNull().unique())
    .addColumn('prev_cid', 'text')
    .addColumn('created_at', 'text', (c) => c.notNull())
    .addColumn('cid_count', 'integer', (c) => c.notNull())
    .addColumn('bytes', 'integer', (c) => c.notNull())
    .addColumn('status', 'text', (c) => c.notNull())
    .addColumn('tx_hash', 'text')
    .addColumn('tx_nonce', 'integer')
    .addColumn('block_number', 'text')
    .addColumn('chain_index', 'integer')
    .addColumn('anchored_at', 'text')
    .execute()

  await db.schema.alterTable('key_bundles').addColumn('anchor_tx', 'text').execute()
  await db.schema.alterTable('key_bundles').addColumn('anchored_at', 'text').execute()
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.alterTable('key_bundles').dropColumn('anchored_at').execute()
  await db.schema.alterTable('key_bundles').dropColumn('anchor_tx').execute()
  await db.schema.dropTable('manifests').execute()
  await db.schema.dropIndex('cids_manifest_idx').execute()
  await db.schema.alterTable('cids').dropColumn('manifest_seq').execute()
}
