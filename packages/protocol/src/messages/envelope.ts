/**
 * Message envelopes. The 1:1 envelope (seed 001, pattern α): the stored record keeps the seed's
 * fields `messages` (ciphertext), `sender`, `receiver`, `timestamp`, plus version, suite, id,
 * room, the two key ids, the nonce and the sender's Ed25519 signature; replies, reactions, edits,
 * recalls and pins add `type` and `ref`. The signed envelope of rooms without E2EE (`signed-envelope.ts`) is signed
 * the same way, over a content block named by CID instead of a ciphertext.
 *
 * - Encryption: AES-256-GCM under the conversation key, fresh 96-bit random nonce; the associated
 *   data binds every header field, so a server cannot move a ciphertext to another room, sender,
 *   receiver, time or id without the receiver noticing.
 * - Signature: Ed25519 by the sender's DMTP key over the canonical encoding of everything else,
 *   so the server can reject forgeries it cannot read, and anyone can check authorship later.
 */

import type { P2P_SUITE } from '../crypto/conversation-key.js'
import type { CryptoBackend } from '../crypto/types.js'
import { concatBytes, fromBase64Url, toBase64Url, utf8ToBytes } from '../encoding/bytes.js'
import { encodeCanonical, encodeCanonicalWithPrefix, type HashFunction, toBlock } from '../encoding/canonical.js'
import { merkleRoot } from '../encoding/merkle.js'
import { DecryptionFailedError } from '../errors.js'
import type { RoomActionType } from '../rooms/rules.js'
import { contentTypeOf, decodeMessageContent, InvalidContentError, MAX_TEXT_LENGTH, type MessageContent } from './content.js'
import type { GroupEnvelope } from './group-envelope.js'
import { padPlaintext } from './padding.js'

/**
 * `dmtp-p2p-v1`: pattern α, encrypted with the pair key of sender and receiver, signed by the sender.
 * `dmtp-relay-v1`: pattern β, to a wallet without keys: encrypted with the pair key of the sender
 * and the server (not yet end to end), signed by the sender; the content carries an author signature.
 * `dmtp-migrated-v1`: a relayed message made end to end once the receiver set up: encrypted with the
 * pair key of sender and receiver, signed by the receiver (who re-encrypted it), naming the CID of
 * the relayed envelope it `replaces`; the sender's author signature travels inside.
 * `dmtp-signed-v1`: a message of a room without E2EE (public rooms): not encrypted, signed by the sender, its content a
 * block of its own named by CID (`content.ts`), with the membership-log head its sender had seen.
 */
export const RELAY_SUITE = 'dmtp-relay-v1'
export const MIGRATED_SUITE = 'dmtp-migrated-v1'
export const SIGNED_SUITE = 'dmtp-signed-v1'
export type EnvelopeSuite = typeof P2P_SUITE | typeof RELAY_SUITE | typeof MIGRATED_SUITE | typeof SIGNED_SUITE

/** What a message that is not a plain message does to the message it names (`ref`). */
export type ActionType = Exclude<RoomActionType, 'message'>

/**
 * A message's kind and reference: omitted for a plain message (`ref` then names the message it
 * replies to), else the action and the message it acts on. Absent fields keep older envelopes'
 * bytes as they were.
 */
type Action = { type?: ActionType | undefined; ref?: string | undefined }

type PairFields = {
  v: 1
  id: string
  room: string
  sender: string
  receiver: string
  timestamp: string
  senderKey: string
  receiverKey: string
  nonce: string
  messages: string
  signature: string
}

export type P2PEnvelope = PairFields & Action & { suite: typeof P2P_SUITE; replaces?: undefined; proof?: undefined }
export type RelayEnvelope = PairFields & {
  suite: typeof RELAY_SUITE
  type?: undefined
  ref?: undefined
  replaces?: undefined
  proof?: undefined
}
export type MigratedEnvelope = PairFields & {
  suite: typeof MIGRATED_SUITE
  type?: undefined
  ref?: undefined
  replaces: string
  /** Present when signed in a batch (`envelope-batch.ts`): the path to the signed root. */
  proof?: string[] | undefined
}
/** The envelopes of a pair of wallets: encrypted, one sender and one receiver. */
export type PairEnvelope = P2PEnvelope | RelayEnvelope | MigratedEnvelope

