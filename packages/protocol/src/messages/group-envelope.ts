/**
 * Messages of private groups with E2EE on (docs/private-groups.md §5), suite `dmtp-group-v1`: the
 * header of a signed-room message (`dmtp-signed-v1`: id, room, sender, sender's key bundle, time,
 * the membership-log head the sender had seen, and the action) plus the epoch, and instead of a
 * content CID the padded content encrypted with AES-256-GCM under the epoch's message key
 * (`rooms/room-key.ts`). The associated data binds the whole header, so the server cannot move a
 * ciphertext to another room, epoch, sender, time or id; the sender signs the envelope exactly as
 * every DMTP envelope is signed (`envelopeSigningBytes`), so the server can refuse forgeries it
 * cannot read.
 */
import type { CryptoBackend } from '../crypto/types.js'
import { fromBase64Url, toBase64Url } from '../encoding/bytes.js'
import { encodeCanonical, encodeCanonicalWithPrefix } from '../encoding/canonical.js'
import { DecryptionFailedError, SignatureInvalidError } from '../errors.js'
import { type RoomKey, RoomKeyMismatchError } from '../rooms/room-key.js'
import { contentTypeOf, decodeMessageContent, InvalidContentError, type MessageContent } from './content.js'
import { type ActionType, type Envelope, envelopeSigningBytes, verifySignatureText } from './envelope.js'
import { padPlaintext } from './padding.js'

export const GROUP_SUITE = 'dmtp-group-v1'

const AAD_PREFIX = 'dmtp/v1/group-aad\n'

export type GroupEnvelope = {
  v: 1
  suite: typeof GROUP_SUITE
  id: string
  room: string
  /** The epoch whose message key encrypts the content. */
  epoch: number
  sender: string
  senderKey: string
  timestamp: string
  /** The CID of the newest membership-log entry the sender had seen. */
  logHead: string
  /** Absent for a plain message (`ref` then names the message it replies to). */
  type?: ActionType | undefined
  ref?: string | undefined
  nonce: string
  /** AES-256-GCM of the padded canonical content and its tag, base64url. */
  messages: string
  signature: string
  proof?: undefined
}

export type GroupEnvelopeHeader = Omit<GroupEnvelope, 'nonce' | 'messages' | 'signature'>

/** The header of a group envelope: every field but nonce, ciphertext and signature (absent actions are no member). */
export function groupEnvelopeHeader(envelope: GroupEnvelopeHeader | GroupEnvelope): GroupEnvelopeHeader {
  const { v, suite, id, room, epoch, sender, senderKey, timestamp, logHead, type, ref } = envelope
  return {
    v,
    suite,
    id,
    room,
    epoch,
    sender,
    senderKey,
    timestamp,
    logHead,
    ...(type !== undefined ? { type } : {}),
    ...(ref !== undefined ? { ref } : {}),
  }
}

/** `"dmtp/v1/group-aad\n" ‖ canonical(header)`. */
export function groupEnvelopeAad(envelope: GroupEnvelopeHeader | GroupEnvelope): Uint8Array {
  return encodeCanonicalWithPrefix(AAD_PREFIX, groupEnvelopeHeader(envelope))
}

/**
 * The bytes the sender signs: `"dmtp/v1/envelope\n" ‖ canonical(envelope without signature)`, the
 * signing input of every envelope suite (`envelopeSigningBytes`, with its fast path when the
 * block text is at hand).
 */
export function groupEnvelopeSigningBytes(envelope: Omit<GroupEnvelope, 'signature'> | GroupEnvelope, text?: string): Uint8Array {
  return envelopeSigningBytes(envelope as Envelope, text)
}

export type SealGroupEnvelopeParameters = {
  header: GroupEnvelopeHeader
  content: MessageContent
  /** The room key of `header.epoch`. */
  roomKey: RoomKey
  /** The sender's Ed25519 secret key. */
  signingKey: Uint8Array
}

