/**
 * The built-in local wallet, for trying DMTP without a browser extension: a fresh secp256k1 key,
 * kept in this browser's localStorage. Anyone with access to this browser profile has the key, so
 * the app labels it plainly as a test wallet.
 */
import { type DmtpWallet, privateKeyWallet } from '@dmtp/sdk'
import { generatePrivateKey } from 'viem/accounts'

const KEY = 'dmtp:web:local-wallet-key'

/** The local wallet, created on first use. */
export function localWallet(): DmtpWallet {
  let key = localStorage.getItem(KEY)
  if (!key) {
    key = generatePrivateKey()
    localStorage.setItem(KEY, key)
  }
  return privateKeyWallet(key)
}

/** The local wallet's address without creating one, or null. */
export function localWalletAddress(): string | null {
  const key = localStorage.getItem(KEY)
  return key ? privateKeyWallet(key).address : null
}

/** Deletes the key from this browser: messages to that address can no longer be read here. */
export function forgetLocalWallet(): void {
  localStorage.removeItem(KEY)
}
