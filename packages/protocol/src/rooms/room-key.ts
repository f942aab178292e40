/**
 * Room keys of private groups (docs/private-groups.md §2): 32 CSPRNG bytes made by a member's
 * client (never by the server) for one epoch of one room. Nothing is encrypted under the room key
 * itself: HKDF-SHA256 (RFC 5869) derives, per room and epoch, the message key (AES-256-GCM of the
 * group envelopes) and the key id, a public commitment that lets every recipient, and the server,
 * check that one epoch has one key without learning it.
 */
import type { CryptoBackend } from '../crypto/types.js'
import { assertBytes, toBase64Url, utf8ToBytes } from '../encoding/bytes.js'
import { encodeCanonicalWithPrefix } from '../encoding/canonical.js'
import { BaseError } from '../errors.js'
import { MAX_CURSOR_VALUE } from './limits.js'

/** The HKDF salt of every key derived from a room key. */
export const GROUP_KEY_SALT = 'dmtp-group-v1'
/** The highest epoch (epochs are stored as 32-bit positions); epoch 0 means "no key yet". */
export const MAX_EPOCH = MAX_CURSOR_VALUE

const MESSAGE_KEY_INFO = 'dmtp/v1/group-message-key\n'
const KEY_ID_INFO = 'dmtp/v1/group-key-id\n'

export type RoomKey = {
  room: string
  epoch: number
  /** The 32 secret bytes that get wrapped to members. */
  key: Uint8Array
  /** base64url of 32 bytes: HKDF(key, info naming room and epoch); public. */
  keyId: string
  /** The AES-256-GCM key of this epoch's group envelopes. */
  messageKey: Uint8Array
}

export type RoomKeyParameters = { room: string; epoch: number }

/**
 * Makes a fresh room key for an epoch.
 * @throws {RangeError} for an epoch outside 1 … {@link MAX_EPOCH}.
 * @example
 * import { createRoomKey } from '@dmtp/protocol'
 * const roomKey = await createRoomKey(backend, { room, epoch: 1 })
 */
export async function createRoomKey(backend: CryptoBackend, { room, epoch }: RoomKeyParameters): Promise<RoomKey> {
  return roomKeyFromBytes(backend, { room, epoch, key: backend.randomBytes(32) })
}

/**
 * The room key of `key`'s 32 bytes (after an unwrap, or from a client's key store), with its
 * derived keys.
 * @throws {RangeError} for an epoch outside 1 … {@link MAX_EPOCH} or a key of another length.
 * @example
 * import { roomKeyFromBytes } from '@dmtp/protocol'
 * const roomKey = await roomKeyFromBytes(backend, { room, epoch: 3, key })
 */
export async function roomKeyFromBytes(
  backend: CryptoBackend,
  { room, epoch, key }: RoomKeyParameters & { key: Uint8Array },
): Promise<RoomKey> {
  assertBytes(key, 32, 'key')
  assertEpoch(epoch)
  const salt = utf8ToBytes(GROUP_KEY_SALT)
  const [messageKey, keyId] = await Promise.all([
    backend.hkdfSha256(key, salt, roomKeyInfo(MESSAGE_KEY_INFO, { room, epoch }), 32),
    backend.hkdfSha256(key, salt, roomKeyInfo(KEY_ID_INFO, { room, epoch }), 32),
  ])
  return { room, epoch, key, keyId: toBase64Url(keyId), messageKey }
}

/** `prefix ‖ canonical({ epoch, room })`: the HKDF info of the keys derived from a room key. */
function roomKeyInfo(prefix: string, { room, epoch }: RoomKeyParameters): Uint8Array {
  return encodeCanonicalWithPrefix(prefix, { epoch, room })
}

/** @throws {RangeError} unless `epoch` is an integer in 1 … {@link MAX_EPOCH}. */
export function assertEpoch(epoch: unknown): asserts epoch is number {
  if (typeof epoch !== 'number') throw new TypeError(`"epoch" expected a number, got ${typeof epoch}`)
  if (!Number.isInteger(epoch) || epoch < 1 || epoch > MAX_EPOCH) {
    throw new RangeError(`"epoch" expected an integer from 1 to ${MAX_EPOCH}, got ${epoch}`)
  }
}

export type RoomKeyMismatchErrorType = RoomKeyMismatchError & { name: 'RoomKeyMismatchError' }

/**
 * A record made for another room key than the one given: another room or epoch, or a wrapped key
 * whose key id is not the one its record names.
 */
export class RoomKeyMismatchError extends BaseError {
  override name = 'RoomKeyMismatchError'
  constructor({ what, expected, got }: { what: string; expected: string; got: string }) {
    super(`${what} is not for this room key: expected ${expected}, got ${got}.`)
  }
}
