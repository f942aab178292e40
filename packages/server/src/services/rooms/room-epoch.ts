/**
 * The key epoch of a private room as the server keeps it (docs/private-groups.md §7): which epoch
 * is current, since when and for how many messages, and whether the next encrypted message must
 * wait for a new one. The server never holds a room key; it keeps the epoch number and key id,
 * and refuses messages under any other epoch.
 */
import type { RoomEncryption, RotationCause } from '@dmtp/protocol'
import type { RoomRow } from './reader.js'

/** A room's columns before any key: E2EE off, epoch 0. */
export const NO_EPOCH = {
  e2ee: 0,
  plain: 0,
  epoch: 0,
  key_id: null,
  epoch_at: null,
  epoch_messages: 0,
  rotation_due: null,
} as const

export type EpochColumns = Pick<
  RoomRow,
  'e2ee' | 'plain' | 'epoch' | 'key_id' | 'epoch_at' | 'epoch_messages' | 'rotation_due' | 'type'
>

/** The room's encryption state for the API; null for rooms that are not private. */
export function roomEncryption(row: EpochColumns): RoomEncryption | null {
  if (row.type !== 'private') return null
  return {
    e2ee: row.e2ee === 1,
    plain: row.plain === 1,
    epoch: row.epoch,
    keyId: row.key_id,
    due: row.e2ee === 1 ? (row.rotation_due as RotationCause | null) : null,
  }
}

/**
 * Why the room must rotate before an encrypted message at `now`: a cause recorded by the log
 * (leave, kick, ban, join, E2EE turned on), no key yet, or the epoch's age or message count.
 */
export function dueCause(
  row: EpochColumns,
  now: string,
  limits: { afterMessages: number; afterSeconds: number },
): RotationCause | null {
  if (row.rotation_due) return row.rotation_due as RotationCause
  if (row.epoch === 0) return 'e2ee_on'
  if (row.epoch_messages >= limits.afterMessages) return 'count'
  if (row.epoch_at && Date.parse(now) - Date.parse(row.epoch_at) >= limits.afterSeconds * 1000) return 'age'
  return null
}
