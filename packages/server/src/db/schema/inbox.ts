/** Per-user inbox: every message a user sent or received, at a gapless per-user cursor. */
export interface InboxTable {
  address: string
  seq: number
  room_id: string
  message_id: string
}
export const tableName = 'inbox'
export type PartialDB = { [tableName]: InboxTable }
