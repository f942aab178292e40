/** Writes of block tombstones. */
import { BlockReader } from './reader.js'

export class BlockTransactor extends BlockReader {
  /** Records that the blocks of `cids` are gone from the block store (the tombstones stay). */
  async markDeleted(cids: string[], at: string): Promise<void> {
    await this.db.updateTable('block_deletions').set({ done_at: at }).where('cid', 'in', cids).execute()
  }
}
