/**
 * Who is in a room and how: status, role, seniority, mute and ban, read marker. One row per
 * address a room ever knew; leaving keeps the row (bans and mutes outlive membership).
 */
export interface RoomMembersTable {
  room_id: string
  address: string
  status: 'member' | 'invited' | 'requested' | 'none'
  role: string
  /** The position of the event that made this address a member; 0 when not one. */
  joined_seq: number
  /** The stream position from which a stream delivers this room to this address. */
  joined_pos: number
  /** Set when the address left or was removed: the stream delivers up to here. */
  left_pos: number | null
  muted_until: string | null
  banned: number
  banned_until: string | null
  /** While `invited`: when the invitation lapses; null when it does not. */
  invited_until: string | null
  /** Read marker: the newest room position read. */
  read_seq: number
}
export const tableName = 'room_members'
export type PartialDB = { [tableName]: RoomMembersTable }