export type SignedEnvelope = Action & {
  v: 1
  suite: typeof SIGNED_SUITE
  id: string
  room: string
  sender: string
  senderKey: string
  timestamp: string
  /** The CID of the newest membership-log entry the sender had seen. */
  logHead: string
  /** The CID of the content block (`content.ts`). */
  content: string
  signature: string
  proof?: undefined
}

/** Every suite; `dmtp-group-v1` (private groups with E2EE on) is in `group-envelope.ts`. */
export type Envelope = PairEnvelope | SignedEnvelope | GroupEnvelope

type Distribute<T, K extends keyof any> = T extends unknown ? Omit<T, K> : never
export type EnvelopeHeader = Distribute<PairEnvelope, 'nonce' | 'messages' | 'signature' | 'proof'>
/** An envelope before its signature: what `encryptEnvelope` makes and a batch signs. */
export type UnsignedEnvelope = Distribute<Envelope, 'signature' | 'proof'>

export { MAX_TEXT_LENGTH, type MessageContent }

const AAD_PREFIX = 'dmtp/v1/aad\n'
const SIGNING_PREFIX = 'dmtp/v1/envelope\n'

/** The header of a pair envelope: every field but the ciphertext and the signature. */
export function envelopeHeader(envelope: PairEnvelope | EnvelopeHeader): EnvelopeHeader {
  const { v, id, room, sender, receiver, timestamp, senderKey, receiverKey } = envelope
  const fields = { v, suite: envelope.suite, id, room, sender, receiver, timestamp, senderKey, receiverKey }
  if (envelope.suite === MIGRATED_SUITE) return { ...fields, suite: envelope.suite, replaces: envelope.replaces }
  if (envelope.suite === RELAY_SUITE) return { ...fields, suite: envelope.suite }
  return {
    ...fields,
    suite: envelope.suite,
    ...(envelope.type !== undefined ? { type: envelope.type } : {}),
    ...(envelope.ref !== undefined ? { ref: envelope.ref } : {}),
  }
}

/** The kind of a message from its header: a plain message unless it names an action. */
export function envelopeType(envelope: Envelope): RoomActionType {
  return envelope.type ?? 'message'
}

export function envelopeAad(header: EnvelopeHeader | PairEnvelope): Uint8Array {
  return encodeCanonicalWithPrefix(AAD_PREFIX, envelopeHeader(header))
}

/**
 * The bytes the sender signs: everything in the envelope but the signature (and a batch proof,
 * which is made after them: a batch signs the root over these bytes' hashes).
 * @param text - the envelope's canonical block text when at hand (a server has it for every
 *   message it stores): the signed text is then that text without its `"signature"` and
 *   `"proof"` members, cut out instead of encoded again. Keys are sorted, so each reads
 *   `,"signature":"…"` or `,"proof":["…",…]` (base64url values need no escaping). Anything else (a
 *   member found twice, nested or not, a value that would be escaped) is encoded again; a
 *   property test checks both agree.
 */
export function envelopeSigningBytes(envelope: UnsignedEnvelope | Envelope, text?: string): Uint8Array {
  const members = text === undefined ? undefined : unsignedMembers(envelope as Envelope)
  const cut = members && withoutMembers(text as string, members)
  if (cut !== undefined) return utf8ToBytes(SIGNING_PREFIX + cut)
  const { signature: _signature, proof: _proof, ...unsigned } = envelope as Envelope
  return encodeCanonicalWithPrefix(SIGNING_PREFIX, unsigned)
}

const BASE64URL = /^[A-Za-z0-9_-]*$/

/**
 * An envelope's block (canonical text, bytes, CID) and the bytes its signature covers, from one
 * canonical encoding instead of two (a server needs both for every message it stores).
 */
