/**
 * A wallet held by DMTP itself from a raw private key: the CLI's key file, the web app's local
 * wallet, tests. It implements both key-wrapping schemes, like MetaMask does.
 */
import { decryptWithWalletKey, getEncryptionPublicKey } from '@dmtp/protocol'
import { privateKeyToAccount } from 'viem/accounts'
import type { DmtpWallet } from './types.js'

/**
 * @param privateKey - 32-byte hex secp256k1 key, with or without 0x.
 * @example
 * import { privateKeyWallet } from '@dmtp/sdk'
 * const wallet = privateKeyWallet(process.env.DMTP_WALLET_KEY!)
 */
export function privateKeyWallet(privateKey: string): DmtpWallet {
  const hex = (privateKey.startsWith('0x') ? privateKey : `0x${privateKey}`) as `0x${string}`
  if (!/^0x[0-9a-fA-F]{64}$/.test(hex)) throw new TypeError('"privateKey" expected 32 bytes of hex')
  const account = privateKeyToAccount(hex)
  return {
    address: account.address,
    signMessage: (message) => account.signMessage({ message }),
    getEncryptionPublicKey: async () => getEncryptionPublicKey(hex),
    decrypt: async (encryptedData) => decryptWithWalletKey({ encryptedData, privateKey: hex }),
  }
}
