/**
 * The embedded block store: one file per block under the data dir, sharded by the CID's last two
 * characters (as IPFS's flatfs does) so no directory grows huge. Writes go to a temporary file
 * and are renamed into place, so a crash never leaves a partial block under a CID.
 *
 * A file can still rot or be edited by hand: `get` re-hashes what it reads and treats bytes that
 * no longer match their CID as missing, and `put` then writes the block again (it only skips a
 * block whose file is intact).
 *
 * A write that fails for want of space removes its temporary file and throws a `StorageFullError`.
 */
import { randomBytes } from 'node:crypto'
import fs from 'node:fs/promises'
import path from 'node:path'
import { blockMatchesCid } from '@dmtp/protocol'
import { nodeCryptoBackend } from '@dmtp/protocol/node'
import { asStorageError } from '../../db/storage-monitor.js'
import type { Block, BlockStore } from './types.js'

export class DiskBlockStore implements BlockStore {
  private readonly shards = new Set<string>()

  private constructor(private readonly dir: string) {}

  static async create({ dir }: { dir: string }): Promise<DiskBlockStore> {
    await fs.mkdir(dir, { recursive: true })
    return new DiskBlockStore(dir)
  }

  private file(cid: string): string {
    return path.join(this.dir, cid.slice(-3, -1), cid)
  }

  async put(blocks: Block[]): Promise<void> {
    // File operations run in libuv's threadpool: a few dozen blocks at a time keep it busy.
    for (let i = 0; i < blocks.length; i += IO_CONCURRENCY) {
      // Settled, not all: on a failure, the other writes finish (or clean up) before put rejects.
      const results = await Promise.allSettled(blocks.slice(i, i + IO_CONCURRENCY).map((block) => this.putOne(block)))
      const failed = results.find((result) => result.status === 'rejected')
      if (failed) throw failed.reason
    }
  }

  private async putOne({ cid, bytes }: Block): Promise<void> {
    const file = this.file(cid)
    // Unique, so two puts of the same block at once cannot rename each other's file away.
    const temporary = `${file}.${randomBytes(6).toString('hex')}.tmp`
    try {
      if (await exists(file)) {
        if (await this.has(cid)) return
      } else await this.ensureShard(path.dirname(file))
      await fs.writeFile(temporary, bytes)
      await fs.rename(temporary, file)
    } catch (error) {
      await fs.rm(temporary, { force: true }).catch(() => {})
      throw asStorageError(error)
    }
  }

  /** Creates a shard directory once per process (there are at most 32 × 32 of them). */
  private async ensureShard(dir: string): Promise<void> {
    if (this.shards.has(dir)) return
    await fs.mkdir(dir, { recursive: true })
    this.shards.add(dir)
  }

  async get(cid: string): Promise<Uint8Array | undefined> {
    let bytes: Uint8Array
    try {
      bytes = new Uint8Array(await fs.readFile(this.file(cid)))
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined
      throw error
    }
    return blockMatchesCid(bytes, cid, nodeCryptoBackend.sha256) ? bytes : undefined
  }

  async has(cid: string): Promise<boolean> {
    return (await this.get(cid)) !== undefined
  }

  async delete(cids: string[]): Promise<void> {
    // Unlinks run in libuv's threadpool: a few dozen at a time keep every thread busy.
    for (let i = 0; i < cids.length; i += IO_CONCURRENCY) {
      await Promise.all(cids.slice(i, i + IO_CONCURRENCY).map((cid) => unlinkIfPresent(this.file(cid))))
    }
  }

  async destroy(): Promise<void> {}
}

const IO_CONCURRENCY = 32

async function unlinkIfPresent(file: string): Promise<void> {
  try {
    await fs.unlink(file)
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error
  }
}

async function exists(file: string): Promise<boolean> {
  try {
    await fs.access(file)
    return true
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return false
    throw error
  }
}
