/** Turns whatever the app passed as `wallet` into a {@link DmtpWallet}. */
import { getAddress } from 'viem/utils'
import { fromEip1193 } from './from-eip1193.js'
import type { DmtpWallet, Eip1193Provider, ViemAccountLike, WalletInput } from './types.js'

/**
 * @param input - a viem LocalAccount, an EIP-1193 provider, or a {@link DmtpWallet}.
 * @example
 * import { resolveWallet } from '@dmtp/sdk'
 * const wallet = await resolveWallet(privateKeyToAccount(key))
 */
export async function resolveWallet(input: WalletInput): Promise<DmtpWallet> {
  if ((input as ViemAccountLike).type === 'local') {
    const account = input as ViemAccountLike
    return { address: getAddress(account.address), signMessage: (message) => account.signMessage({ message }) }
  }
  if (typeof (input as Eip1193Provider).request === 'function') return fromEip1193(input as Eip1193Provider)
  const wallet = input as DmtpWallet
  if (typeof wallet.signMessage !== 'function' || typeof wallet.address !== 'string') {
    throw new TypeError('"wallet" expected a viem LocalAccount, an EIP-1193 provider or { address, signMessage }')
  }
  return { ...wallet, address: getAddress(wallet.address) }
}

/** True when the wallet can do `eth_getEncryptionPublicKey` + `eth_decrypt`. */
export async function supportsWalletEncryption(wallet: DmtpWallet): Promise<boolean> {
  if (!wallet.getEncryptionPublicKey || !wallet.decrypt) return false
  return wallet.supportsEncryption ? wallet.supportsEncryption() : true
}
