/**
 * The combined key of a 1:1 conversation (DMTP "pattern α"): both parties compute the same
 * X25519 secret from their own secret key and the other's public key (RFC 7748), then HKDF-SHA256
 * (RFC 5869) binds it to both addresses, both public keys and the suite, so a key made for one
 * pair of wallets can never decrypt another pair's messages.
 */
import { concatBytes, utf8ToBytes } from '../encoding/bytes.js'
import type { CryptoBackend } from './types.js'

export const P2P_SUITE = 'dmtp-p2p-v1'

export type DeriveConversationKeyParameters = {
  /** Own X25519 secret key (32 bytes). */
  secretKey: Uint8Array
  /** Own X25519 public key. */
  publicKey: Uint8Array
  /** Own wallet address. */
  address: string
  /** The peer's X25519 public key, from its verified key bundle. */
  peerPublicKey: Uint8Array
  peerAddress: string
}

/**
 * Derives the AES-256-GCM key two wallets share.
 * @returns 32 bytes, identical on both sides.
 * @throws {InvalidKeyError} when the peer key is a low-order point.
 * @example
 * import { deriveConversationKey } from '@dmtp/protocol'
 * const key = await deriveConversationKey(backend, { secretKey, publicKey, address, peerPublicKey, peerAddress })
 */
export async function deriveConversationKey(
  backend: CryptoBackend,
  { secretKey, publicKey, address, peerPublicKey, peerAddress }: DeriveConversationKeyParameters,
): Promise<Uint8Array> {
  const shared = await backend.x25519(secretKey, peerPublicKey)
  const sides = [
    { address: address.toLowerCase(), key: publicKey },
    { address: peerAddress.toLowerCase(), key: peerPublicKey },
  ].sort((a, b) => (a.address === b.address ? compareBytes(a.key, b.key) : a.address < b.address ? -1 : 1))
  const [first, second] = sides as [(typeof sides)[0], (typeof sides)[0]]
  const info = concatBytes(utf8ToBytes(`${P2P_SUITE}\n${first.address}\n${second.address}\n`), first.key, second.key)
  return backend.hkdfSha256(shared, utf8ToBytes(P2P_SUITE), info, 32)
}

function compareBytes(a: Uint8Array, b: Uint8Array): number {
  for (let i = 0; i < Math.min(a.length, b.length); i++) {
    if (a[i] !== b[i]) return (a[i] as number) - (b[i] as number)
  }
  return a.length - b.length
}
