/**
 * WAL checkpoints off the event loop. SQLite's automatic checkpoint runs inside whichever commit
 * crosses the threshold, copying pages into the database file and fsyncing it: a stall of many
 * milliseconds on the message path. Here the server's connection never checkpoints
 * (`wal_autocheckpoint = 0`); a worker thread with its own connection runs PASSIVE checkpoints
 * every `intervalMs`, which never block writers. Durability is unchanged: committed transactions
 * are in the WAL either way.
 */
import { createRequire } from 'node:module'
import { Worker } from 'node:worker_threads'

// Dynamic imports only: the eval'd worker inherits the parent's flags, so it may run as a
// CommonJS script or as an ES module (`--input-type=module`), and must work as both.
const WORKER_SOURCE = `
;(async () => {
  const { parentPort, workerData } = await import('node:worker_threads')
  const { createRequire } = await import('node:module')
  const Database = createRequire(workerData.driver)(workerData.driver)
  const db = new Database(workerData.file)
  db.pragma('busy_timeout = 5000')
  const timer = setInterval(() => {
    try { db.pragma('wal_checkpoint(PASSIVE)') } catch (error) { parentPort.postMessage({ error: String(error) }) }
  }, workerData.intervalMs)
  parentPort.on('message', () => {
    clearInterval(timer)
    try { db.pragma('wal_checkpoint(PASSIVE)') } finally { db.close() }
    parentPort.close()
  })
})()
`

export class SqliteCheckpointer {
  private constructor(private readonly worker: Worker) {}

  static start(file: string, intervalMs = 1_000): SqliteCheckpointer {
    const driver = createRequire(import.meta.url).resolve('better-sqlite3')
    const worker = new Worker(WORKER_SOURCE, { eval: true, workerData: { file, driver, intervalMs } })
    worker.unref()
    return new SqliteCheckpointer(worker)
  }

  /** A last checkpoint, then the worker exits. */
  async stop(): Promise<void> {
    const exited = new Promise((resolve) => this.worker.once('exit', resolve))
    this.worker.postMessage('stop')
    await Promise.race([exited, new Promise((resolve) => setTimeout(resolve, 5_000))])
    await this.worker.terminate()
  }
}
