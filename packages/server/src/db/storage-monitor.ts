/**
 * Whether the server can write to its data directory. A write that fails for want of space (a
 * full disk: SQLITE_FULL, ENOSPC, a quota: EDQUOT) marks storage full until a probe (a small
 * file written and removed every `probeMs` while full) succeeds, so `/health` turns healthy again
 * by itself when space returns, with or without traffic. A successful commit alone does not clear
 * it: SQLite reuses WAL space it already holds, so some commits succeed on a full disk. Each
 * failed request is answered `507 storage_full` (errors.ts), and nothing that failed was
 * acknowledged.
 */
import fs from 'node:fs/promises'
import path from 'node:path'
import { BaseError } from '@dmtp/protocol'

const NO_SPACE_CODES = new Set(['SQLITE_FULL', 'ENOSPC', 'EDQUOT'])

export type StorageFullErrorType = StorageFullError & { name: 'StorageFullError' }

/** A write failed because the disk (or the quota) is full; nothing of it was stored. */
export class StorageFullError extends BaseError {
  override name = 'StorageFullError'
  constructor({ cause }: { cause?: unknown } = {}) {
    super('The storage is full: nothing was written.', { cause })
  }
}

/** Whether `error`, or any error in its cause chain, is a failure for want of space. */
export function isStorageFull(error: unknown): boolean {
  for (let e = error, depth = 0; e instanceof Error && depth < 8; e = e.cause, depth++) {
    if (e instanceof StorageFullError) return true
    const code = (e as { code?: unknown }).code
    if (typeof code === 'string' && NO_SPACE_CODES.has(code)) return true
  }
  return false
}

/** `error` as a {@link StorageFullError} when it is a failure for want of space, else itself. */
export function asStorageError(error: unknown): unknown {
  return isStorageFull(error) && !(error instanceof StorageFullError) ? new StorageFullError({ cause: error }) : error
}

const PROBE_BYTES = 64 * 1024
/** Below this much space free for the server, `/health` reports storage full before a write fails. */
export const MIN_FREE_BYTES = 1024 * 1024

export class StorageMonitor {
  private isFull = false
  private probe: NodeJS.Timeout | undefined

  constructor(
    private readonly dir: string,
    private readonly probeMs = 1_000,
  ) {}

  /** Whether a write failed for want of space, and no probe has succeeded since. */
  get full(): boolean {
    return this.isFull
  }

  /** Records a failed write; returns whether it failed for want of space. */
  failed(error: unknown): boolean {
    if (!isStorageFull(error)) return false
    if (!this.isFull) {
      this.isFull = true
      this.probe = setInterval(() => void this.tryProbe(), this.probeMs)
      this.probe.unref()
    }
    return true
  }

  /** Whether the data directory has less than {@link MIN_FREE_BYTES} free (false if it cannot tell). */
  async nearlyFull(): Promise<boolean> {
    try {
      const stats = await fs.statfs(this.dir)
      return stats.bavail * stats.bsize < MIN_FREE_BYTES
    } catch {
      return false
    }
  }

  private async tryProbe(): Promise<void> {
    const file = path.join(this.dir, '.dmtp-space-probe')
    try {
      await fs.writeFile(file, new Uint8Array(PROBE_BYTES))
      this.isFull = false
      clearInterval(this.probe)
    } catch {
      // Still full: probe again later.
    } finally {
      await fs.rm(file, { force: true }).catch(() => {})
    }
  }

  destroy(): void {
    clearInterval(this.probe)
  }
}
