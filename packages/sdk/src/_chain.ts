/**
 * Reading the DMTPRegistry: the list of anchored manifest CIDs and each wallet's key CID. The chain
 * to read comes from the caller (an RPC and registry the user trusts) or, by default, from the
 * server's `/v1/info`; the latter is convenient, but a server that lies about everything could
 * also point to a chain of its own: real deployments publish their registry address.
 * @internal
 */
import { dmtpRegistryAbi } from '@dmtp/contracts'
import { ApiError } from '@dmtp/protocol'
import { serverInfo } from './_session.js'
import type { DmtpClientBase } from './client.js'

export type ChainTarget = { rpcUrl: string; registry: `0x${string}` }

export type RegistryReader = {
  target: ChainTarget
  anchorCount(): Promise<number>
  anchors(start: number, count: number): Promise<string[]>
  keyOf(address: string): Promise<string>
  /** The registry's owner: the operator, whose wallet must sign the server's key. */
  owner(): Promise<string>
}

const readers = new WeakMap<DmtpClientBase, Promise<RegistryReader | undefined>>()

/** The registry to check against, or undefined when the server does not anchor. */
export function registryReader(client: DmtpClientBase, override?: ChainTarget): Promise<RegistryReader | undefined> {
  if (override) return Promise.resolve(createReader(override))
  let reader = readers.get(client)
  if (!reader) {
    reader = serverInfo(client).then((info) =>
      info.chain ? createReader({ rpcUrl: info.chain.rpcUrl, registry: info.chain.registry as `0x${string}` }) : undefined,
    )
    readers.set(client, reader)
  }
  return reader
}

function createReader(target: ChainTarget): RegistryReader {
  // @NOTE Imported on first use: viem's public client is the largest part of the SDK in a browser
  // bundle (the web app's initial JavaScript), and only chain checks need it.
  const publicClient = import('viem').then(({ createPublicClient, http }) =>
    createPublicClient({ transport: http(target.rpcUrl, { retryCount: 1, timeout: 10_000 }) }),
  )
  const read = async <T>(functionName: string, args: unknown[] = []): Promise<T> => {
    try {
      const chain = await publicClient
      return (await chain.readContract({
        address: target.registry,
        abi: dmtpRegistryAbi,
        functionName,
        args,
      } as never)) as T
    } catch (cause) {
      throw new ApiError({
        code: 'unavailable',
        message: `Cannot read the DMTP registry at ${target.registry} through ${target.rpcUrl}.`,
        cause,
      })
    }
  }
  return {
    target,
    anchorCount: async () => Number(await read<bigint>('cidCount')),
    anchors: async (start, count) => [...(await read<readonly string[]>('getCIDs', [BigInt(start), BigInt(count)]))],
    keyOf: (address) => read<string>('getKey', [address]),
    owner: () => read<string>('owner'),
  }
}
