/** Every key bundle a wallet ever registered; the current one has `replaced_at` null. */
export interface KeyBundlesTable {
  cid: string
  address: string
  /** The bundle record as canonical DAG-JSON text. */
  bundle: string
  issued_at: string
  created_at: string
  replaced_at: string | null
  /** The `addKeys` transaction that put this CID on chain, and when it was mined. */
  anchor_tx: string | null
  anchored_at: string | null
}
export const tableName = 'key_bundles'
export type PartialDB = { [tableName]: KeyBundlesTable }
