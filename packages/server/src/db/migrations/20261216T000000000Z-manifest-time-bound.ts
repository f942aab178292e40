/**
 * A manifest's lower time bound: the newest block of the anchoring chain when the manifest was
 * claimed (its number and hash), kept so the manifest rebuilds to the same bytes after a crash.
 * Null for manifests made before, and on servers without a chain.
 * Frozen in time: takes Kysely<any> and imports no app code.
 */
import type { Kysely } from 'kysely'
import type { Dialect } from './index.js'

export async function up(db: Kysely<any>, _dialect: Dialect): Promise<void> {
  await db.schema.alterTable('manifests').addColumn('after_block_number', 'text').execute()
  await db.schema.alterTable('manifests').addColumn('after_block_hash', 'text').execute()
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.alterTable('manifests').dropColumn('after_block_hash').execute()
  await db.schema.alterTable('manifests').dropColumn('after_block_number').execute()
}