export function envelopeBlock(
  envelope: Envelope,
  hash: HashFunction,
): { text: string; bytes: Uint8Array; cid: string; signingBytes: Uint8Array } {
  const block = toBlock(envelope, hash)
  return { ...block, signingBytes: envelopeSigningBytes(envelope, block.text) }
}

/** The text of the members a signature does not cover, when they can be cut from the block text. */
function unsignedMembers(envelope: Envelope): string[] | undefined {
  // Only a plain record whose own data members are what gets encoded (an inherited, hidden or
  // computed member could leave a nested look-alike as the one occurrence found).
  const own = (key: string) => {
    const member = Object.getOwnPropertyDescriptor(envelope, key)
    return member?.enumerable === true && 'value' in member
  }
  const body = envelope.suite === SIGNED_SUITE ? 'content' : 'messages'
  if (
    Object.getPrototypeOf(envelope) !== Object.prototype ||
    !own(body) ||
    typeof (envelope as Record<string, unknown>)[body] !== 'string'
  ) {
    return undefined
  }
  const { signature, proof } = envelope
  if (!own('signature') || typeof signature !== 'string' || !BASE64URL.test(signature)) return undefined
  const members = [`,"signature":"${signature}"`]
  if (proof === undefined && !Object.hasOwn(envelope, 'proof')) return members
  if (
    !own('proof') ||
    !Array.isArray(proof) ||
    Object.getPrototypeOf(proof) !== Array.prototype ||
    Object.getOwnPropertySymbols(proof).length > 0 ||
    !proof.every((step) => typeof step === 'string' && BASE64URL.test(step))
  ) {
    return undefined
  }
  members.push(`,"proof":[${proof.map((step) => `"${step}"`).join(',')}]`)
  return members
}

/** `text` without each member, or undefined unless each occurs exactly once. */
function withoutMembers(text: string, members: string[]): string | undefined {
  const cuts: [number, number][] = []
  for (const member of members) {
    const at = text.indexOf(member)
    if (at < 0 || text.indexOf(member, at + 1) >= 0) return undefined
    cuts.push([at, at + member.length])
  }
  cuts.sort((a, b) => a[0] - b[0])
  let out = ''
  let from = 0
  for (const [at, end] of cuts) {
    if (at < from) return undefined
    out += text.slice(from, at)
    from = end
  }
  return out + text.slice(from)
}

export type SealEnvelopeParameters = {
  header: EnvelopeHeader
  content: MessageContent
  /** The 32-byte conversation key from `deriveConversationKey`. */
  key: Uint8Array
  /** The sender's Ed25519 secret key. */
  signingKey: Uint8Array
}

/**
 * Encrypts and signs a message.
 * @example
 * import { sealEnvelope } from '@dmtp/protocol'
 * const envelope = await sealEnvelope(backend, { header, content: { type: 'text', text: 'gm' }, key, signingKey })
 */
export async function sealEnvelope(
  backend: CryptoBackend,
  { header, content, key, signingKey }: SealEnvelopeParameters,
): Promise<PairEnvelope> {
  const { envelope, signingBytes } = await encryptEnvelope(backend, { header, content, key })
  const signature = await backend.ed25519Sign(signingKey, signingBytes)
  return { ...envelope, signature: toBase64Url(signature) } as PairEnvelope
}

export type EncryptEnvelopeReturnType = {
  envelope: UnsignedEnvelope
  /** `envelopeSigningBytes(envelope)`, for a caller that signs (a batch signs many). */
  signingBytes: Uint8Array
}

/**
 * Encrypts a message without signing it (a batch signs many: `signEnvelopeBatch`), and gives the
 * bytes its signature will cover.
 * @example
 * import { encryptEnvelope, signEnvelopeBatch } from '@dmtp/protocol'
 * const encrypted = await encryptEnvelope(backend, { header, content, key })
 * const [signed] = await signEnvelopeBatch(backend, { envelopes: [encrypted], signingKey })
 */
