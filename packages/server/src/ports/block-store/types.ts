/**
 * The block store (IPFS): content-addressed blocks, each a DAG-JSON record addressed by its CIDv1
 * (sha2-256). Callers pass the CID they computed; an adapter that can (Kubo) checks it agrees.
 * Every operation is idempotent: putting a block twice, or deleting one that is gone, is fine.
 */
export type Block = { cid: string; bytes: Uint8Array }

export interface BlockStore {
  put(blocks: Block[]): Promise<void>
  get(cid: string): Promise<Uint8Array | undefined>
  has(cid: string): Promise<boolean>
  delete(cids: string[]): Promise<void>
  destroy(): Promise<void>
}
