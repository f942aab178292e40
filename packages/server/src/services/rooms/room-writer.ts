/**
 * Group commit of room positions: messages, message actions and membership-log entries. Whatever
 * arrives while a transaction runs is queued and written together in the next one (up to
 * `MAX_BATCH`), and each item is answered only once its transaction commits, so an acknowledged
 * message or event survives a crash.
 *
 * This is the one place positions are allocated: each item takes the room's next `seq` (gapless)
 * and the server's next stream `pos`, inside the transaction, from counters locked on
 * PostgreSQL, so positions commit in order and a reader who has seen N never finds a smaller one
 * appear later. It is also where the rules are checked for the last time, in commit order: a
 * message behind a kick in the same batch is refused, because the kick is applied first.
 *
 * A group message is one row, whatever the room's size; after the commit one event per room goes
 * out, carrying the stream frame ready to send to every member's socket.
 */
import type { CryptoBackend, LogEntry, Receipt, RoomActionType, RoomEncryption, RoomEvent, RotationIntent } from '@dmtp/protocol'
import type { Database } from '../../db/database.js'
import type { Clock } from '../../identity.js'
import type { PubSub } from '../../ports/pub-sub/types.js'
import type { BlockSweeper } from '../blocks/block-sweeper.js'
import type { ServerKeyService } from '../server-key/server-key-service.js'
import type { RoomCache } from './room-cache.js'
import { WriteBatch } from './write-batch.js'

export type PendingMessage = {
  id: string
  roomId: string
  sender: string
  receiver: string | null
  timestamp: string
  type: RoomActionType
  ref: string | null
  cid: string
  /** Canonical DAG-JSON text of the envelope. */
  envelope: string
  /** Public rooms: the content block (canonical text and CID). */
  content: { text: string; cid: string } | null
  e2ee: boolean
  /** The key epoch of a private-group message; null for every other suite. */
  epoch: number | null
  /** A public message's text, for the link rule. */
  text?: string | undefined
}

export type SendResult = {
  id: string
  room: string
  cid: string
  seq: number
  receivedAt: string
  e2ee: boolean
  /** Signed once per transaction over all its acks (protocol.md §5.6). */
  receipt: Receipt
}

export type EventResult = { entry: LogEntry; cid: string; seq: number; pos: number; receivedAt: string; recordJson: string }

/** A checked rotation of a private room's key: the signed intent and each member's delivery. */
export type PendingRotation = {
  intent: RotationIntent
  /** Canonical JSON of the intent, as stored. */
  intentJson: string
  deliveries: { recipient: string; delivery: string }[]
}

export type WriteItem =
  | { kind: 'message'; message: PendingMessage; resolve: (result: SendResult) => void; reject: (error: unknown) => void }
  | { kind: 'event'; event: RoomEvent; resolve: (result: EventResult) => void; reject: (error: unknown) => void }
  | {
      kind: 'rotation'
      rotation: PendingRotation
      resolve: (result: RoomEncryption) => void
      reject: (error: unknown) => void
    }

const MAX_BATCH = 512

export type RoomWriterDeps = {
  database: Database
  pubSub: PubSub
  clock: Clock
  roomCache: RoomCache
  sweeper: BlockSweeper
  /** Signs each transaction's receipts. */
  crypto: CryptoBackend
  serverKey: Pick<ServerKeyService, 'get'>
  /** When a private room's epoch is due by age or count. */
  rotation: { afterMessages: number; afterSeconds: number }
}

export class RoomWriter {
  private queue: WriteItem[] = []
  private running: Promise<void> | undefined

  constructor(private readonly deps: RoomWriterDeps) {}

  write(message: PendingMessage): Promise<SendResult> {
    return new Promise((resolve, reject) => this.enqueue({ kind: 'message', message, resolve, reject }))
  }

  /** Appends a signed room event to its room's log (a `create` makes the room). */
  append(event: RoomEvent): Promise<EventResult> {
    return new Promise((resolve, reject) => this.enqueue({ kind: 'event', event, resolve, reject }))
  }

  /**
   * Applies a rotation with compare-and-set, in commit order: it takes effect only if the room is
   * still at the epoch and log head it was made for (`epoch_conflict`, `log_head_moved` otherwise).
   */
  rotate(rotation: PendingRotation): Promise<RoomEncryption> {
    return new Promise((resolve, reject) => this.enqueue({ kind: 'rotation', rotation, resolve, reject }))
  }

  /** Resolves once everything queued so far is written (used on shutdown). */
  async flush(): Promise<void> {
    while (this.running) await this.running
  }

  private enqueue(item: WriteItem): void {
    this.queue.push(item)
    this.running ??= new Promise<void>((done) => setImmediate(done)).then(() => this.drain())
  }

  private async drain(): Promise<void> {
    while (this.queue.length > 0) {
      const batch = this.queue.splice(0, MAX_BATCH)
      try {
        await this.deps.database.transaction((tx) => new WriteBatch(this.deps, tx, batch).write())
      } catch (error) {
        // The cache may hold changes of the rolled-back transaction.
        this.deps.roomCache.clear()
        for (const item of batch) item.reject(error)
      }
    }
    this.running = undefined
  }
}
