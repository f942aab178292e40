/**
 * Reading the DMTPRegistry: the list of anchored manifest CIDs (and the blocks that anchored them),
 * each wallet's key CID, and its owner. The registry address and chain id are the pinned ones
 * (`_chain-pin.ts`: configured, or trusted on the server's first `/v1/info`); the RPC is one the
 * user chose (`createClient({ chain: { rpcUrl } })`, or per call) or else the one the server names.
 * Whichever it is, the chain id it serves must be the pinned one before anything is read from it.
 * An RPC the operator runs can still lie about the registry's state: `source` says whose it is.
 * @internal
 */
import { dmtpRegistryAbi } from '@dmtp/contracts'
import { ApiError } from '@dmtp/protocol'
import { pinnedChain } from './_chain-pin.js'
import { serverInfo } from './_session.js'
import type { DmtpClientBase } from './client.js'
import { ChainMismatchError } from './errors.js'

export type ChainTarget = { rpcUrl: string; registry: `0x${string}` }

/**
 * The chain a deployment publishes: its id and registry address, and optionally an RPC the user
 * trusts (a node of their own or a provider they chose) to read it through.
 */
export type ChainConfig = { id: number; registry: `0x${string}`; rpcUrl?: string | undefined }

/** What one call may choose: the RPC to read through, and optionally another registry. */
export type ChainOverride = { rpcUrl: string; registry?: `0x${string}` | undefined }

export type ChainBlock = { number: bigint; hash: `0x${string}`; timestamp: number }

export type RegistryReader = {
  target: ChainTarget
  /** Whose RPC this reads through: one the user chose, or the one the operator's `/v1/info` names. */
  source: 'user' | 'operator'
  /** The chain id the RPC must serve (the pinned one). */
  chainId: number | undefined
  anchorCount(): Promise<number>
  anchors(start: number, count: number): Promise<string[]>
  keyOf(address: string): Promise<string>
  /** The registry's owner: the operator, whose wallet must sign the server's key. */
  owner(): Promise<string>
  /** The block of each anchor's `CIDStored` event, by anchor index. */
  anchorBlocks(): Promise<Map<number, bigint>>
  /** A block by number, or undefined when this chain has none. */
  block(number: bigint): Promise<ChainBlock | undefined>
}

const readers = new WeakMap<DmtpClientBase, Promise<RegistryReader | undefined>>()

/**
 * The registry to check against, or undefined when the server does not anchor (and no chain was
 * given). Reading `/v1/info` first checks the chain pin, so a server naming another chain is
 * refused here too.
 * @throws {ChainChangedError} when `/v1/info` names another chain than the pin.
 */
export function registryReader(client: DmtpClientBase, override?: ChainOverride): Promise<RegistryReader | undefined> {
  if (override) return overrideReader(client, override)
  let reader = readers.get(client)
  if (!reader) {
    reader = defaultReader(client)
    readers.set(client, reader)
  }
  return reader
}

/** Drops the cached reader (after a re-pin). */
export function forgetRegistryReader(client: DmtpClientBase): void {
  readers.delete(client)
}

async function defaultReader(client: DmtpClientBase): Promise<RegistryReader | undefined> {
  const info = await serverInfo(client)
  if (!info.chain) return undefined
  const pinned = await pinnedChain(client)
  const rpcUrl = client.chain?.rpcUrl ?? info.chain.rpcUrl
  return createReader(
    { rpcUrl, registry: pinned?.pin.registry ?? (info.chain.registry as `0x${string}`) },
    { chainId: pinned?.pin.chainId ?? info.chain.chainId, source: rpcUrl === info.chain.rpcUrl ? 'operator' : 'user' },
  )
}

async function overrideReader(client: DmtpClientBase, override: ChainOverride): Promise<RegistryReader | undefined> {
  const info = await serverInfo(client)
  const pinned = await pinnedChain(client)
  const registry = override.registry ?? pinned?.pin.registry ?? (info.chain?.registry as `0x${string}` | undefined)
  if (!registry) return undefined
  return createReader(
    { rpcUrl: override.rpcUrl, registry },
    {
      chainId: pinned?.pin.chainId ?? info.chain?.chainId,
      source: override.rpcUrl === info.chain?.rpcUrl ? 'operator' : 'user',
    },
  )
}

function createReader(
  target: ChainTarget,
  { chainId, source }: { chainId: number | undefined; source: 'user' | 'operator' },
): RegistryReader {
  // @NOTE Imported on first use: viem's public client is the largest part of the SDK in a browser
  // bundle (the web app's initial JavaScript), and only chain checks need it.
  const publicClient = import('viem').then(({ createPublicClient, http }) =>
    createPublicClient({ transport: http(target.rpcUrl, { retryCount: 1, timeout: 10_000 }) }),
  )
  const unavailable = (cause: unknown) =>
    new ApiError({
      code: 'unavailable',
      message: `Cannot read the DMTP registry at ${target.registry} through ${target.rpcUrl}.`,
      cause,
    })
  let checked: Promise<void> | undefined
  const ready = async () => {
    checked ??= (async () => {
      let actual: number
      try {
        actual = await (await publicClient).getChainId()
      } catch (cause) {
        checked = undefined
        throw unavailable(cause)
      }
      if (chainId !== undefined && actual !== chainId) {
        throw new ChainMismatchError({ rpcUrl: target.rpcUrl, expected: chainId, actual })
      }
    })()
    await checked
    return publicClient
  }
  const read = async <T>(functionName: string, args: unknown[] = []): Promise<T> => {
    const chain = await ready()
    try {
      return (await chain.readContract({
        address: target.registry,
        abi: dmtpRegistryAbi,
        functionName,
        args,
      } as never)) as T
    } catch (cause) {
      throw unavailable(cause)
    }
  }
  return {
    target,
    source,
    chainId,
    anchorCount: async () => Number(await read<bigint>('cidCount')),
    anchors: async (start, count) => [...(await read<readonly string[]>('getCIDs', [BigInt(start), BigInt(count)]))],
    keyOf: (address) => read<string>('getKey', [address]),
    owner: () => read<string>('owner'),
    async anchorBlocks() {
      const chain = await ready()
      try {
        const logs = await chain.getContractEvents({
          address: target.registry,
          abi: dmtpRegistryAbi,
          eventName: 'CIDStored',
          fromBlock: 0n,
        })
        const blocks = new Map<number, bigint>()
        for (const log of logs) {
          const index = (log.args as { index?: bigint }).index
          if (index !== undefined && log.blockNumber !== null) blocks.set(Number(index), log.blockNumber)
        }
        return blocks
      } catch (cause) {
        throw unavailable(cause)
      }
    },
    async block(number) {
      const chain = await ready()
      try {
        const block = await chain.getBlock({ blockNumber: number })
        return { number: block.number, hash: block.hash, timestamp: Number(block.timestamp) }
      } catch (cause) {
        if ((cause as Error).name === 'BlockNotFoundError') return undefined
        throw unavailable(cause)
      }
    },
  }
}