/**
 * Encrypts and signs a private-group message.
 * @throws {RoomKeyMismatchError} when `roomKey` is not the key of the header's room and epoch.
 * @example
 * import { sealGroupEnvelope } from '@dmtp/protocol'
 * const envelope = await sealGroupEnvelope(backend, { header, content: { type: 'text', text: 'gm' }, roomKey, signingKey })
 */
export async function sealGroupEnvelope(
  backend: CryptoBackend,
  { header, content, roomKey, signingKey }: SealGroupEnvelopeParameters,
): Promise<GroupEnvelope> {
  const fields = groupEnvelopeHeader(header)
  checkRoomKey(fields, roomKey)
  const expected = contentTypeOf(fields.type ?? 'message')
  if (content.type !== expected) {
    throw new TypeError(`"content" expected ${expected} content for a ${fields.type ?? 'message'}, got ${content.type}`)
  }
  const nonce = backend.randomBytes(12)
  const ciphertext = await backend.aesGcmEncrypt(
    roomKey.messageKey,
    nonce,
    padPlaintext(encodeCanonical(content)),
    groupEnvelopeAad(fields),
  )
  const unsigned = { ...fields, nonce: toBase64Url(nonce), messages: toBase64Url(ciphertext) }
  const signature = await backend.ed25519Sign(signingKey, groupEnvelopeSigningBytes(unsigned))
  return { ...unsigned, signature: toBase64Url(signature) }
}

/**
 * True when `senderPublicKey` (the Ed25519 key of the bundle `senderKey` names) signed exactly
 * this envelope: what a server checks, without the key to read it.
 */
export function verifyGroupEnvelopeSignature(
  backend: CryptoBackend,
  envelope: GroupEnvelope,
  senderPublicKey: Uint8Array,
  signingBytes: Uint8Array = groupEnvelopeSigningBytes(envelope),
): Promise<boolean> {
  return verifySignatureText(backend, senderPublicKey, signingBytes, envelope.signature)
}

export type OpenGroupEnvelopeParameters = {
  envelope: GroupEnvelope
  roomKey: RoomKey
  senderPublicKey: Uint8Array
}

/**
 * Verifies the sender's signature and decrypts a private-group message.
 * @throws {RoomKeyMismatchError} when `roomKey` is not the key of the envelope's room and epoch.
 * @throws {SignatureInvalidError} when the sender did not sign exactly this envelope.
 * @throws {DecryptionFailedError} for a wrong key or any altered byte.
 * @throws {InvalidContentError} for content that is not a message, or not of the kind the header names.
 * @example
 * import { openGroupEnvelope } from '@dmtp/protocol'
 * const content = await openGroupEnvelope(backend, { envelope, roomKey, senderPublicKey })
 */
export async function openGroupEnvelope(
  backend: CryptoBackend,
  { envelope, roomKey, senderPublicKey }: OpenGroupEnvelopeParameters,
): Promise<MessageContent> {
  checkRoomKey(envelope, roomKey)
  if (!(await verifyGroupEnvelopeSignature(backend, envelope, senderPublicKey))) {
    throw new SignatureInvalidError({ what: `message ${envelope.id}`, reason: `not signed by ${envelope.sender}` })
  }
  let plaintext: Uint8Array
  try {
    plaintext = await backend.aesGcmDecrypt(
      roomKey.messageKey,
      fromBase64Url(envelope.nonce),
      fromBase64Url(envelope.messages),
      groupEnvelopeAad(envelope),
    )
  } catch (cause) {
    throw new DecryptionFailedError({ what: `message ${envelope.id}`, cause })
  }
  const content = decodeMessageContent(plaintext)
  if (content.type !== contentTypeOf(envelope.type ?? 'message')) throw new InvalidContentError({})
  return content
}

function checkRoomKey({ room, epoch }: { room: string; epoch: number }, roomKey: RoomKey): void {
  if (room !== roomKey.room || epoch !== roomKey.epoch) {
    throw new RoomKeyMismatchError({
      what: 'The message',
      expected: `room ${roomKey.room} epoch ${roomKey.epoch}`,
      got: `room ${room} epoch ${epoch}`,
    })
  }
}