export async function encryptEnvelope(
  backend: CryptoBackend,
  { header, content, key }: Omit<SealEnvelopeParameters, 'signingKey'>,
): Promise<EncryptEnvelopeReturnType> {
  const fields = envelopeHeader(header)
  const expected = contentTypeOf(fields.type ?? 'message')
  if (content.type !== expected)
    throw new TypeError(`"content" expected ${expected} content for a ${fields.type ?? 'message'}, got ${content.type}`)
  const nonce = backend.randomBytes(12)
  const ciphertext = await backend.aesGcmEncrypt(key, nonce, padPlaintext(encodeCanonical(content)), envelopeAad(fields))
  const envelope = { ...fields, nonce: toBase64Url(nonce), messages: toBase64Url(ciphertext) } as UnsignedEnvelope
  return { envelope, signingBytes: envelopeSigningBytes(envelope) }
}

/**
 * True when the envelope carries a valid signature by `senderPublicKey` (Ed25519, 32 bytes):
 * over its signing bytes, or, for a migrated envelope signed in a batch, over the root its proof
 * leads to.
 * @param signingBytes - the envelope's signing bytes when already at hand ({@link envelopeBlock}).
 */
export async function verifyEnvelopeSignature(
  backend: CryptoBackend,
  envelope: Envelope,
  senderPublicKey: Uint8Array,
  signingBytes: Uint8Array = envelopeSigningBytes(envelope),
): Promise<boolean> {
  const signed = signedBytes(backend, envelope, signingBytes)
  return signed !== undefined && verifySignatureText(backend, senderPublicKey, signed, envelope.signature)
}

/**
 * The Ed25519 check of a base64url `signature` over `signed`; false for a malformed signature.
 * @internal
 */
export async function verifySignatureText(
  backend: CryptoBackend,
  publicKey: Uint8Array,
  signed: Uint8Array,
  signature: string,
): Promise<boolean> {
  let bytes: Uint8Array
  try {
    bytes = fromBase64Url(signature)
  } catch {
    return false
  }
  return backend.ed25519Verify(publicKey, signed, bytes)
}

/**
 * What the envelope's signature covers: its signing bytes, or a batch root; undefined for a
 * malformed proof, or a proof on an envelope that cannot be batch-signed.
 */
export function signedBytes(
  backend: Pick<CryptoBackend, 'sha256'>,
  envelope: Envelope,
  signingBytes: Uint8Array = envelopeSigningBytes(envelope),
  nodes?: Map<string, Uint8Array>,
): Uint8Array | undefined {
  if (envelope.proof === undefined) return signingBytes
  if (envelope.suite !== MIGRATED_SUITE) return undefined
  const root = merkleRoot(backend.sha256, backend.sha256(signingBytes), envelope.proof, nodes)
  return root && batchSigningBytes(root)
}

const BATCH_PREFIX = utf8ToBytes('dmtp/v1/envelope-batch\n')

/** What a batch signature covers: the root of the tree over its envelopes' signing-byte hashes. */
export function batchSigningBytes(root: Uint8Array): Uint8Array {
  return concatBytes(BATCH_PREFIX, root)
}

/**
 * Decrypts a pair envelope. Callers verify the signature first ({@link verifyEnvelopeSignature}).
 * @throws {DecryptionFailedError} for a wrong key or any altered byte.
 * @throws {InvalidContentError} for a ciphertext that decrypts to something not a message, or to
 *   content of another kind than the header names.
 */
export async function openEnvelope(
  backend: CryptoBackend,
  { envelope, key }: { envelope: PairEnvelope; key: Uint8Array },
): Promise<MessageContent> {
  let plaintext: Uint8Array
  try {
    plaintext = await backend.aesGcmDecrypt(
      key,
      fromBase64Url(envelope.nonce),
      fromBase64Url(envelope.messages),
      envelopeAad(envelope),
    )
  } catch (cause) {
    throw new DecryptionFailedError({ what: `message ${envelope.id}`, cause })
  }
  const content = decodeMessageContent(plaintext)
  if (content.type !== contentTypeOf(envelopeType(envelope))) throw new InvalidContentError({})
  return content
}
