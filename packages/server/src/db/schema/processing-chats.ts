/** Seed 002's Processing Chats: rooms whose relayed messages wait for their receiver's keys. */
export interface ProcessingChatsTable {
  address: string
  room_id: string
}
export const tableName = 'processing_chats'
export type PartialDB = { [tableName]: ProcessingChatsTable }
