/**
 * The chain a client trusts for a server, pinned: the chain id and registry address come from the
 * client's configuration (`createClient({ chain })`) or, trusted on first use, from the first
 * `/v1/info` of that server, kept in the client's storage under its URL. Every later `/v1/info`
 * must name the same chain, or it is refused before anything is signed, encrypted or believed: a
 * server that names another chain could show keys and anchors of a registry it deployed itself.
 * @internal
 */
import type { ServerInfo } from '@dmtp/protocol'
import type { DmtpClientBase } from './client.js'
import { ChainChangedError } from './errors.js'

/** The chain of a server, as pinned: what its registry checks are read from. */
export type ChainPin = { chainId: number; registry: `0x${string}` }

/** Where the pin is kept, per server URL. */
export function chainPinKey(client: DmtpClientBase): string {
  return `dmtp:chain:${client.server}`
}

/** The pin that applies: the configured chain, else the stored one; undefined before first use. */
export async function pinnedChain(
  client: DmtpClientBase,
): Promise<{ pin: ChainPin; source: 'configured' | 'pinned' } | undefined> {
  if (client.chain) return { pin: { chainId: client.chain.id, registry: client.chain.registry }, source: 'configured' }
  const stored = await client.storage.get(chainPinKey(client))
  if (stored === null) return undefined
  const pin = parsePin(stored)
  // A damaged pin is not "no pin": pinning again would trust whatever answers now.
  if (!pin) throw new ChainChangedError({ server: client.server, pinned: undefined, named: undefined, source: 'pinned' })
  return { pin, source: 'pinned' }
}

/**
 * Checks `/v1/info` against the pin, and pins its chain on first use.
 * @throws {ChainChangedError} when it names another chain id or registry, or none, than the pin.
 */
export async function checkChainPin(client: DmtpClientBase, info: ServerInfo): Promise<void> {
  const named: ChainPin | null = info.chain
    ? { chainId: info.chain.chainId, registry: info.chain.registry as `0x${string}` }
    : null
  const current = await pinnedChain(client)
  if (!current) {
    if (named) await client.storage.set(chainPinKey(client), JSON.stringify(named))
    return
  }
  if (named && sameChain(named, current.pin)) return
  throw new ChainChangedError({ server: client.server, pinned: current.pin, named, source: current.source })
}

/** Forgets the stored pin (the configured chain, if any, still applies). */
export async function forgetChainPin(client: DmtpClientBase): Promise<void> {
  await client.storage.remove(chainPinKey(client))
}

export function sameChain(a: ChainPin, b: ChainPin): boolean {
  return a.chainId === b.chainId && a.registry.toLowerCase() === b.registry.toLowerCase()
}

function parsePin(text: string): ChainPin | undefined {
  try {
    const value = JSON.parse(text) as Partial<ChainPin> | null
    if (
      Number.isSafeInteger(value?.chainId) &&
      (value?.chainId ?? 0) > 0 &&
      typeof value?.registry === 'string' &&
      /^0x[0-9a-fA-F]{40}$/.test(value.registry)
    ) {
      return { chainId: value.chainId as number, registry: value.registry as `0x${string}` }
    }
  } catch {}
  return undefined
}
