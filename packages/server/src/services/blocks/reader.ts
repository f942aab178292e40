/** Queries of blocks the database holds and of block tombstones (no writes: `transactor.ts` adds those). */
import type { Db } from '../../db/database.js'

/** CIDs per `in (…)` list: well under every dialect's limit on bound parameters. */
const CIDS_PER_QUERY = 500

export class BlockReader {
  constructor(readonly db: Db) {}

  /**
   * The text of a block the database holds under `cid`: an envelope (`messages`, kept until it is
   * pruned) or a key bundle (`key_bundles`). One round trip; CIDs are unique in each table.
   */
  async findBlockText(cid: string): Promise<string | undefined> {
    const row = await this.db
      .selectFrom('messages')
      .select('envelope as text')
      .where('cid', '=', cid)
      .unionAll(this.db.selectFrom('key_bundles').select('bundle as text').where('cid', '=', cid))
      .executeTakeFirst()
    return row?.text
  }

  /** Up to `limit` tombstoned blocks not deleted from the block store yet. */
  listUndeleted(limit: number) {
    return this.db.selectFrom('block_deletions').select('cid').where('done_at', 'is', null).limit(limit).execute()
  }

  /** Which of `cids` are tombstoned (deleted or not yet). */
  async findTombstoned(cids: string[]): Promise<Set<string>> {
    const tombstoned = new Set<string>()
    for (let i = 0; i < cids.length; i += CIDS_PER_QUERY) {
      const rows = await this.db
        .selectFrom('block_deletions')
        .select('cid')
        .where('cid', 'in', cids.slice(i, i + CIDS_PER_QUERY))
        .execute()
      for (const row of rows) tombstoned.add(row.cid)
    }
    return tombstoned
  }
}
