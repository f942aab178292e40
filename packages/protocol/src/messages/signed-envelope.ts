/**
 * Messages of rooms that are not end-to-end encrypted (protocol.md §6.6): public rooms (anyone may
 * join and read), and private groups while E2EE is off. Not encrypted, but signed by their sender
 * like every envelope. The words are a block of their own and the signed
 * envelope names that block's CID, so a recalled message loses its words everywhere (database,
 * block store) while its envelope, signature and anchor stay intact.
 */
import type { CryptoBackend } from '../crypto/types.js'
import { toBase64Url } from '../encoding/bytes.js'
import { type HashFunction, toBlock } from '../encoding/canonical.js'
import type { MessageContent } from './content.js'
import { envelopeSigningBytes, type SignedEnvelope } from './envelope.js'

export type SignedEnvelopeHeader = Omit<SignedEnvelope, 'content' | 'signature' | 'proof'>

export type SealSignedEnvelopeReturnType = {
  envelope: SignedEnvelope
  /** The content block the envelope names: its canonical text and CID. */
  content: { text: string; cid: string }
}

/**
 * Makes and signs a message of a room without end-to-end encryption.
 * @example
 * import { sealSignedEnvelope } from '@dmtp/protocol'
 * const { envelope, content } = await sealSignedEnvelope(backend, { header, content: { type: 'text', text: 'gm' }, signingKey })
 */
export async function sealSignedEnvelope(
  backend: CryptoBackend,
  { header, content, signingKey }: { header: SignedEnvelopeHeader; content: MessageContent; signingKey: Uint8Array },
): Promise<SealSignedEnvelopeReturnType> {
  const block = toBlock(content, backend.sha256)
  // As `envelopeHeader` does for pair envelopes: an absent action is no member at all (undefined has no encoding).
  const { type, ref, ...fields } = header
  const unsigned = {
    ...fields,
    ...(type !== undefined ? { type } : {}),
    ...(ref !== undefined ? { ref } : {}),
    content: block.cid,
  }
  const signature = await backend.ed25519Sign(signingKey, envelopeSigningBytes(unsigned))
  return { envelope: { ...unsigned, signature: toBase64Url(signature) }, content: { text: block.text, cid: block.cid } }
}

/** True when `content` is the block the envelope names (its CID recomputed here). */
export function contentMatches(envelope: SignedEnvelope, content: unknown, hash: HashFunction): boolean {
  return toBlock(content, hash).cid === envelope.content
}
