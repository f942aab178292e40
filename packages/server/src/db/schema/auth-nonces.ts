/** Sign-in nonces: single use (`used_at`) and short-lived (`expires_at`). */
export interface AuthNoncesTable {
  nonce: string
  created_at: string
  expires_at: string
  used_at: string | null
}
export const tableName = 'auth_nonces'
export type PartialDB = { [tableName]: AuthNoncesTable }
