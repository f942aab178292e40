/**
 * The chain port: the DMTPRegistry contract on an EVM chain. Writes are split into "send" and
 * "wait" so the anchoring service can record a transaction's nonce and hash between the two and
 * recover after a crash without anchoring anything twice.
 */
export type Hex = `0x${string}`

export type AnchorLocation = { index: number; txHash: Hex; blockNumber: bigint }

export type ChainInfo = { chainId: number; rpcUrl: string; registry: Hex; operator: Hex }

export interface ChainClient {
  readonly info: ChainInfo
  /** The operator's next nonce, counting transactions still pending. */
  nextNonce(): Promise<number>
  /** The operator's next nonce counting only mined transactions. */
  minedNonce(): Promise<number>
  /** Sends `storeCID(cid)` with this nonce; resolves with the hash once the node accepted it. */
  sendStoreCid(cid: string, nonce: number): Promise<Hex>
  /** Sends `addKeys(users, cids)` with this nonce. */
  sendAddKeys(entries: { address: string; cid: string }[], nonce: number): Promise<Hex>
  /** The receipt, or null when the node does not know the transaction (yet). */
  receipt(txHash: Hex): Promise<{ blockNumber: bigint; success: boolean } | null>
  waitForReceipt(txHash: Hex, timeoutMs?: number): Promise<{ blockNumber: bigint; success: boolean }>
  /** Where `cid` sits in the registry's list, searching from `fromIndex`; undefined if absent. */
  findAnchor(cid: string, fromIndex: number): Promise<AnchorLocation | undefined>
  anchorCount(): Promise<number>
  anchors(start: number, count: number): Promise<string[]>
  keyOf(address: string): Promise<string>
  /** The newest block: a manifest names it as its lower time bound. */
  latestBlock(): Promise<{ number: bigint; hash: Hex }>
  destroy(): Promise<void>
}
