/**
 * WAL checkpoints off the event loop, and a WAL that stays small under sustained writes.
 *
 * SQLite's automatic checkpoint runs inside whichever commit crosses the threshold, copying pages
 * into the database file and fsyncing it: a stall of many milliseconds on the message path. So
 * the owner's connection never checkpoints (`wal_autocheckpoint = 0`), and a worker thread with
 * its own connection does instead:
 *
 * - every `intervalMs`, a PASSIVE checkpoint copies new frames into the database file; it never
 *   waits for nor blocks the owner's readers and writers;
 * - PASSIVE alone never shrinks the WAL, and under back-to-back transactions it never lets it
 *   restart from the beginning either (the WAL grew by ~35 KB per message that way). So once the
 *   WAL passes `truncateBytes`, or after `idleMs` without a write, a TRUNCATE checkpoint resets it
 *   to zero bytes. TRUNCATE waits for every reader and blocks writers meanwhile; it runs inside
 *   `exclusive`, which the owner may use to hold its connection idle (the server's database
 *   does not: its transactions begin IMMEDIATE and wait in SQLite's busy handler for the few
 *   milliseconds a TRUNCATE takes, see database.ts). Foreign connections (an operator's `sqlite3`
 *   shell) can make it wait: then
 *   the checkpoint gives up after `busyMs` and is tried again later.
 *
 * Durability is unchanged: committed transactions are in the WAL either way. A failed checkpoint
 * (a full disk: SQLITE_FULL) never ends the process; it is reported to `onError` and retried.
 * See https://www.sqlite.org/wal.html#ckpt and https://www.sqlite.org/c3ref/wal_checkpoint_v2.html.
 */
import fs from 'node:fs'
import { createRequire } from 'node:module'
import { Worker } from 'node:worker_threads'

// Dynamic imports only: the eval'd worker inherits the parent's flags, so it may run as a
// CommonJS script or as an ES module (`--input-type=module`), and must work as both. Every
// failure is caught and posted: an uncaught error in a worker ends the whole process.
const WORKER_SOURCE = `
;(async () => {
  const { parentPort, workerData } = await import('node:worker_threads')
  const { createRequire } = await import('node:module')
  const Database = createRequire(workerData.driver)(workerData.driver)
  let db
  let failing = false
  const describe = (error) => ({ code: String(error?.code ?? 'ERROR'), message: String(error?.message ?? error) })
  const checkpoint = (mode) => {
    if (!db) {
      db = new Database(workerData.file)
      db.pragma('busy_timeout = ' + workerData.busyMs)
    }
    return db.pragma('wal_checkpoint(' + mode + ')')[0]
  }
  const timer = setInterval(() => {
    try {
      checkpoint('PASSIVE')
      failing = false
    } catch (error) {
      if (!failing) parentPort.postMessage({ type: 'error', error: describe(error) })
      failing = true
    }
  }, workerData.intervalMs)
  parentPort.on('message', (message) => {
    if (message.type === 'checkpoint') {
      try {
        parentPort.postMessage({ type: 'done', id: message.id, complete: checkpoint(message.mode).busy === 0 })
      } catch (error) {
        parentPort.postMessage({ type: 'done', id: message.id, error: describe(error) })
      }
      return
    }
    clearInterval(timer)
    // The last connection to close checkpoints and deletes the WAL; on a full disk it cannot,
    // and the WAL is simply kept for the next start.
    try { db?.close() } catch {}
    parentPort.close()
  })
})().catch((error) => {
  import('node:worker_threads').then(({ parentPort }) =>
    parentPort.postMessage({ type: 'error', error: { code: String(error?.code ?? 'ERROR'), message: String(error?.message ?? error) } }),
  )
})
`

/** A checkpoint that failed in the worker, as SQLite reported it (`code` e.g. `SQLITE_FULL`). */
export class CheckpointError extends Error {
  override name = 'CheckpointError'
  constructor(
    readonly code: string,
    message: string,
  ) {
    super(message)
  }
}

