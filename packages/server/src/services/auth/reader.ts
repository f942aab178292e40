/** Queries of sign-in nonces and sessions (no writes: `transactor.ts` adds those). */
import type { Db } from '../../db/database.js'

export class AuthReader {
  constructor(readonly db: Db) {}

  findSession(tokenHash: string) {
    return this.db
      .selectFrom('sessions')
      .select(['address', 'expires_at', 'revoked_at'])
      .where('token_hash', '=', tokenHash)
      .executeTakeFirst()
  }
}
