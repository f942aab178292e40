/**
 * Deletes tombstoned blocks from the block store: server-readable copies of relayed messages
 * once migrated (pattern β), and the content of recalled public messages. Tombstones are rows
 * written with the change that makes a block unwanted, so a crash only delays the deletion.
 */
import type { Database } from '../../db/database.js'
import type { Clock } from '../../identity.js'
import type { Logger } from '../../logger.js'
import type { BlockStore } from '../../ports/block-store/types.js'
import { BlockTransactor } from './transactor.js'

export class BlockSweeper {
  private running: Promise<void> | undefined
  private again = false

  constructor(private readonly deps: { database: Database; blockStore: BlockStore; clock: Clock; logger: Logger }) {}

  /** Sweeps now (or once more after the sweep in progress); resolves when done. */
  sweep(): Promise<void> {
    if (this.running) {
      this.again = true
      return this.running
    }
    this.running = this.sweepAll().finally(() => {
      this.running = undefined
    })
    return this.running
  }

  /** Starts a sweep without waiting; a failure is logged and retried by the next one. */
  soon(): void {
    this.sweep().catch((err) => this.deps.logger.warn({ err }, 'block sweep failed'))
  }

  async stop(): Promise<void> {
    await this.running?.catch(() => {})
  }

  private async sweepAll(): Promise<void> {
    do {
      this.again = false
      const { database, blockStore, clock } = this.deps
      const t = new BlockTransactor(database.db)
      const rows = await t.listUndeleted(10_000)
      if (rows.length === 0) continue
      const cids = rows.map((row) => row.cid)
      await blockStore.delete(cids)
      await t.markDeleted(cids, clock.now().toISOString())
      if (rows.length === 10_000) this.again = true
    } while (this.again)
  }
}
