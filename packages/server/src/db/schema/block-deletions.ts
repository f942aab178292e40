/**
 * Tombstones of blocks that must never be in the block store again (server-readable copies of
 * relayed messages). `done_at` is set once deleted; the row stays so no later write brings it back.
 */
export interface BlockDeletionsTable {
  cid: string
  created_at: string
  done_at: string | null
}
export const tableName = 'block_deletions'
export type PartialDB = { [tableName]: BlockDeletionsTable }
