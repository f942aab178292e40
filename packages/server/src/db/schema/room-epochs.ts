/** Every key epoch of a private room: its key id, who made it, at which log entry, and the signed intent. */
export interface RoomEpochsTable {
  room_id: string
  epoch: number
  key_id: string
  distributor: string
  log_index: number
  /** The rotation intent as signed (canonical JSON). */
  intent: string
  created_at: string
}
export const tableName = 'room_epochs'
export type PartialDB = { [tableName]: RoomEpochsTable }
