/** Session tokens from Sign-In with Ethereum; only the SHA-256 of a token is stored. */
export interface SessionsTable {
  token_hash: string
  address: string
  created_at: string
  expires_at: string
  revoked_at: string | null
}
export const tableName = 'sessions'
export type PartialDB = { [tableName]: SessionsTable }
