/** Messages (seed: Messages table, with the CID). `envelope` is the signed record as sent. */
export interface MessagesTable {
  id: string
  room_id: string
  /** Position in the room, from 1, gapless. */
  seq: number
  sender: string
  receiver: string
  timestamp: string
  cid: string
  envelope: string
  /** 1 when end-to-end encrypted, 0 when readable by the server (pattern β). */
  e2ee: number
  received_at: string
}
export const tableName = 'messages'
export type PartialDB = { [tableName]: MessagesTable }
