/**
 * Invitations lapse (docs/private-groups.md §6): an `invite` event may name `until`, and the
 * invitee must join before then. Kept on the invitee's member row while it is `invited`.
 * Frozen in time: takes Kysely<any> and imports no app code.
 */
import type { Kysely } from 'kysely'
import type { Dialect } from './index.js'

export async function up(db: Kysely<any>, _dialect: Dialect): Promise<void> {
  await db.schema.alterTable('room_members').addColumn('invited_until', 'text').execute()
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.alterTable('room_members').dropColumn('invited_until').execute()
}