export type SqliteCheckpointerOptions = {
  /** Runs `fn` while the owner's connection is idle: no open transaction, no statement running. */
  exclusive: <T>(fn: () => Promise<T>) => Promise<T>
  /** A checkpoint failed (reported once per run of failures); the checkpointer keeps trying. */
  onError?: (error: CheckpointError) => void
  /** How often the worker runs a PASSIVE checkpoint (default 100 ms). */
  intervalMs?: number
  /** The WAL size that makes the next moment a TRUNCATE checkpoint (default {@link WAL_TRUNCATE_BYTES}). */
  truncateBytes?: number
  /** How long the WAL may stay unchanged (no writes) before it is truncated anyway (default 1 s). */
  idleMs?: number
  /** How long a TRUNCATE waits for other connections before it gives up (default 50 ms). */
  busyMs?: number
}

/** The WAL size past which it is truncated; also the owner's `journal_size_limit`. */
export const WAL_TRUNCATE_BYTES = 4 * 1024 * 1024

const RETRY_MS = 1_000
const MAX_RETRY_MS = 5_000
const REQUEST_TIMEOUT_MS = 5_000

type Reply = { type: 'done'; id: number; complete?: boolean; error?: { code: string; message: string } }
type WorkerMessage = Reply | { type: 'error'; error: { code: string; message: string } }

export class SqliteCheckpointer {
  private worker!: Worker
  private alive = false
  private readonly walFile: string
  private readonly pending = new Map<number, (reply: Reply) => void>()
  private nextId = 0
  /** The WAL's size and mtime when last seen, and when they last changed: no change is idle. */
  private lastSeen = ''
  private changedAt = Date.now()
  private retryAt = 0
  private retryMs = RETRY_MS
  private truncating: Promise<void> | undefined
  private stopping = false
  private readonly timer: NodeJS.Timeout
  private readonly settings: Required<Omit<SqliteCheckpointerOptions, 'onError'>>

  private constructor(
    private readonly file: string,
    private readonly options: SqliteCheckpointerOptions,
  ) {
    this.walFile = `${file}-wal`
    this.settings = {
      exclusive: options.exclusive,
      intervalMs: options.intervalMs ?? 100,
      truncateBytes: options.truncateBytes ?? WAL_TRUNCATE_BYTES,
      idleMs: options.idleMs ?? 1_000,
      busyMs: options.busyMs ?? 50,
    }
    this.spawn()
    this.timer = setInterval(() => this.maybeTruncate(), this.settings.intervalMs)
    this.timer.unref()
  }

  static start(file: string, options: SqliteCheckpointerOptions): SqliteCheckpointer {
    return new SqliteCheckpointer(file, options)
  }

  private spawn(): void {
    const driver = createRequire(import.meta.url).resolve('better-sqlite3')
    const { intervalMs, busyMs } = this.settings
    const worker = new Worker(WORKER_SOURCE, { eval: true, workerData: { file: this.file, driver, intervalMs, busyMs } })
    worker.unref()
    worker.on('message', (message: WorkerMessage) => this.receive(message))
    worker.on('error', (error) => this.options.onError?.(new CheckpointError('WORKER', error.message)))
    worker.on('exit', () => {
      this.alive = false
      for (const [id, resolve] of this.pending) resolve({ type: 'done', id, error: { code: 'WORKER', message: 'exited' } })
      this.pending.clear()
      // A worker that died on its own (it catches everything it can) is replaced.
      if (!this.stopping) setTimeout(() => !this.stopping && this.spawn(), RETRY_MS).unref()
    })
    this.worker = worker
    this.alive = true
  }

  private receive(message: WorkerMessage): void {
    if (message.type === 'done') {
      this.pending.get(message.id)?.(message)
      this.pending.delete(message.id)
    } else this.options.onError?.(new CheckpointError(message.error.code, message.error.message))
  }

