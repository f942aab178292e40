/**
 * How a wallet protects its DMTP secret keys (`DMTPpriKey`), in one of two tagged schemes:
 *
 * - `x25519-xsalsa20-poly1305`: encrypted to the wallet's `eth_getEncryptionPublicKey` and opened
 *   by `eth_decrypt` (what seed 003 describes; MetaMask-compatible).
 * - `eip191-hkdf-aes256gcm`: for wallets without `eth_decrypt`: the wallet signs a fixed unlock
 *   message (EIP-191); HKDF-SHA256 turns the signature into an AES-256-GCM key. Works because
 *   secp256k1 signatures from wallets are deterministic (RFC 6979); a wallet that is not gets a
 *   clear "could not unlock" error, never wrong keys (GCM authenticates).
 *
 * The unlocking signature never leaves the client: only the ciphertext is uploaded.
 */
import type { CryptoBackend } from '../crypto/types.js'
import { type EthEncryptedData, encryptToWallet } from '../crypto/wallet-box.js'
import { bytesToUtf8, fromBase64Url, hexToBytes, toBase64Url, utf8ToBytes } from '../encoding/bytes.js'
import { BaseError } from '../errors.js'
import { type DmtpKeys, decodeSecretKeys, dmtpKeysFromSecrets, encodeSecretKeys } from './dmtp-keys.js'

export const WALLET_SCHEMES = ['x25519-xsalsa20-poly1305', 'eip191-hkdf-aes256gcm'] as const
export type WalletScheme = (typeof WALLET_SCHEMES)[number]

export type EncryptedDmtpKeys =
  | { scheme: 'x25519-xsalsa20-poly1305'; encrypted: EthEncryptedData }
  | { scheme: 'eip191-hkdf-aes256gcm'; salt: string; nonce: string; ciphertext: string }

/** What a wallet can do for key wrapping; `signMessage` is EIP-191 `personal_sign`. */
export type KeyWrapWallet = {
  address: string
  signMessage: (message: string) => Promise<string>
  getEncryptionPublicKey?: (() => Promise<string>) | undefined
  decrypt?: ((data: EthEncryptedData) => Promise<string>) | undefined
}

/** The message a wallet signs to unlock `eip191-hkdf-aes256gcm` keys. Fixed per bundle (salt). */
export function keyUnlockMessage({ address, salt }: { address: string; salt: string }): string {
  return [
    'DMTP key unlock',
    '',
    'Sign to unlock your DMTP messaging keys on this device.',
    'This costs no gas and cannot move funds. Only sign it in a DMTP app you trust.',
    '',
    `Wallet: ${address}`,
    `Salt: ${salt}`,
  ].join('\n')
}

export type WrapDmtpKeysParameters = {
  keys: DmtpKeys
  wallet: KeyWrapWallet
  /** Defaults to `x25519-xsalsa20-poly1305` when the wallet can decrypt, else the signature scheme. */
  scheme?: WalletScheme | undefined
}

/**
 * Encrypts DMTP secret keys so that only `wallet` can recover them.
 * @example
 * import { wrapDmtpKeys } from '@dmtp/protocol'
 * const DMTPpriKey = await wrapDmtpKeys(backend, { keys, wallet })
 */
export async function wrapDmtpKeys(
  backend: CryptoBackend,
  { keys, wallet, scheme }: WrapDmtpKeysParameters,
): Promise<EncryptedDmtpKeys> {
  const chosen =
    scheme ?? (wallet.getEncryptionPublicKey && wallet.decrypt ? 'x25519-xsalsa20-poly1305' : 'eip191-hkdf-aes256gcm')
  const plaintext = encodeSecretKeys(keys)
  if (chosen === 'x25519-xsalsa20-poly1305') {
    if (!wallet.getEncryptionPublicKey) throw new WalletUnsupportedError({ capability: 'eth_getEncryptionPublicKey' })
    const publicKey = await wallet.getEncryptionPublicKey()
    return { scheme: chosen, encrypted: encryptToWallet({ publicKey, data: plaintext, randomBytes: backend.randomBytes }) }
  }
  const salt = toBase64Url(backend.randomBytes(16))
  const key = await signatureKey(backend, wallet, salt)
  const nonce = backend.randomBytes(12)
  const ciphertext = await backend.aesGcmEncrypt(key, nonce, utf8ToBytes(plaintext), wrapAad(wallet.address))
  return { scheme: chosen, salt, nonce: toBase64Url(nonce), ciphertext: toBase64Url(ciphertext) }
}

/**
 * Recovers DMTP keys with the wallet alone (a new device needs nothing else).
 * @throws {KeyUnlockFailedError} when the wallet cannot open them.
 */
export async function unwrapDmtpKeys(
  backend: CryptoBackend,
  { encrypted, wallet }: { encrypted: EncryptedDmtpKeys; wallet: KeyWrapWallet },
): Promise<DmtpKeys> {
  let plaintext: string
  try {
    if (encrypted.scheme === 'x25519-xsalsa20-poly1305') {
      if (!wallet.decrypt) throw new WalletUnsupportedError({ capability: 'eth_decrypt' })
      plaintext = await wallet.decrypt(encrypted.encrypted)
    } else {
      const key = await signatureKey(backend, wallet, encrypted.salt)
      const bytes = await backend.aesGcmDecrypt(
        key,
        fromBase64Url(encrypted.nonce),
        fromBase64Url(encrypted.ciphertext),
        wrapAad(wallet.address),
      )
      plaintext = bytesToUtf8(bytes)
    }
    return await dmtpKeysFromSecrets(backend, decodeSecretKeys(plaintext))
  } catch (cause) {
    if (cause instanceof WalletUnsupportedError) throw cause
    throw new KeyUnlockFailedError({ scheme: encrypted.scheme, cause })
  }
}

async function signatureKey(backend: CryptoBackend, wallet: KeyWrapWallet, salt: string): Promise<Uint8Array> {
  const signature = await wallet.signMessage(keyUnlockMessage({ address: wallet.address, salt }))
  return backend.hkdfSha256(
    hexToBytes(signature),
    fromBase64Url(salt),
    utf8ToBytes(`dmtp/v1/key-wrap\n${wallet.address.toLowerCase()}`),
    32,
  )
}

function wrapAad(address: string): Uint8Array {
  return utf8ToBytes(`dmtp/v1/keys\n${address.toLowerCase()}`)
}

export type WalletUnsupportedErrorType = WalletUnsupportedError & { name: 'WalletUnsupportedError' }

export class WalletUnsupportedError extends BaseError {
  override name = 'WalletUnsupportedError'
  constructor({ capability }: { capability: string }) {
    super(`This wallet does not support ${capability}.`, {
      metaMessages: ['Use a wallet that supports it, or set up with the signature scheme (eip191-hkdf-aes256gcm).'],
    })
  }
}

export type KeyUnlockFailedErrorType = KeyUnlockFailedError & { name: 'KeyUnlockFailedError' }

export class KeyUnlockFailedError extends BaseError {
  override name = 'KeyUnlockFailedError'
  constructor({ scheme, cause }: { scheme: WalletScheme; cause?: unknown }) {
    super('Could not unlock the DMTP keys with this wallet.', {
      cause,
      metaMessages: [
        `Scheme: ${scheme}`,
        scheme === 'eip191-hkdf-aes256gcm'
          ? 'The wallet must be the one that set up these keys, and must sign deterministically.'
          : 'The wallet must be the one that set up these keys.',
      ],
    })
  }
}
