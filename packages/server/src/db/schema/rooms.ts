/**
 * Rooms of every type (protocol.md §6.1). Ids are random (never derived from the members);
 * `seq` is the newest position used (messages and log entries share it), so the next gets
 * `seq + 1`. Name, settings and member count follow the membership log; `direct_key` makes one
 * room per pair of wallets.
 */
export interface RoomsTable {
  id: string
  type: 'p2p' | 'public' | 'limited' | 'private'
  name: string | null
  description: string
  avatar: string | null
  /** 1: announcement-only. */
  announce: number
  /** `<address>:<address>`, sorted, for 1:1 rooms; null for groups. */
  direct_key: string | null
  seq: number
  member_count: number
  /** Entries in the membership log, and the newest one's CID and position. */
  log_index: number
  log_head: string | null
  log_head_seq: number | null
  /** The stream position of the room's newest event (which streams have news). */
  last_pos: number
  /** Private rooms: 1 with end-to-end encryption on; `plain` 1 when a member may still send plaintext. */
  e2ee: number
  plain: number
  /** The current key epoch (0: none yet), its key id, and since when; messages under it so far. */
  epoch: number
  key_id: string | null
  epoch_at: string | null
  epoch_messages: number
  /** Why the room must rotate before its next encrypted message (a `RotationCause`); null when not due. */
  rotation_due: string | null
  created_at: string
  created_by: string | null
  deleted_at: string | null
}
export const tableName = 'rooms'
export type PartialDB = { [tableName]: RoomsTable }
