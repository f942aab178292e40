/**
 * Native backend on WebCrypto (`globalThis.crypto.subtle`): browsers and Node 20+. X25519 and
 * Ed25519 are recent additions to WebCrypto, so {@link detectCryptoBackend} checks them before
 * choosing this backend and falls back to noble otherwise. SHA-256 stays synchronous (noble):
 * WebCrypto's digest is async and the inputs here are small.
 */
import { sha256 } from '@noble/hashes/sha2.js'
import { assertAnyBytes, assertBytes, fromBase64Url, isAllZero, isBytes } from '../encoding/bytes.js'
import { DecryptionFailedError, InvalidKeyError } from '../errors.js'
import { KeyCache } from './_key-cache.js'
import { ed25519Pkcs8, x25519Pkcs8 } from './_pkcs8.js'
import type { CryptoBackend } from './types.js'

type Subtle = SubtleCrypto
const buffer = (bytes: Uint8Array) => bytes as Uint8Array<ArrayBuffer>

function subtle(): Subtle {
  const value = globalThis.crypto?.subtle
  if (!value) throw new Error('WebCrypto is not available in this environment')
  return value
}

export function createWebCryptoBackend(): CryptoBackend {
  const keys = new KeyCache<Promise<CryptoKey>>()
  const x25519Private = (secretKey: Uint8Array) =>
    keys.get('x25519-private', secretKey, () =>
      subtle().importKey('pkcs8', buffer(x25519Pkcs8(secretKey)), { name: 'X25519' }, true, ['deriveBits']),
    )
  const x25519Public = (publicKey: Uint8Array) =>
    keys.get('x25519-public', publicKey, () => subtle().importKey('raw', buffer(publicKey), { name: 'X25519' }, true, []))
  const ed25519Private = (secretKey: Uint8Array) =>
    keys.get('ed25519-private', secretKey, () =>
      subtle().importKey('pkcs8', buffer(ed25519Pkcs8(secretKey)), { name: 'Ed25519' }, true, ['sign']),
    )
  const ed25519Public = (publicKey: Uint8Array) =>
    keys.get('ed25519-public', publicKey, () =>
      subtle().importKey('raw', buffer(publicKey), { name: 'Ed25519' }, false, ['verify']),
    )
  const aesKey = (key: Uint8Array) =>
    keys.get('aes-gcm', key, () => subtle().importKey('raw', buffer(key), { name: 'AES-GCM' }, false, ['encrypt', 'decrypt']))
  const publicFromPrivate = async (key: Promise<CryptoKey>) => {
    const jwk = await subtle().exportKey('jwk', await key)
    return fromBase64Url(jwk.x as string)
  }

  return {
    name: 'webcrypto',
    randomBytes(length) {
      return globalThis.crypto.getRandomValues(new Uint8Array(length))
    },
    sha256: (data) => sha256(data),
    async x25519PublicKey(secretKey) {
      assertBytes(secretKey, 32, 'secretKey')
      return publicFromPrivate(x25519Private(secretKey))
    },
    async x25519(secretKey, publicKey) {
      assertBytes(secretKey, 32, 'secretKey')
      assertBytes(publicKey, 32, 'publicKey')
      let shared: Uint8Array
      try {
        const bits = await subtle().deriveBits(
          { name: 'X25519', public: await x25519Public(publicKey) },
          await x25519Private(secretKey),
          256,
        )
        shared = new Uint8Array(bits)
      } catch {
        throw new InvalidKeyError({ reason: 'X25519 public key is a low-order point' })
      }
      if (isAllZero(shared)) throw new InvalidKeyError({ reason: 'X25519 public key is a low-order point' })
      return shared
    },
    async ed25519PublicKey(secretKey) {
      assertBytes(secretKey, 32, 'secretKey')
      return publicFromPrivate(ed25519Private(secretKey))
    },
    async ed25519Sign(secretKey, message) {
      assertBytes(secretKey, 32, 'secretKey')
      assertAnyBytes(message, 'message')
      return new Uint8Array(await subtle().sign({ name: 'Ed25519' }, await ed25519Private(secretKey), buffer(message)))
    },
    async ed25519Verify(publicKey, message, signature) {
      if (!isBytes(publicKey, 32) || !isBytes(signature, 64) || !(message instanceof Uint8Array)) return false
      try {
        return await subtle().verify({ name: 'Ed25519' }, await ed25519Public(publicKey), buffer(signature), buffer(message))
      } catch {
        return false
      }
    },
    async hkdfSha256(ikm, salt, info, length) {
      const key = await subtle().importKey('raw', buffer(ikm), 'HKDF', false, ['deriveBits'])
      const bits = await subtle().deriveBits(
        { name: 'HKDF', hash: 'SHA-256', salt: buffer(salt), info: buffer(info) },
        key,
        length * 8,
      )
      return new Uint8Array(bits)
    },
    async aesGcmEncrypt(key, iv, plaintext, aad) {
      assertBytes(iv, 12, 'iv')
      const out = await subtle().encrypt(
        { name: 'AES-GCM', iv: buffer(iv), additionalData: buffer(aad), tagLength: 128 },
        await aesKey(key),
        buffer(plaintext),
      )
      return new Uint8Array(out)
    },
    async aesGcmDecrypt(key, iv, ciphertext, aad) {
      try {
        assertBytes(iv, 12, 'iv')
        const out = await subtle().decrypt(
          { name: 'AES-GCM', iv: buffer(iv), additionalData: buffer(aad), tagLength: 128 },
          await aesKey(key),
          buffer(ciphertext),
        )
        return new Uint8Array(out)
      } catch (cause) {
        throw new DecryptionFailedError({ what: 'AES-GCM ciphertext', cause })
      }
    },
  }
}
