/**
 * The embedded block store: every block a row of its own SQLite file (`<data>/blocks.sqlite`),
 * keyed by CID, as Kubo keeps small blocks in a key-value datastore rather than a file each. One
 * sync writes thousands of ~700-byte blocks: on a VM disk a file each costs 0.1–0.7 ms, a row in one
 * transaction a few µs. The bytes, and so the CIDs, are the same as in any IPFS store.
 *
 * A separate file from the server's database: blocks are the IPFS side (exportable, deletable by
 * CID), rows are the server's state. `secure_delete` overwrites deleted blocks, so a relayed
 * envelope the server could read is gone from the file once migrated (pattern β). `get` re-hashes
 * what it reads and treats bytes that no longer match their CID as missing; `put` overwrites them.
 *
 * Writes run one at a time (`exclusive`), so the checkpointer can truncate the WAL between them
 * without blocking a write on the event loop. A write that fails for want of space throws a
 * `StorageFullError` (the jobs that write blocks retry later).
 */
import { blockMatchesCid } from '@dmtp/protocol'
import { nodeCryptoBackend } from '@dmtp/protocol/node'
import Database from 'better-sqlite3'
import { SqliteCheckpointer, WAL_TRUNCATE_BYTES } from '../../db/sqlite-checkpointer.js'
import { asStorageError, isStorageFull } from '../../db/storage-monitor.js'
import type { Block, BlockStore } from './types.js'

export class SqliteBlockStore implements BlockStore {
  private readonly insert
  private readonly select
  private readonly remove
  private readonly putAll
  private readonly deleteAll
  private readonly checkpointer: SqliteCheckpointer
  /** The last write (or checkpoint) queued: each next one waits for it. */
  private idle: Promise<unknown> = Promise.resolve()

  private constructor(
    private readonly sqlite: Database.Database,
    path: string,
  ) {
    this.insert = sqlite.prepare('insert or replace into blocks (cid, bytes) values (?, ?)')
    this.select = sqlite.prepare('select bytes from blocks where cid = ?').pluck()
    this.remove = sqlite.prepare('delete from blocks where cid = ?')
    this.putAll = sqlite.transaction((blocks: Block[]) => {
      for (const { cid, bytes } of blocks) this.insert.run(cid, bytes)
    })
    this.deleteAll = sqlite.transaction((cids: string[]) => {
      for (const cid of cids) this.remove.run(cid)
    })
    this.checkpointer = SqliteCheckpointer.start(path, {
      exclusive: (fn) => this.exclusive(fn),
      // A full disk is reported by the writes that fail; anything else is worth a warning.
      onError: (error) => {
        if (!isStorageFull(error)) process.emitWarning(`Block store checkpoint failed: ${error.code} ${error.message}`)
      },
    })
  }

  private exclusive<T>(fn: () => Promise<T>): Promise<T> {
    const run = this.idle.then(fn)
    this.idle = run.catch(() => {})
    return run
  }

  static async create({ path }: { path: string }): Promise<SqliteBlockStore> {
    const sqlite = new Database(path)
    sqlite.pragma('journal_mode = WAL')
    sqlite.pragma('synchronous = NORMAL')
    sqlite.pragma('busy_timeout = 5000')
    sqlite.pragma('secure_delete = ON')
    // A sync writes megabytes of blocks at once: an automatic checkpoint inside that commit would
    // copy and fsync them on the event loop. A worker checkpoints instead, as for the database.
    sqlite.pragma('wal_autocheckpoint = 0')
    sqlite.pragma(`journal_size_limit = ${WAL_TRUNCATE_BYTES}`)
    sqlite.exec('create table if not exists blocks (cid text primary key, bytes blob not null) without rowid')
    return new SqliteBlockStore(sqlite, path)
  }

  async put(blocks: Block[]): Promise<void> {
    const rows = blocks.map(({ cid, bytes }) => ({ cid, bytes: Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength) }))
    await this.exclusive(async () => {
      try {
        this.putAll(rows)
      } catch (error) {
        throw asStorageError(error)
      }
      this.checkpointer.noteWrite()
    })
  }

  async get(cid: string): Promise<Uint8Array | undefined> {
    const stored = this.select.get(cid) as Buffer | undefined
    if (!stored) return undefined
    const bytes = new Uint8Array(stored.buffer, stored.byteOffset, stored.byteLength)
    return blockMatchesCid(bytes, cid, nodeCryptoBackend.sha256) ? bytes : undefined
  }

  async has(cid: string): Promise<boolean> {
    return (await this.get(cid)) !== undefined
  }

  async delete(cids: string[]): Promise<void> {
    await this.exclusive(async () => {
      try {
        this.deleteAll(cids)
        // The WAL still holds the pages as they were before the delete: fold it in and truncate it.
        await this.checkpointer.truncate()
      } catch (error) {
        throw asStorageError(error)
      }
    })
  }

  async destroy(): Promise<void> {
    if (!this.sqlite.open) return
    await this.idle
    await this.checkpointer.stop()
    this.sqlite.close()
  }
}
