/**
 * Adapter for EIP-1193 providers (https://eips.ethereum.org/EIPS/eip-1193). Uses `personal_sign`,
 * and `eth_getEncryptionPublicKey` / `eth_decrypt` when the wallet implements them; a wallet that
 * answers "method not supported" falls back to the signature-derived key scheme.
 */
import { bytesToHex, type EthEncryptedData, utf8ToBytes } from '@dmtp/protocol'
import { getAddress } from 'viem/utils'
import type { DmtpWallet, Eip1193Provider } from './types.js'

const UNSUPPORTED_CODES = new Set([4200, -32601, -32004])

/**
 * @param address - the account to use; defaults to the first from `eth_requestAccounts`.
 * @example
 * import { fromEip1193 } from '@dmtp/sdk'
 * const wallet = await fromEip1193(window.ethereum)
 */
export async function fromEip1193(provider: Eip1193Provider, address?: string): Promise<DmtpWallet> {
  const account = getAddress(address ?? ((await provider.request({ method: 'eth_requestAccounts' })) as string[])[0] ?? '')
  let encryptionKey: Promise<string | undefined> | undefined
  const probeEncryptionKey = () => {
    encryptionKey ??= (provider.request({ method: 'eth_getEncryptionPublicKey', params: [account] }) as Promise<string>).catch(
      (error: { code?: number }) => {
        if (UNSUPPORTED_CODES.has(error?.code as number)) return undefined
        throw error
      },
    )
    return encryptionKey
  }
  return {
    address: account,
    signMessage: async (message) =>
      (await provider.request({
        method: 'personal_sign',
        params: [`0x${bytesToHex(utf8ToBytes(message))}`, account],
      })) as `0x${string}`,
    getEncryptionPublicKey: async () => {
      const key = await probeEncryptionKey()
      if (!key) throw Object.assign(new Error('eth_getEncryptionPublicKey is not supported'), { code: 4200 })
      return key
    },
    decrypt: async (data: EthEncryptedData) =>
      (await provider.request({
        method: 'eth_decrypt',
        params: [`0x${bytesToHex(utf8ToBytes(JSON.stringify(data)))}`, account],
      })) as string,
    supportsEncryption: async () => (await probeEncryptionKey()) !== undefined,
  }
}
