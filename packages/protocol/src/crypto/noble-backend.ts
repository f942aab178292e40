/**
 * Portable backend on @noble/curves, @noble/ciphers and @noble/hashes: pure JS, audited, and the
 * fallback wherever WebCrypto lacks X25519 or Ed25519. Slower than native (X25519 ~35×), so it is
 * never chosen when a native backend works.
 */
import { gcm } from '@noble/ciphers/aes.js'
import { ed25519, x25519 } from '@noble/curves/ed25519.js'
import { hkdf } from '@noble/hashes/hkdf.js'
import { sha256 } from '@noble/hashes/sha2.js'
import { randomBytes } from '@noble/hashes/utils.js'
import { assertAnyBytes, assertBytes, isAllZero, isBytes } from '../encoding/bytes.js'
import { DecryptionFailedError, InvalidKeyError } from '../errors.js'
import type { CryptoBackend } from './types.js'

export const nobleBackend: CryptoBackend = {
  name: 'noble',
  randomBytes: (length) => randomBytes(length),
  sha256: (data) => sha256(data),
  async x25519PublicKey(secretKey) {
    assertBytes(secretKey, 32, 'secretKey')
    return x25519.getPublicKey(secretKey)
  },
  async x25519(secretKey, publicKey) {
    assertBytes(secretKey, 32, 'secretKey')
    assertBytes(publicKey, 32, 'publicKey')
    let shared: Uint8Array
    try {
      shared = x25519.getSharedSecret(secretKey, publicKey)
    } catch {
      throw new InvalidKeyError({ reason: 'X25519 public key is a low-order point' })
    }
    if (isAllZero(shared)) throw new InvalidKeyError({ reason: 'X25519 public key is a low-order point' })
    return shared
  },
  async ed25519PublicKey(secretKey) {
    assertBytes(secretKey, 32, 'secretKey')
    return ed25519.getPublicKey(secretKey)
  },
  async ed25519Sign(secretKey, message) {
    assertBytes(secretKey, 32, 'secretKey')
    assertAnyBytes(message, 'message')
    return ed25519.sign(message, secretKey)
  },
  async ed25519Verify(publicKey, message, signature) {
    if (!isBytes(publicKey, 32) || !isBytes(signature, 64) || !(message instanceof Uint8Array)) return false
    try {
      return ed25519.verify(signature, message, publicKey, { zip215: false })
    } catch {
      return false
    }
  },
  async hkdfSha256(ikm, salt, info, length) {
    return hkdf(sha256, ikm, salt, info, length)
  },
  async aesGcmEncrypt(key, iv, plaintext, aad) {
    assertBytes(iv, 12, 'iv')
    return gcm(key, iv, aad).encrypt(plaintext)
  },
  async aesGcmDecrypt(key, iv, ciphertext, aad) {
    try {
      assertBytes(iv, 12, 'iv')
      return gcm(key, iv, aad).decrypt(ciphertext)
    } catch (cause) {
      throw new DecryptionFailedError({ what: 'AES-GCM ciphertext', cause })
    }
  },
}
