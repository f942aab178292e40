/**
 * The invite links of private rooms their issuers registered (docs/private-groups.md §6, §8): the
 * signed link as canonical JSON, its limits copied out to query, and the uses counted so far.
 */
export interface RoomLinksTable {
  /** The link's own 16-byte id (base64url). */
  id: string
  room_id: string
  issuer: string
  /** The signed link (canonical JSON): a join must carry exactly this. */
  link: string
  /** Null: valid until revoked. */
  expires_at: string | null
  /** Null: no limit. */
  max_uses: number | null
  uses: number
  revoked_at: string | null
  created_at: string
}
export const tableName = 'room_links'
export type PartialDB = { [tableName]: RoomLinksTable }
