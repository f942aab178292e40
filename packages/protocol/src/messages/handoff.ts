/**
 * The handoff (seed 002, "After Bob's initial DMTP setup"): once the receiver of relayed messages
 * has keys, the server decrypts each relayed message with its pair key with the sender, and
 * re-encrypts the content to its pair key with the receiver. The handoff also carries the sender's
 * original relayed envelope, so the receiver can check the sender signed that envelope (its id,
 * time, room) and name its CID in the migrated envelope it makes. Signed by the server.
 */
import type { CryptoBackend } from '../crypto/types.js'
import { fromBase64Url, toBase64Url, utf8ToBytes } from '../encoding/bytes.js'
import { canonicalText, encodeCanonical, encodeCanonicalWithPrefix } from '../encoding/canonical.js'
import { DecryptionFailedError } from '../errors.js'
import { decodeMessageContent, InvalidContentError, type TextContent } from './content.js'
import type { RelayEnvelope } from './envelope.js'
import { padPlaintext } from './padding.js'

export const HANDOFF_SUITE = 'dmtp-handoff-v1'

export type RelayedEnvelope = RelayEnvelope

export type Handoff = {
  v: 1
  suite: typeof HANDOFF_SUITE
  /** The sender's relayed envelope, as it signed it. */
  original: RelayedEnvelope
  /** The server's key bundle CID, and the receiver's. */
  serverKey: string
  receiverKey: string
  nonce: string
  messages: string
  signature: string
}

const AAD_PREFIX = 'dmtp/v1/handoff-aad\n'
const SIGNING_PREFIX = 'dmtp/v1/handoff\n'

/**
 * `AAD_PREFIX ‖ canonical({ v, suite, original, serverKey, receiverKey })`, written member by
 * member (sorted keys, no whitespace: exactly the canonical map) so that a receiver who already
 * encoded the original for its CID does not encode it twice.
 */
export function handoffAad(
  handoff: Pick<Handoff, 'v' | 'suite' | 'original' | 'serverKey' | 'receiverKey'>,
  originalText: string = canonicalText(handoff.original),
): Uint8Array {
  const { v, suite, serverKey, receiverKey } = handoff
  return utf8ToBytes(
    `${AAD_PREFIX}{"original":${originalText},"receiverKey":${canonicalText(receiverKey)},"serverKey":${canonicalText(serverKey)},"suite":${canonicalText(suite)},"v":${canonicalText(v)}}`,
  )
}

function handoffSigningBytes(handoff: Omit<Handoff, 'signature'>): Uint8Array {
  const { signature: _ignored, ...unsigned } = handoff as Handoff
  return encodeCanonicalWithPrefix(SIGNING_PREFIX, unsigned)
}

/** Encrypts relayed content to the receiver and signs the handoff with the server's key. */
export async function sealHandoff(
  backend: CryptoBackend,
  {
    original,
    content,
    key,
    serverKey,
    receiverKey,
    signingKey,
  }: {
    original: RelayedEnvelope
    content: TextContent
    key: Uint8Array
    serverKey: string
    receiverKey: string
    signingKey: Uint8Array
  },
): Promise<Handoff> {
  const header = { v: 1 as const, suite: HANDOFF_SUITE as typeof HANDOFF_SUITE, original, serverKey, receiverKey }
  const nonce = backend.randomBytes(12)
  const ciphertext = await backend.aesGcmEncrypt(key, nonce, padPlaintext(encodeCanonical(content)), handoffAad(header))
  const unsigned = { ...header, nonce: toBase64Url(nonce), messages: toBase64Url(ciphertext) }
  const signature = await backend.ed25519Sign(signingKey, handoffSigningBytes(unsigned))
  return { ...unsigned, signature: toBase64Url(signature) }
}

export async function verifyHandoffSignature(
  backend: CryptoBackend,
  handoff: Handoff,
  serverPublicKey: Uint8Array,
): Promise<boolean> {
  let signature: Uint8Array
  try {
    signature = fromBase64Url(handoff.signature)
  } catch {
    return false
  }
  return backend.ed25519Verify(serverPublicKey, handoffSigningBytes(handoff), signature)
}

/**
 * @param originalText - `toBlock(handoff.original).text` when the caller has it (it needs the
 *   original's CID too); computed otherwise.
 * @throws {DecryptionFailedError} for a wrong key or any altered byte.
 */
export async function openHandoff(
  backend: CryptoBackend,
  { handoff, key, originalText }: { handoff: Handoff; key: Uint8Array; originalText?: string | undefined },
): Promise<TextContent> {
  let plaintext: Uint8Array
  try {
    plaintext = await backend.aesGcmDecrypt(
      key,
      fromBase64Url(handoff.nonce),
      fromBase64Url(handoff.messages),
      handoffAad(handoff, originalText),
    )
  } catch (cause) {
    throw new DecryptionFailedError({ what: `handoff of message ${handoff.original.id}`, cause })
  }
  const content = decodeMessageContent(plaintext)
  // Relayed content is always a text with its author's signature.
  if (content.type !== 'text' || !content.author) throw new InvalidContentError({})
  return content
}
