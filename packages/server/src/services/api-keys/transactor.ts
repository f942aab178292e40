/** Writes of the `api_keys` table. */
import type { Insertable } from 'kysely'
import type { Database } from '../../db/database.js'
import type { ApiKeysTable } from '../../db/schema/api-keys.js'
import { ApiKeyReader } from './reader.js'

export class ApiKeyTransactor extends ApiKeyReader {
  /**
   * Locks the users row of `owner` until commit (`database.forUpdate`), which serializes
   * concurrent creations of its keys (PostgreSQL; SQLite transactions already do).
   */
  async lockOwner(owner: string, database: Pick<Database, 'forUpdate'>): Promise<void> {
    await database.forUpdate(this.db.selectFrom('users').select('address').where('address', '=', owner)).execute()
  }

  async insert(row: Insertable<ApiKeysTable>): Promise<void> {
    await this.db.insertInto('api_keys').values(row).execute()
  }

  /** Revokes key `id` at `at`, unless it is revoked already. */
  async revoke(id: string, at: string): Promise<void> {
    await this.db.updateTable('api_keys').set({ revoked_at: at }).where('id', '=', id).where('revoked_at', 'is', null).execute()
  }
}
