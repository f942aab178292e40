/**
 * Writes of sign-in nonces, sessions and users. Each one is a single statement, so the service
 * runs it on its own or inside a transaction with the others (a session and its user).
 */
import type { Insertable } from 'kysely'
import type { Db } from '../../db/database.js'
import type { AuthNoncesTable } from '../../db/schema/auth-nonces.js'
import type { SessionsTable } from '../../db/schema/sessions.js'
import { AuthReader } from './reader.js'

/** Adds the users row of `address` unless it exists (a wallet that signs in or sets up keys). */
export async function ensureUser(db: Db, address: string, createdAt: string): Promise<void> {
  await db
    .insertInto('users')
    .values({ address, acked_pos: 0, created_at: createdAt })
    .onConflict((oc) => oc.column('address').doNothing())
    .execute()
}

export class AuthTransactor extends AuthReader {
  async insertNonce(row: Insertable<AuthNoncesTable>): Promise<void> {
    await this.db.insertInto('auth_nonces').values(row).execute()
  }

  /**
   * Marks `nonce` used, if it is unused and unexpired at `now`: one conditional UPDATE, so of two
   * racing sign-ins only one wins.
   * @returns whether this call consumed it.
   */
  async consumeNonce(nonce: string, now: string): Promise<boolean> {
    const consumed = await this.db
      .updateTable('auth_nonces')
      .set({ used_at: now })
      .where('nonce', '=', nonce)
      .where('used_at', 'is', null)
      .where('expires_at', '>', now)
      .executeTakeFirst()
    return Number(consumed.numUpdatedRows) === 1
  }

  ensureUser(address: string, createdAt: string): Promise<void> {
    return ensureUser(this.db, address, createdAt)
  }

  async insertSession(row: Insertable<SessionsTable>): Promise<void> {
    await this.db.insertInto('sessions').values(row).execute()
  }

  /** Revokes the session of `tokenHash` at `at`, unless it is revoked already. */
  async revokeSession(tokenHash: string, at: string): Promise<void> {
    await this.db
      .updateTable('sessions')
      .set({ revoked_at: at })
      .where('token_hash', '=', tokenHash)
      .where('revoked_at', 'is', null)
      .execute()
  }
}
