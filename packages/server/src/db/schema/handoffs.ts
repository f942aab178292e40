/** Relayed messages re-encrypted to their receiver, waiting for its client to make them end to end. */
export interface HandoffsTable {
  message_id: string
  receiver: string
  /** The receiver's key bundle CID the handoff is encrypted to. */
  receiver_key: string
  /** The handoff record as canonical DAG-JSON text. */
  handoff: string
  created_at: string
}
export const tableName = 'handoffs'
export type PartialDB = { [tableName]: HandoffsTable }
