/**
 * The registry on any EVM JSON-RPC node through viem: Polygon, Amoy, or the embedded anvil (which
 * uses this same class). Local nodes get `retryCount: 0` (each retry of an unsupported call costs
 * a second against anvil); remote ones retry transient failures.
 */
import { dmtpRegistryAbi, dmtpRegistryBytecode } from '@dmtp/contracts'
import {
  type Account,
  type Chain,
  createPublicClient,
  createWalletClient,
  defineChain,
  getAddress,
  http,
  type PublicClient,
  type Transport,
  type WalletClient,
} from 'viem'
import type { AnchorLocation, ChainClient, ChainInfo, Hex } from './types.js'

export type EvmChainParameters = {
  url: string
  publicRpcUrl?: string | undefined
  chainId: number
  account: Account
  /** The registry; when absent it is deployed and `onDeployed` is told where. */
  registry?: Hex | undefined
  onDeployed?: ((address: Hex) => Promise<void>) | undefined
  local: boolean
}

const PAGE = 200

export class EvmChain implements ChainClient {
  private constructor(
    readonly info: ChainInfo,
    private readonly publicClient: PublicClient<Transport, Chain>,
    private readonly walletClient: WalletClient<Transport, Chain, Account>,
    private readonly stop: () => Promise<void>,
  ) {}

  static async create(parameters: EvmChainParameters, stop: () => Promise<void> = async () => {}): Promise<EvmChain> {
    const chain = defineChain({
      id: parameters.chainId,
      name: `chain ${parameters.chainId}`,
      nativeCurrency: { name: 'Ether', symbol: 'ETH', decimals: 18 },
      rpcUrls: { default: { http: [parameters.url] } },
    })
    const transport = http(parameters.url, parameters.local ? { retryCount: 0 } : { retryCount: 3, retryDelay: 500 })
    const publicClient = createPublicClient({ chain, transport, pollingInterval: parameters.local ? 50 : 2_000 })
    const walletClient = createWalletClient({ chain, transport, account: parameters.account })
    const remoteChainId = await publicClient.getChainId()
    if (remoteChainId !== parameters.chainId) {
      throw new Error(`The node at ${parameters.url} is chain ${remoteChainId}, not the configured ${parameters.chainId}`)
    }
    let registry = parameters.registry
    if (registry && (await publicClient.getCode({ address: registry })) === undefined) {
      if (!parameters.onDeployed) throw new Error(`No DMTPRegistry contract at ${registry} on chain ${parameters.chainId}`)
      registry = undefined
    }
    if (!registry) {
      const hash = await walletClient.deployContract({ abi: dmtpRegistryAbi, bytecode: dmtpRegistryBytecode })
      const receipt = await publicClient.waitForTransactionReceipt({ hash })
      if (!receipt.contractAddress) throw new Error('DMTPRegistry deployment produced no contract')
      registry = getAddress(receipt.contractAddress)
      await parameters.onDeployed?.(registry)
    }
    const owner = await publicClient.readContract({ address: registry, abi: dmtpRegistryAbi, functionName: 'owner' })
    if (owner !== parameters.account.address) {
      throw new Error(`The operator key (${parameters.account.address}) does not own the registry (owner ${owner})`)
    }
    const info = {
      chainId: parameters.chainId,
      rpcUrl: parameters.publicRpcUrl ?? parameters.url,
      registry,
      operator: parameters.account.address,
    }
    return new EvmChain(info, publicClient, walletClient, stop)
  }

  nextNonce(): Promise<number> {
    return this.publicClient.getTransactionCount({ address: this.info.operator, blockTag: 'pending' })
  }

  minedNonce(): Promise<number> {
    return this.publicClient.getTransactionCount({ address: this.info.operator, blockTag: 'latest' })
  }

  sendStoreCid(cid: string, nonce: number): Promise<Hex> {
    return this.walletClient.writeContract({
      address: this.info.registry,
      abi: dmtpRegistryAbi,
      functionName: 'storeCID',
      args: [cid],
      nonce,
    })
  }

  sendAddKeys(entries: { address: string; cid: string }[], nonce: number): Promise<Hex> {
    return this.walletClient.writeContract({
      address: this.info.registry,
      abi: dmtpRegistryAbi,
      functionName: 'addKeys',
      args: [entries.map((entry) => entry.address as Hex), entries.map((entry) => entry.cid)],
      nonce,
    })
  }

  async receipt(txHash: Hex) {
    try {
      const receipt = await this.publicClient.getTransactionReceipt({ hash: txHash })
      return { blockNumber: receipt.blockNumber, success: receipt.status === 'success' }
    } catch {
      return null
    }
  }

  async waitForReceipt(txHash: Hex, timeoutMs = 120_000) {
    const receipt = await this.publicClient.waitForTransactionReceipt({ hash: txHash, timeout: timeoutMs })
    return { blockNumber: receipt.blockNumber, success: receipt.status === 'success' }
  }

  async findAnchor(cid: string, fromIndex: number): Promise<AnchorLocation | undefined> {
    const count = await this.anchorCount()
    for (let start = Math.max(0, fromIndex); start < count; start += PAGE) {
      const page = await this.anchors(start, PAGE)
      const offset = page.indexOf(cid)
      if (offset < 0) continue
      const index = start + offset
      const [log] = await this.publicClient.getContractEvents({
        address: this.info.registry,
        abi: dmtpRegistryAbi,
        eventName: 'CIDStored',
        args: { index: BigInt(index) },
        fromBlock: 0n,
      })
      if (!log?.transactionHash || log.blockNumber === null) return undefined
      return { index, txHash: log.transactionHash, blockNumber: log.blockNumber }
    }
    return undefined
  }

  async anchorCount(): Promise<number> {
    return Number(
      await this.publicClient.readContract({ address: this.info.registry, abi: dmtpRegistryAbi, functionName: 'cidCount' }),
    )
  }

  async anchors(start: number, count: number): Promise<string[]> {
    return [
      ...(await this.publicClient.readContract({
        address: this.info.registry,
        abi: dmtpRegistryAbi,
        functionName: 'getCIDs',
        args: [BigInt(start), BigInt(count)],
      })),
    ]
  }

  keyOf(address: string): Promise<string> {
    return this.publicClient.readContract({
      address: this.info.registry,
      abi: dmtpRegistryAbi,
      functionName: 'getKey',
      args: [address as Hex],
    })
  }

  async latestBlock(): Promise<{ number: bigint; hash: Hex }> {
    const block = await this.publicClient.getBlock({ blockTag: 'latest' })
    return { number: block.number, hash: block.hash }
  }

  destroy(): Promise<void> {
    return this.stop()
  }
}
