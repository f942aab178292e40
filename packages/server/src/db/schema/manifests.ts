/**
 * Sync manifests and their anchoring state: `built` (stored, not yet sent), `sending` (a
 * transaction with `tx_nonce` may be in flight), `anchored` (on chain at `chain_index`).
 */
export interface ManifestsTable {
  seq: number
  cid: string
  prev_cid: string | null
  created_at: string
  cid_count: number
  bytes: number
  status: 'built' | 'sending' | 'anchored'
  tx_hash: string | null
  tx_nonce: number | null
  /** A decimal string: block numbers can exceed 2^53 on some chains. */
  block_number: string | null
  chain_index: number | null
  anchored_at: string | null
  /** The manifest's lower time bound: the chain's newest block when it was claimed (decimal, hash). */
  after_block_number: string | null
  after_block_hash: string | null
}
export const tableName = 'manifests'
export type PartialDB = { [tableName]: ManifestsTable }
