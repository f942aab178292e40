/**
 * PKCS#8 wrappers for raw 32-byte X25519 / Ed25519 secret keys (RFC 8410 §7): the fixed DER
 * prefix followed by the key. WebCrypto and node:crypto import private keys from PKCS#8 (their JWK
 * import needs the public half too).
 */
import { concatBytes } from '../encoding/bytes.js'

const X25519_PKCS8_PREFIX = new Uint8Array([
  0x30, 0x2e, 0x02, 0x01, 0x00, 0x30, 0x05, 0x06, 0x03, 0x2b, 0x65, 0x6e, 0x04, 0x22, 0x04, 0x20,
])
const ED25519_PKCS8_PREFIX = new Uint8Array([
  0x30, 0x2e, 0x02, 0x01, 0x00, 0x30, 0x05, 0x06, 0x03, 0x2b, 0x65, 0x70, 0x04, 0x22, 0x04, 0x20,
])

export function x25519Pkcs8(secretKey: Uint8Array): Uint8Array {
  return concatBytes(X25519_PKCS8_PREFIX, secretKey)
}

export function ed25519Pkcs8(secretKey: Uint8Array): Uint8Array {
  return concatBytes(ED25519_PKCS8_PREFIX, secretKey)
}
