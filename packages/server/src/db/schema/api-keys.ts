/**
 * dApp API keys. Only the SHA-256 of a key is stored (`key_hash`); `id` is public. `owner` is the
 * wallet that created the key through the API, or null for keys the operator made (`dmtp apikey`).
 */
export interface ApiKeysTable {
  id: string
  key_hash: string
  name: string
  owner: string | null
  rate_limit_per_minute: number
  created_at: string
  revoked_at: string | null
}
export const tableName = 'api_keys'
export type PartialDB = { [tableName]: ApiKeysTable }
