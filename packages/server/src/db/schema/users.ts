/** Users (seed: Users table): one row per wallet that signed in or set up keys. */
export interface UsersTable {
  address: string
  /** The stream position the user acknowledged (where a stream resumes by default). */
  acked_pos: number
  created_at: string
}
export const tableName = 'users'
export type PartialDB = { [tableName]: UsersTable }
