/**
 * "Encrypt to a wallet": the x25519-xsalsa20-poly1305 scheme of `eth_getEncryptionPublicKey` /
 * `eth_decrypt` (EIP-1098 draft, MetaMask). A NaCl box from a fresh ephemeral key to the wallet's
 * encryption key; the wallet alone can open it. Built on tweetnacl, the library MetaMask's own
 * implementation uses, so ciphertexts are byte-compatible (checked by the published vector).
 */
import nacl from 'tweetnacl'
import { bytesToUtf8, fromBase64, hexToBytes, toBase64, utf8ToBytes } from '../encoding/bytes.js'
import { DecryptionFailedError } from '../errors.js'

export const WALLET_BOX_VERSION = 'x25519-xsalsa20-poly1305'

/** The exact JSON shape `eth_decrypt` takes (hex-encoded) and MetaMask produces. */
export type EthEncryptedData = {
  version: typeof WALLET_BOX_VERSION
  nonce: string
  ephemPublicKey: string
  ciphertext: string
}

/**
 * The wallet's encryption public key, as `eth_getEncryptionPublicKey` returns it (base64), computed
 * from an Ethereum private key: the key's bytes used as an X25519 secret key.
 */
export function getEncryptionPublicKey(privateKey: string): string {
  return toBase64(nacl.box.keyPair.fromSecretKey(hexToBytes(privateKey)).publicKey)
}

export type EncryptToWalletParameters = {
  /** Base64 encryption public key from `eth_getEncryptionPublicKey`. */
  publicKey: string
  data: string
  randomBytes: (length: number) => Uint8Array
}

/** Encrypts a string so that only `eth_decrypt` in the wallet that owns `publicKey` can read it. */
export function encryptToWallet({ publicKey, data, randomBytes }: EncryptToWalletParameters): EthEncryptedData {
  const ephemeral = nacl.box.keyPair.fromSecretKey(randomBytes(32))
  const nonce = randomBytes(nacl.box.nonceLength)
  const ciphertext = nacl.box(utf8ToBytes(data), nonce, fromBase64(publicKey), ephemeral.secretKey)
  return {
    version: WALLET_BOX_VERSION,
    nonce: toBase64(nonce),
    ephemPublicKey: toBase64(ephemeral.publicKey),
    ciphertext: toBase64(ciphertext),
  }
}

/**
 * What `eth_decrypt` does inside a wallet, for wallets DMTP holds itself (the CLI's key file, the
 * web app's local wallet, tests).
 * @throws {DecryptionFailedError} on a wrong key or altered data.
 */
export function decryptWithWalletKey({
  encryptedData,
  privateKey,
}: {
  encryptedData: EthEncryptedData
  privateKey: string
}): string {
  if (encryptedData.version !== WALLET_BOX_VERSION) {
    throw new DecryptionFailedError({ what: `wallet box of version ${String(encryptedData.version)}` })
  }
  const opened = nacl.box.open(
    fromBase64(encryptedData.ciphertext),
    fromBase64(encryptedData.nonce),
    fromBase64(encryptedData.ephemPublicKey),
    hexToBytes(privateKey),
  )
  if (!opened) throw new DecryptionFailedError({ what: 'wallet box' })
  return bytesToUtf8(opened)
}
