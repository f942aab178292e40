/** Conversations. Ids are random (never derived from the members); 1:1 rooms store both members sorted. */
export interface RoomsTable {
  id: string
  kind: string
  member_a: string
  member_b: string
  /** Messages in the room so far; the next message gets `message_count + 1` as its seq. */
  message_count: number
  created_at: string
}
export const tableName = 'rooms'
export type PartialDB = { [tableName]: RoomsTable }
