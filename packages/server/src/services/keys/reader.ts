/** Queries of key bundles (no writes: `transactor.ts` adds those). */
import type { Db } from '../../db/database.js'

export class KeyReader {
  constructor(readonly db: Db) {}

  /** The bundle of `address` that no newer one replaced. */
  findCurrent(address: string) {
    return this.db
      .selectFrom('key_bundles')
      .select(['cid', 'address', 'bundle', 'issued_at', 'created_at'])
      .where('address', '=', address)
      .where('replaced_at', 'is', null)
      .executeTakeFirst()
  }

  findByCid(cid: string) {
    return this.db
      .selectFrom('key_bundles')
      .select(['cid', 'address', 'bundle', 'issued_at', 'created_at', 'replaced_at'])
      .where('cid', '=', cid)
      .executeTakeFirst()
  }

  /** Every bundle `address` registered, oldest first. */
  listBundles(address: string) {
    return this.db
      .selectFrom('key_bundles')
      .select(['cid', 'bundle', 'created_at', 'replaced_at'])
      .where('address', '=', address)
      .orderBy('created_at', 'asc')
      .orderBy('issued_at', 'asc')
      .execute()
  }
}
