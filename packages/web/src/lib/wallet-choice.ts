/**
 * Which wallet this browser uses, remembered across reloads: the built-in local wallet or an
 * injected EIP-1193 provider (https://eips.ethereum.org/EIPS/eip-1193), such as MetaMask's
 * `window.ethereum`.
 */
import type { Eip1193Provider } from '@dmtp/sdk'

export type WalletChoice = { kind: 'local' } | { kind: 'injected' }

const KEY = 'dmtp:web:wallet'

export function readWalletChoice(): WalletChoice | null {
  const value = localStorage.getItem(KEY)
  return value === 'local' || value === 'injected' ? { kind: value } : null
}

export function saveWalletChoice(choice: WalletChoice | null): void {
  if (choice) localStorage.setItem(KEY, choice.kind)
  else localStorage.removeItem(KEY)
}

/** The injected provider, if the browser has one. */
export function injectedProvider(): Eip1193Provider | undefined {
  const ethereum = (globalThis as { ethereum?: Eip1193Provider }).ethereum
  return ethereum && typeof ethereum.request === 'function' ? ethereum : undefined
}
