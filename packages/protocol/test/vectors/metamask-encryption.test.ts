/**
 * The published eth_getEncryptionPublicKey / eth_decrypt vector (x25519-xsalsa20-poly1305, as
 * MetaMask implements it) against DMTP's wallet box.
 */
import {
  DecryptionFailedError,
  decryptWithWalletKey,
  type EthEncryptedData,
  encryptToWallet,
  fromBase64,
  getEncryptionPublicKey,
  toBase64,
} from '@dmtp/protocol'
import { nodeCryptoBackend } from '@dmtp/protocol/node'
import { describe, expect, test } from 'vitest'
import { loadVectors, toHex } from '../_util.js'

const vector = loadVectors<{
  privateKeyHex: string
  encryptionPublicKeyBase64: string
  encrypted: EthEncryptedData
  plaintext: string
}>('metamask-encryption.json')

const otherPrivateKey = () => toHex(nodeCryptoBackend.randomBytes(32))

describe('getEncryptionPublicKey', () => {
  test('default', () => {
    expect(getEncryptionPublicKey(vector.privateKeyHex)).toBe(vector.encryptionPublicKeyBase64)
  })

  test('behavior: accepts the 0x-prefixed private key', () => {
    expect(getEncryptionPublicKey(`0x${vector.privateKeyHex}`)).toBe(vector.encryptionPublicKeyBase64)
  })
})

describe('decryptWithWalletKey', () => {
  test('default', () => {
    expect(decryptWithWalletKey({ encryptedData: vector.encrypted, privateKey: vector.privateKeyHex })).toBe(vector.plaintext)
  })

  test('behavior: every flipped ciphertext byte throws DecryptionFailedError', () => {
    const ciphertext = fromBase64(vector.encrypted.ciphertext)
    for (let i = 0; i < ciphertext.length; i++) {
      const altered = ciphertext.slice()
      altered[i] = (altered[i] as number) ^ 0x01
      const encryptedData = { ...vector.encrypted, ciphertext: toBase64(altered) }
      expect(() => decryptWithWalletKey({ encryptedData, privateKey: vector.privateKeyHex }), `byte ${i}`).toThrow(
        DecryptionFailedError,
      )
    }
  })

  test('behavior: a flipped nonce or ephemeral key byte throws DecryptionFailedError', () => {
    for (const field of ['nonce', 'ephemPublicKey'] as const) {
      const bytes = fromBase64(vector.encrypted[field])
      bytes[0] = (bytes[0] as number) ^ 0x80
      const encryptedData = { ...vector.encrypted, [field]: toBase64(bytes) }
      expect(() => decryptWithWalletKey({ encryptedData, privateKey: vector.privateKeyHex }), field).toThrow(
        DecryptionFailedError,
      )
    }
  })

  test('behavior: a wrong private key throws DecryptionFailedError', () => {
    expect(() => decryptWithWalletKey({ encryptedData: vector.encrypted, privateKey: otherPrivateKey() })).toThrow(
      DecryptionFailedError,
    )
  })

  test('behavior: another version throws DecryptionFailedError', () => {
    const encryptedData = { ...vector.encrypted, version: 'x25519-xsalsa20-poly1306' } as unknown as EthEncryptedData
    expect(() => decryptWithWalletKey({ encryptedData, privateKey: vector.privateKeyHex })).toThrow(DecryptionFailedError)
  })
})

describe('encryptToWallet', () => {
  test('default', () => {
    const encryptedData = encryptToWallet({
      publicKey: vector.encryptionPublicKeyBase64,
      data: vector.plaintext,
      randomBytes: nodeCryptoBackend.randomBytes,
    })
    expect(encryptedData.version).toBe(vector.encrypted.version)
    expect(decryptWithWalletKey({ encryptedData, privateKey: vector.privateKeyHex })).toBe(vector.plaintext)
  })

  test('behavior: fresh ephemeral key and nonce each time', () => {
    const encrypt = () =>
      encryptToWallet({
        publicKey: vector.encryptionPublicKeyBase64,
        data: vector.plaintext,
        randomBytes: nodeCryptoBackend.randomBytes,
      })
    const [a, b] = [encrypt(), encrypt()]
    expect(a.nonce).not.toBe(b.nonce)
    expect(a.ephemPublicKey).not.toBe(b.ephemPublicKey)
    expect(a.ciphertext).not.toBe(b.ciphertext)
  })

  test('behavior: only the owner of the public key can decrypt', () => {
    const encryptedData = encryptToWallet({
      publicKey: vector.encryptionPublicKeyBase64,
      data: vector.plaintext,
      randomBytes: nodeCryptoBackend.randomBytes,
    })
    expect(() => decryptWithWalletKey({ encryptedData, privateKey: otherPrivateKey() })).toThrow(DecryptionFailedError)
  })
})
