import type { Db } from '../../db/database.js'

export function findCurrentBundle(db: Db, address: string) {
  return db
    .selectFrom('key_bundles')
    .select(['cid', 'address', 'bundle', 'issued_at', 'created_at'])
    .where('address', '=', address)
    .where('replaced_at', 'is', null)
    .executeTakeFirst()
}

export function findBundleByCid(db: Db, cid: string) {
  return db
    .selectFrom('key_bundles')
    .select(['cid', 'address', 'bundle', 'issued_at', 'created_at', 'replaced_at'])
    .where('cid', '=', cid)
    .executeTakeFirst()
}

export function listBundles(db: Db, address: string) {
  return db
    .selectFrom('key_bundles')
    .select(['cid', 'bundle', 'created_at', 'replaced_at'])
    .where('address', '=', address)
    .orderBy('created_at', 'asc')
    .orderBy('issued_at', 'asc')
    .execute()
}
