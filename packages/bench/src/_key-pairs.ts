/**
 * X25519 and Ed25519 key pairs for the bench's thousands of members, made from 32 random bytes
 * with `createPrivateKey`. Node 20's `generateKeyPairSync` can deadlock when the garbage collector
 * frees one of its jobs while thousands are made (the main thread waits forever on a mutex in
 * `KeyGenJob`'s destructor); importing random bytes as a PKCS#8 key makes no job.
 */
import { createPrivateKey, type KeyObject, randomBytes } from 'node:crypto'

/** PKCS#8 DER before the 32-byte secret: the algorithm identifiers of RFC 8410. */
const PKCS8_PREFIX = {
  ed25519: Buffer.from('302e020100300506032b657004220420', 'hex'),
  x25519: Buffer.from('302e020100300506032b656e04220420', 'hex'),
}

export type KeyPair = { privateKey: KeyObject; secretKey: Uint8Array; publicKey: Uint8Array }

/** A fresh key pair of `curve`: the key object, and the raw secret and public keys. */
export function makeKeyPair(curve: 'ed25519' | 'x25519'): KeyPair {
  const secret = randomBytes(32)
  const privateKey = createPrivateKey({ key: Buffer.concat([PKCS8_PREFIX[curve], secret]), format: 'der', type: 'pkcs8' })
  const jwk = privateKey.export({ format: 'jwk' })
  return {
    privateKey,
    secretKey: new Uint8Array(Buffer.from(jwk.d as string, 'base64url')),
    publicKey: new Uint8Array(Buffer.from(jwk.x as string, 'base64url')),
  }
}
