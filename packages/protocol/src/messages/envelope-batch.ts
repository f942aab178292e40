/**
 * One signature over many migrated envelopes (pattern β, protocol.md §5.5). A receiver migrating
 * thousands of relayed messages signs a hash tree over them instead of each one: each envelope
 * carries the path from its own leaf (the SHA-256 of its signing bytes) to the root, and every
 * envelope of the batch carries the same signature over that root. Any one envelope still verifies
 * alone ({@link verifyEnvelopeSignature}); a server checking an upload checks each root once
 * ({@link verifyEnvelopeSignatures}). Only migrated envelopes may be batch-signed.
 */
import type { CryptoBackend } from '../crypto/types.js'
import { toBase64Url } from '../encoding/bytes.js'
import { merkleTree } from '../encoding/merkle.js'
import {
  batchSigningBytes,
  type Envelope,
  envelopeSigningBytes,
  MIGRATED_SUITE,
  signedBytes,
  type UnsignedEnvelope,
  verifyEnvelopeSignature,
  verifySignatureText,
} from './envelope.js'

type MigratedEnvelope = Extract<Envelope, { suite: typeof MIGRATED_SUITE }>
type MigratedUnsigned = Extract<UnsignedEnvelope, { suite: typeof MIGRATED_SUITE }>

/**
 * Signs migrated envelopes as one batch.
 * @param envelopes - each with its signing bytes when at hand (`encryptEnvelope` gives them);
 *   computed otherwise.
 * @throws {RangeError} for an envelope of another suite, or more than 4,096 envelopes.
 * @example
 * import { encryptEnvelope, signEnvelopeBatch } from '@dmtp/protocol'
 * const encrypted = await Promise.all(messages.map(({ header, content }) => encryptEnvelope(backend, { header, content, key })))
 * const signed = await signEnvelopeBatch(backend, { envelopes: encrypted, signingKey })
 */
export async function signEnvelopeBatch(
  backend: CryptoBackend,
  {
    envelopes,
    signingKey,
  }: { envelopes: { envelope: UnsignedEnvelope; signingBytes?: Uint8Array | undefined }[]; signingKey: Uint8Array },
): Promise<MigratedEnvelope[]> {
  if (envelopes.length === 0) return []
  for (const { envelope } of envelopes) {
    if (envelope.suite !== MIGRATED_SUITE)
      throw new RangeError(`"envelopes" expected ${MIGRATED_SUITE} only, got ${envelope.suite}`)
  }
  const { root, proofs } = merkleTree(
    backend.sha256,
    envelopes.map(({ envelope, signingBytes = envelopeSigningBytes(envelope) }) => backend.sha256(signingBytes)),
  )
  const signature = toBase64Url(await backend.ed25519Sign(signingKey, batchSigningBytes(root)))
  return envelopes.map(({ envelope }, i) => ({ ...(envelope as MigratedUnsigned), proof: proofs[i] as string[], signature }))
}

/**
 * Checks many envelopes signed by one key, each distinct signed root once (a batch of 16
 * migrated envelopes costs one Ed25519 check, not 16). Same answers as
 * {@link verifyEnvelopeSignature} on each.
 * @param signingBytes - each envelope's signing bytes when already at hand.
 */
export async function verifyEnvelopeSignatures(
  backend: CryptoBackend,
  envelopes: { envelope: Envelope; signingBytes?: Uint8Array | undefined }[],
  publicKey: Uint8Array,
): Promise<boolean[]> {
  const checks = new Map<string, Promise<boolean>>()
  const nodes = new Map<string, Uint8Array>()
  return Promise.all(
    envelopes.map(({ envelope, signingBytes }) => {
      // Signed alone: bytes of its own, nothing to share.
      if (envelope.proof === undefined) return verifyEnvelopeSignature(backend, envelope, publicKey, signingBytes)
      const signed = signedBytes(backend, envelope, signingBytes, nodes)
      if (!signed || typeof envelope.signature !== 'string') return false
      const key = `${envelope.signature}:${toBase64Url(signed)}`
      let check = checks.get(key)
      if (!check) {
        check = verifySignatureText(backend, publicKey, signed, envelope.signature)
        checks.set(key, check)
      }
      return check
    }),
  )
}
