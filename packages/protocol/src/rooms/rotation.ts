/**
 * Rotation of private-group keys (docs/private-groups.md §7). The server marks a room *due* on
 * every leave, kick and ban and after the room's age or message-count limit, and tells members
 * with a {@link RotationDue} notice; the next member about to send rotates first. A rotation is
 * a signed intent `{ room, fromEpoch, toEpoch }` that the server applies with compare-and-set on
 * the room's epoch: of two members racing, one wins, and the loser adopts the winner's key.
 */
import type { CryptoBackend } from '../crypto/types.js'
import { SignatureInvalidError } from '../errors.js'
import { signRecord, verifyRecord } from './_signed-record.js'

const ROTATION_PREFIX = 'dmtp/v1/group-rotation\n'

/**
 * Why a room is due: a member left, was kicked or banned; a member joined (new members read from a
 * new epoch on); E2EE was turned on; or the key is too old or has encrypted too many messages.
 */
export const ROTATION_CAUSES = ['leave', 'kick', 'ban', 'join', 'e2ee_on', 'age', 'count'] as const
export type RotationCause = (typeof ROTATION_CAUSES)[number]

export type RotationIntent = {
  v: 1
  room: string
  /** The epoch the rotating member holds (0 when E2EE is turned on: no key yet). */
  fromEpoch: number
  /** Always `fromEpoch + 1`. */
  toEpoch: number
  /** The key id of the new epoch's key (`rooms/room-key.ts`): what the distribution pages must name. */
  keyId: string
  actor: string
  actorKey: string
  /** The membership-log head the new key is distributed for. */
  logHead: string
  logIndex: number
  at: string
  signature: string
}

/**
 * The server's notice that a room is due. Not signed: a client checks a leave, kick or ban
 * against the log entry it names, and applies the room's age and count limits itself, so a false
 * notice costs one extra rotation and a withheld one hides nothing.
 */
export type RotationDue = {
  v: 1
  room: string
  /** The epoch that must be replaced. */
  epoch: number
  cause: RotationCause
  /** The CID of the log entry of a leave, kick or ban; null for age and count. */
  entry: string | null
  at: string
}

/**
 * Signs a rotation intent with the rotating member's DMTP Ed25519 key.
 * @example
 * import { signRotationIntent } from '@dmtp/protocol'
 * const intent = await signRotationIntent(backend, { intent: { v: 1, room, fromEpoch: 3, toEpoch: 4, keyId, actor, actorKey, logHead, logIndex, at }, signingKey })
 */
export function signRotationIntent(
  backend: CryptoBackend,
  { intent, signingKey }: { intent: Omit<RotationIntent, 'signature'>; signingKey: Uint8Array },
): Promise<RotationIntent> {
  return signRecord(backend, ROTATION_PREFIX, intent, signingKey)
}

/**
 * @throws {SignatureInvalidError} when the actor's key did not sign exactly this intent.
 * @example
 * import { verifyRotationIntent } from '@dmtp/protocol'
 * await verifyRotationIntent(backend, { intent, actorPublicKey })
 */
export async function verifyRotationIntent(
  backend: CryptoBackend,
  { intent, actorPublicKey }: { intent: RotationIntent; actorPublicKey: Uint8Array },
): Promise<void> {
  if (!(await verifyRecord(backend, ROTATION_PREFIX, intent, actorPublicKey))) {
    throw new SignatureInvalidError({ what: 'rotation intent', reason: `not signed by ${intent.actor}` })
  }
}

/**
 * The compare-and-set of a rotation: it applies only to the epoch it starts from, and moves it by one.
 * @example
 * import { rotationApplies } from '@dmtp/protocol'
 * rotationApplies(3, intent) // true for { fromEpoch: 3, toEpoch: 4 }
 */
export function rotationApplies(currentEpoch: number, intent: Pick<RotationIntent, 'fromEpoch' | 'toEpoch'>): boolean {
  return intent.fromEpoch === currentEpoch && intent.toEpoch === currentEpoch + 1
}