  /** The WAL file's size in bytes (0 when there is none). */
  walBytes(): number {
    return this.walStats().size
  }

  private walStats(): { size: number; mtimeMs: number } {
    try {
      return fs.statSync(this.walFile)
    } catch {
      return { size: 0, mtimeMs: 0 }
    }
  }

  /** Tells the checkpointer a transaction committed: a WAL past the limit is truncated soon. */
  noteWrite(): void {
    if (this.walBytes() >= this.settings.truncateBytes) this.truncateSoon()
  }

  private maybeTruncate(): void {
    const { size, mtimeMs } = this.walStats()
    const seen = `${size}/${mtimeMs}`
    if (seen !== this.lastSeen) {
      this.lastSeen = seen
      this.changedAt = Date.now()
    }
    if (size >= this.settings.truncateBytes || (size > 0 && Date.now() - this.changedAt >= this.settings.idleMs)) {
      this.truncateSoon()
    }
  }

  private truncateSoon(): void {
    if (this.truncating || this.stopping || Date.now() < this.retryAt) return
    // A PASSIVE pass first, while the owner keeps working, so the TRUNCATE it waits for has
    // almost nothing left to copy.
    this.truncating = this.checkpoint('PASSIVE')
      .then(() => this.settings.exclusive(() => this.truncate()))
      .then((complete) => {
        if (complete) this.retryMs = RETRY_MS
        else this.backOff()
      })
      .catch((error: unknown) => {
        this.backOff()
        this.options.onError?.(error instanceof CheckpointError ? error : new CheckpointError('ERROR', String(error)))
      })
      .finally(() => {
        this.truncating = undefined
      })
  }

  /** Each attempt that cannot complete (a foreign reader, a full disk) doubles the wait for the next. */
  private backOff(): void {
    this.retryAt = Date.now() + this.retryMs
    this.retryMs = Math.min(MAX_RETRY_MS, this.retryMs * 2)
  }

  /**
   * Copies every frame into the database file and truncates the WAL to zero bytes, in the worker.
   * The caller must hold its connection idle meanwhile (see `exclusive`). Resolves with whether
   * it completed (false: another connection was reading or writing).
   * @throws {CheckpointError} when SQLite fails (SQLITE_FULL on a full disk).
   */
  truncate(): Promise<boolean> {
    return this.checkpoint('TRUNCATE')
  }

  private async checkpoint(mode: 'PASSIVE' | 'TRUNCATE'): Promise<boolean> {
    if (!this.alive) throw new CheckpointError('WORKER', 'the checkpoint worker is restarting')
    const id = this.nextId++
    const reply = await new Promise<Reply>((resolve) => {
      const timeout = setTimeout(() => {
        this.pending.delete(id)
        resolve({ type: 'done', id, error: { code: 'TIMEOUT', message: 'checkpoint did not answer' } })
      }, REQUEST_TIMEOUT_MS)
      this.pending.set(id, (answer) => {
        clearTimeout(timeout)
        resolve(answer)
      })
      this.worker.postMessage({ type: 'checkpoint', id, mode })
    })
    if (reply.error) throw new CheckpointError(reply.error.code, reply.error.message)
    return reply.complete === true
  }

  /** Stops checkpointing; the worker closes its connection and exits. */
  async stop(): Promise<void> {
    this.stopping = true
    clearInterval(this.timer)
    await this.truncating
    if (!this.alive) return
    const exited = new Promise((resolve) => this.worker.once('exit', resolve))
    // Referenced while it stops: otherwise a process with nothing else to do (a CLI command)
    // would end here with its last `await` unsettled (exit code 13).
    this.worker.ref()
    this.worker.postMessage({ type: 'stop' })
    let timer: NodeJS.Timeout | undefined
    const timeout = new Promise((resolve) => {
      timer = setTimeout(resolve, REQUEST_TIMEOUT_MS)
    })
    await Promise.race([exited, timeout])
    clearTimeout(timer)
    await this.worker.terminate()
  }
}
