import type { Db } from '../../db/database.js'

export function findSession(db: Db, tokenHash: string) {
  return db
    .selectFrom('sessions')
    .select(['address', 'expires_at', 'revoked_at'])
    .where('token_hash', '=', tokenHash)
    .executeTakeFirst()
}
