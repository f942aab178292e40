/**
 * The signing input of the small signed records of private groups (invitations, invite links,
 * rotation intents): `prefix ‖ canonical(record without signature)`, Ed25519 by the author's
 * DMTP key, the signature in base64url. The prefix names the record type, so a signature over
 * one type never verifies as another.
 */
import type { CryptoBackend } from '../crypto/types.js'
import { toBase64Url } from '../encoding/bytes.js'
import { encodeCanonicalWithPrefix } from '../encoding/canonical.js'
import { verifySignatureText } from '../messages/envelope.js'

export function recordSigningBytes(prefix: string, record: object): Uint8Array {
  const { signature: _signature, ...unsigned } = record as { signature?: unknown }
  return encodeCanonicalWithPrefix(prefix, unsigned)
}

export async function signRecord<T extends object>(
  backend: CryptoBackend,
  prefix: string,
  record: T,
  signingKey: Uint8Array,
): Promise<T & { signature: string }> {
  const signature = await backend.ed25519Sign(signingKey, recordSigningBytes(prefix, record))
  return { ...record, signature: toBase64Url(signature) }
}

export function verifyRecord(
  backend: CryptoBackend,
  prefix: string,
  record: { signature: string },
  publicKey: Uint8Array,
): Promise<boolean> {
  return verifySignatureText(backend, publicKey, recordSigningBytes(prefix, record), record.signature)
}
