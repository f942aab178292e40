/**
 * The author signature of a relayed message (pattern β). A message to a wallet without keys is
 * encrypted to the server, which could read it and, when the receiver sets up, re-encrypts it. So
 * that the server can still never put words in the sender's mouth, the sender signs the message
 * itself (id, room, both wallets, time and text) with its Ed25519 key, inside the ciphertext; the
 * signature travels through every re-encryption and the receiver checks it at the end.
 */
import type { CryptoBackend } from '../crypto/types.js'
import { fromBase64Url, toBase64Url } from '../encoding/bytes.js'
import { encodeCanonicalWithPrefix } from '../encoding/canonical.js'

export type AuthoredMessage = { id: string; room: string; sender: string; receiver: string; timestamp: string; text: string }

const PREFIX = 'dmtp/v1/author\n'

export function authorSigningBytes({ id, room, sender, receiver, timestamp, text }: AuthoredMessage): Uint8Array {
  return encodeCanonicalWithPrefix(PREFIX, { id, room, sender, receiver, timestamp, text })
}

/**
 * @param key - the CID of the sender's key bundle that holds `signingKey`'s public half.
 * @example
 * import { signAuthor } from '@dmtp/protocol'
 * const author = await signAuthor(backend, { message, signingKey, key: bundleCid })
 */
export async function signAuthor(
  backend: CryptoBackend,
  { message, signingKey, key }: { message: AuthoredMessage; signingKey: Uint8Array; key: string },
): Promise<{ key: string; sig: string }> {
  return { key, sig: toBase64Url(await backend.ed25519Sign(signingKey, authorSigningBytes(message))) }
}

/** True when `sig` is the sender's signature over exactly this message. */
export async function verifyAuthor(
  backend: CryptoBackend,
  { message, sig, publicKey }: { message: AuthoredMessage; sig: string; publicKey: Uint8Array },
): Promise<boolean> {
  let signature: Uint8Array
  try {
    signature = fromBase64Url(sig)
  } catch {
    return false
  }
  return backend.ed25519Verify(publicKey, authorSigningBytes(message), signature)
}
