/** Queries of the `api_keys` table (no writes: `transactor.ts` adds those). */
import type { Db } from '../../db/database.js'

const PUBLIC_COLUMNS = ['id', 'name', 'owner', 'rate_limit_per_minute', 'created_at', 'revoked_at'] as const

export class ApiKeyReader {
  constructor(readonly db: Db) {}

  findByHash(keyHash: string) {
    return this.db
      .selectFrom('api_keys')
      .select(['id', 'rate_limit_per_minute', 'revoked_at'])
      .where('key_hash', '=', keyHash)
      .executeTakeFirst()
  }

  find(id: string) {
    return this.db.selectFrom('api_keys').select(PUBLIC_COLUMNS).where('id', '=', id).executeTakeFirst()
  }

  /** Keys of one wallet (`owner`), of the operator (`null`), or every key (`undefined`); oldest first. */
  list(owner: string | null | undefined) {
    let query = this.db.selectFrom('api_keys').select(PUBLIC_COLUMNS)
    if (owner === null) query = query.where('owner', 'is', null)
    else if (owner !== undefined) query = query.where('owner', '=', owner)
    return query.orderBy('created_at').orderBy('id').execute()
  }

  async countActive(owner: string): Promise<number> {
    const row = await this.db
      .selectFrom('api_keys')
      .select((eb) => eb.fn.countAll().as('n'))
      .where('owner', '=', owner)
      .where('revoked_at', 'is', null)
      .executeTakeFirstOrThrow()
    return Number(row.n)
  }
}
