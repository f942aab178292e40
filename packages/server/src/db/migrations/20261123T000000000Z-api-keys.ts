/**
 * dApp API keys: the SHA-256 of each key (never the key), its public id, name, owner (a wallet,
 * or null for the operator's keys), rate limit, and revocation time.
 * Frozen in time: takes Kysely<any> and imports no app code.
 */
import type { Kysely } from 'kysely'
import type { Dialect } from './index.js'

export async function up(db: Kysely<any>, _dialect: Dialect): Promise<void> {
  await db.schema
    .createTable('api_keys')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('key_hash', 'text', (c) => c.notNull().unique())
    .addColumn('name', 'text', (c) => c.notNull())
    .addColumn('owner', 'text')
    .addColumn('rate_limit_per_minute', 'integer', (c) => c.notNull())
    .addColumn('created_at', 'text', (c) => c.notNull())
    .addColumn('revoked_at', 'text')
    .execute()
  await db.schema.createIndex('api_keys_owner_idx').on('api_keys').columns(['owner', 'created_at']).execute()
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.dropIndex('api_keys_owner_idx').execute()
  await db.schema.dropTable('api_keys').execute()
}
