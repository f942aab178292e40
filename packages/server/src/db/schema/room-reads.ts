/** Read markers: the newest room seq a user has read, for unread counts. */
export interface RoomReadsTable {
  address: string
  room_id: string
  read_seq: number
}
export const tableName = 'room_reads'
export type PartialDB = { [tableName]: RoomReadsTable }
