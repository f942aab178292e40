/**
 * The writer's part of private-group keys (docs/private-groups.md §7), in commit order with
 * messages and log events: a message under any epoch but the current one, or while the room is
 * due, is refused with what to rotate from; a rotation applies with compare-and-set on the epoch
 * and the log head it was made for.
 */
import { rotationApplies } from '@dmtp/protocol'
import type { Transaction } from '../../db/database.js'
import { HttpError } from '../../errors.js'
import type { CachedRoom, RoomCache } from './room-cache.js'
import { dueCause, type EpochColumns, roomEncryption } from './room-epoch.js'
import type { PendingRotation } from './room-writer.js'

/**
 * Why an encrypted message under `epoch` must wait for a rotation, or undefined when it need not.
 * An age or count limit reached is recorded on `row`: the room stays due until someone rotates.
 */
export function staleEpoch(
  row: EpochColumns,
  epoch: number,
  now: string,
  limits: { afterMessages: number; afterSeconds: number },
): HttpError | undefined {
  const due = dueCause(row, now, limits)
  if (due === null && epoch === row.epoch) return undefined
  if (due === 'age' || due === 'count') row.rotation_due = due
  const { epoch: current, keyId } = roomEncryption(row) ?? { epoch: 0, keyId: null }
  return new HttpError({
    code: 'stale_epoch',
    message:
      due === null
        ? `This room's key is at epoch ${current}, not ${epoch}: fetch your keys and send again.`
        : `This room must rotate its key (${due}) before the next message: rotate from epoch ${current}, then send.`,
    details: { epoch: current, keyId, due },
  })
}

/**
 * Why `intent` cannot apply to the room as it stands: the log moved past its head, or the room is
 * no longer at its epoch (another member rotated first). Each error carries what to redo it with.
 */
export function rotationConflict(
  row: Pick<EpochColumns, 'epoch' | 'key_id'> & { log_index: number; log_head: string | null },
  intent: Pick<PendingRotation['intent'], 'logIndex' | 'logHead' | 'fromEpoch' | 'toEpoch'>,
): HttpError | undefined {
  if (intent.logIndex !== row.log_index || intent.logHead !== row.log_head) {
    return new HttpError({
      code: 'log_head_moved',
      message: `The membership log is at entry ${row.log_index}, not ${intent.logIndex}: make the keys for its members.`,
      details: { logIndex: row.log_index, logHead: row.log_head },
    })
  }
  if (!rotationApplies(row.epoch, intent)) {
    return new HttpError({
      code: 'epoch_conflict',
      message: `The room is at epoch ${row.epoch}: another member rotated first; fetch its key.`,
      details: { epoch: row.epoch, keyId: row.key_id },
    })
  }
  return undefined
}

/**
 * A checked rotation, applied if the locked room row is still at its epoch and log head.
 * @throws {HttpError} room_not_found, e2ee_off, not_member, log_head_moved, epoch_conflict.
 */
export async function applyRotation({
  tx,
  cache,
  room,
  rotation: { intent, intentJson, deliveries },
  now,
}: {
  tx: Transaction
  cache: RoomCache
  room: CachedRoom | undefined
  rotation: PendingRotation
  now: string
}) {
  if (!room || room.room.deleted) throw new HttpError({ code: 'room_not_found', message: 'No such room.' })
  if (!room.room.e2ee) throw new HttpError({ code: 'e2ee_off', message: 'End-to-end encryption is off in this room.' })
  await cache.members(tx.db, room, [intent.actor])
  if (room.member(intent.actor).status !== 'member') {
    throw new HttpError({ code: 'not_member', message: 'You are not a member of this room.' })
  }
  const { row } = room
  const conflict = rotationConflict(row, intent)
  if (conflict) throw conflict
  await tx.insertMany('room_epochs', [
    {
      room_id: row.id,
      epoch: intent.toEpoch,
      key_id: intent.keyId,
      distributor: intent.actor,
      log_index: intent.logIndex,
      intent: intentJson,
      created_at: now,
    },
  ])
  await tx.insertMany(
    'room_key_deliveries',
    deliveries.map(({ recipient, delivery }) => ({ room_id: row.id, recipient, epoch: intent.toEpoch, delivery })),
  )
  Object.assign(row, { epoch: intent.toEpoch, key_id: intent.keyId, epoch_at: now, epoch_messages: 0, rotation_due: null })
  const encryption = roomEncryption(row)
  if (!encryption) throw new Error('a rotated room is private')
  return encryption
}
