/**
 * Writes of key bundles, inside the transaction that registers one: the current bundle is locked,
 * replaced, and the new one stored with its users row and its CIDs row.
 */
import type { Insertable } from 'kysely'
import type { Database } from '../../db/database.js'
import type { CidsTable } from '../../db/schema/cids.js'
import type { KeyBundlesTable } from '../../db/schema/key-bundles.js'
import { ensureUser } from '../auth/transactor.js'
import { KeyReader } from './reader.js'

export class KeyTransactor extends KeyReader {
  /** The current bundle of `address`, locked until commit (`database.forUpdate`). */
  lockCurrent(address: string, database: Pick<Database, 'forUpdate'>) {
    return database
      .forUpdate(
        this.db
          .selectFrom('key_bundles')
          .select(['cid', 'issued_at'])
          .where('address', '=', address)
          .where('replaced_at', 'is', null),
      )
      .executeTakeFirst()
  }

  ensureUser(address: string, createdAt: string): Promise<void> {
    return ensureUser(this.db, address, createdAt)
  }

  async markReplaced(cid: string, at: string): Promise<void> {
    await this.db.updateTable('key_bundles').set({ replaced_at: at }).where('cid', '=', cid).execute()
  }

  async insertBundle(row: Insertable<KeyBundlesTable>): Promise<void> {
    await this.db.insertInto('key_bundles').values(row).execute()
  }

  /** Lists a bundle's CID for the next sync manifest (once: a CID already listed is kept). */
  async noteCid(row: Insertable<CidsTable>): Promise<void> {
    await this.db
      .insertInto('cids')
      .values(row)
      .onConflict((oc) => oc.column('cid').doNothing())
      .execute()
  }
}
