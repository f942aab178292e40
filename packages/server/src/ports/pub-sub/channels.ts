/**
 * Every pub/sub channel and what it carries, in one place. The database is the truth: events
 * only wake streams and services, which read what they missed from it.
 */

/**
 * A room's new positions, in commit order: the stream frame, ready to send (`bytes`: its UTF-8,
 * made once by the first socket that sends it, in process).
 */
export type RoomStreamEvent = { roomId: string; pos: number; seq: number; frame: string; bytes?: Buffer }
export const roomChannel = (roomId: string) => `room:${roomId}`

/**
 * A wallet's membership changed (joined, left, removed): its streams add or drop the room. An
 * invitation carries the invite's log record (`record`), which the invitee's streams pass on.
 */
export type MemberNotice = {
  roomId: string
  status: 'member' | 'invited' | 'requested' | 'none'
  seq: number
  pos: number
  record?: string | undefined
}
export const memberChannel = (address: string) => `member:${address}`

/** Relayed messages (pattern β) wait for this wallet to make them end-to-end. */
export type MigrationsNotice = { pending: number }
export const migrationsChannel = (address: string) => `migrations:${address}`

/** A key bundle was registered (anchoring batches it; migration prepares handoffs). */
export type KeysNotice = { address: string; cid: string }
export const KEYS_CHANNEL = 'keys'
