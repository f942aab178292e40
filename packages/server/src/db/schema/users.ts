/** Users (seed: Users table): one row per wallet that signed in or set up keys. */
export interface UsersTable {
  address: string
  /** Seed's `Processing Chats`: JSON array of room ids whose messages wait for this user's keys. */
  processing_chats: string
  /** Newest inbox cursor allocated to this user (gapless, per user). */
  inbox_seq: number
  /** Highest inbox cursor the user acknowledged. */
  acked_seq: number
  created_at: string
}
export const tableName = 'users'
export type PartialDB = { [tableName]: UsersTable }
