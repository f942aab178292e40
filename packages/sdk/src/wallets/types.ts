/**
 * What the SDK needs from a wallet: its address and EIP-191 `personal_sign`; optionally the
 * `eth_getEncryptionPublicKey` / `eth_decrypt` pair. Adapters turn viem accounts and EIP-1193
 * providers into this shape.
 */
import type { EthEncryptedData } from '@dmtp/protocol'

export type DmtpWallet = {
  address: `0x${string}`
  signMessage(message: string): Promise<`0x${string}`>
  getEncryptionPublicKey?: (() => Promise<string>) | undefined
  decrypt?: ((data: EthEncryptedData) => Promise<string>) | undefined
  /** Whether the two methods above really work (a provider may list them and refuse). */
  supportsEncryption?: (() => Promise<boolean>) | undefined
}

/** Minimal EIP-1193 provider (window.ethereum, WalletConnect, viem's custom transport…). */
export type Eip1193Provider = {
  request(args: { method: string; params?: unknown[] | Record<string, unknown> }): Promise<unknown>
}

/** A viem LocalAccount or anything with its `signMessage` shape. */
export type ViemAccountLike = {
  type: 'local'
  address: `0x${string}`
  signMessage(args: { message: string }): Promise<`0x${string}`>
}

export type WalletInput = DmtpWallet | Eip1193Provider | ViemAccountLike
