/** One member's wrapped key of one epoch: the signed delivery (header, wrap, path to the root) as JSON. */
export interface RoomKeyDeliveriesTable {
  room_id: string
  recipient: string
  epoch: number
  delivery: string
}
export const tableName = 'room_key_deliveries'
export type PartialDB = { [tableName]: RoomKeyDeliveriesTable }
