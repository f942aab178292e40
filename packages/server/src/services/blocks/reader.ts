import type { Db } from '../../db/database.js'

/**
 * The text of a block the database holds under `cid`: an envelope (`messages`, kept until it is
 * pruned) or a key bundle (`key_bundles`). One round trip; CIDs are unique in each table.
 */
export async function findBlockText(db: Db, cid: string): Promise<string | undefined> {
  const row = await db
    .selectFrom('messages')
    .select('envelope as text')
    .where('cid', '=', cid)
    .unionAll(db.selectFrom('key_bundles').select('bundle as text').where('cid', '=', cid))
    .executeTakeFirst()
  return row?.text
}
