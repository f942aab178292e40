/**
 * The primitives DMTP's suite is built from, behind one interface so each platform can use its
 * fastest implementation: node:crypto on servers and CLIs, WebCrypto in browsers, @noble as the
 * portable fallback. Every backend must pass the same Wycheproof vectors (protocol/test/vectors).
 *
 * Keys are raw bytes: X25519 and Ed25519 secret keys are 32-byte seeds, public keys 32 bytes.
 * Backends cache their imported key objects, so callers pass bytes and pay the import once.
 */
export type CryptoBackendName = 'node' | 'webcrypto' | 'noble'

export interface CryptoBackend {
  readonly name: CryptoBackendName
  /** CSPRNG bytes (crypto.getRandomValues or node:crypto). */
  randomBytes(length: number): Uint8Array
  sha256(data: Uint8Array): Uint8Array
  x25519PublicKey(secretKey: Uint8Array): Promise<Uint8Array>
  /**
   * Raw X25519 (RFC 7748). Rejects (throws) when the result would be all zero: a low-order peer
   * key must never yield a "shared" secret.
   */
  x25519(secretKey: Uint8Array, publicKey: Uint8Array): Promise<Uint8Array>
  ed25519PublicKey(secretKey: Uint8Array): Promise<Uint8Array>
  ed25519Sign(secretKey: Uint8Array, message: Uint8Array): Promise<Uint8Array>
  /** Strict RFC 8032 verification; false (never a throw) for a malformed key or signature. */
  ed25519Verify(publicKey: Uint8Array, message: Uint8Array, signature: Uint8Array): Promise<boolean>
  hkdfSha256(ikm: Uint8Array, salt: Uint8Array, info: Uint8Array, length: number): Promise<Uint8Array>
  /** AES-GCM with a 96-bit IV (the only size DMTP uses) and a 16-byte tag appended. */
  aesGcmEncrypt(key: Uint8Array, iv: Uint8Array, plaintext: Uint8Array, aad: Uint8Array): Promise<Uint8Array>
  /** @throws {DecryptionFailedError} when the tag does not verify. */
  aesGcmDecrypt(key: Uint8Array, iv: Uint8Array, ciphertext: Uint8Array, aad: Uint8Array): Promise<Uint8Array>
}
