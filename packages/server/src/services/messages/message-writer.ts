/**
 * Group commit for messages. Sends that arrive while a transaction is running are queued and
 * written together in the next one: one transaction, a few multi-row statements, one fsync-free
 * WAL commit for up to `MAX_BATCH` messages. A send is acknowledged only after its transaction
 * commits, so an acknowledged message survives a crash.
 *
 * Sequence numbers are allocated inside the transaction from counters on the room and user rows,
 * locked on PostgreSQL, so room seqs and inbox cursors are gapless and committed in order: a
 * reader that has seen cursor N can never later find a message below N appear.
 */
import type { Database, Transaction } from '../../db/database.js'
import { HttpError } from '../../errors.js'
import type { Clock } from '../../identity.js'
import type { PubSub } from '../../ports/pub-sub/types.js'
import { findMessagesByIds } from './reader.js'
import { messageRecordJson } from './records.js'

export type PendingMessage = {
  id: string
  roomId: string
  sender: string
  receiver: string
  timestamp: string
  cid: string
  /** Canonical DAG-JSON text of the envelope. */
  envelope: string
  e2ee: boolean
}

export type SendResult = { id: string; room: string; cid: string; seq: number; receivedAt: string; e2ee: boolean }

/** What subscribers of `inbox:<address>` receive, in cursor order. */
export type InboxEvent = { cursor: number; roomId: string; recordJson: string }

type Queued = { message: PendingMessage; resolve: (result: SendResult) => void; reject: (error: unknown) => void }

const MAX_BATCH = 512

export class MessageWriter {
  private queue: Queued[] = []
  private running: Promise<void> | undefined

  constructor(
    private readonly database: Database,
    private readonly pubSub: PubSub,
    private readonly clock: Clock,
  ) {}

  write(message: PendingMessage): Promise<SendResult> {
    return new Promise((resolve, reject) => {
      this.queue.push({ message, resolve, reject })
      this.running ??= new Promise<void>((done) => setImmediate(done)).then(() => this.drain())
    })
  }

  /** Resolves once everything queued so far is written (used on shutdown). */
  async flush(): Promise<void> {
    while (this.running) await this.running
  }

  private async drain(): Promise<void> {
    while (this.queue.length > 0) {
      const batch = this.queue.splice(0, MAX_BATCH)
      try {
        await this.database.transaction((tx) => this.writeBatch(tx, batch))
      } catch (error) {
        for (const item of batch) item.reject(error)
      }
    }
    this.running = undefined
  }

  private async writeBatch(tx: Transaction, batch: Queued[]): Promise<void> {
    const { db } = tx
    const receivedAt = this.clock.now().toISOString()
    const existing = new Map(
      (await findMessagesByIds(db, [...new Set(batch.map((item) => item.message.id))])).map((row) => [row.id, row]),
    )
    const fresh: Queued[] = []
    const firstById = new Map<string, Queued>()
    const followers: { item: Queued; first: Queued }[] = []
    for (const item of batch) {
      const old = existing.get(item.message.id)
      if (old) {
        if (old.cid === item.message.cid) {
          item.resolve({
            id: old.id,
            room: old.room_id,
            cid: old.cid,
            seq: old.seq,
            receivedAt: old.received_at,
            e2ee: old.e2ee === 1,
          })
        } else {
          item.reject(idConflict())
        }
        continue
      }
      const first = firstById.get(item.message.id)
      if (first) {
        followers.push({ item, first })
        continue
      }
      firstById.set(item.message.id, item)
      fresh.push(item)
    }
    if (fresh.length === 0) {
      for (const { item } of followers) item.reject(idConflict())
      return
    }

    const roomIds = [...new Set(fresh.map((item) => item.message.roomId))].sort()
    const addresses = [...new Set(fresh.flatMap((item) => [item.message.sender, item.message.receiver]))].sort()
    const rooms = await this.database
      .forUpdate(db.selectFrom('rooms').select(['id', 'message_count']).where('id', 'in', roomIds).orderBy('id'))
      .execute()
    const users = await this.database
      .forUpdate(db.selectFrom('users').select(['address', 'inbox_seq']).where('address', 'in', addresses).orderBy('address'))
      .execute()
    const roomCount = new Map(rooms.map((row) => [row.id, row.message_count]))
    const inboxSeq = new Map(users.map((row) => [row.address, row.inbox_seq]))
    const next = (counters: Map<string, number>, key: string) => {
      const value = counters.get(key)
      if (value === undefined) throw new Error(`no counter row for ${key}`)
      counters.set(key, value + 1)
      return value + 1
    }

    const messageRows = []
    const inboxRows = []
    const cidRows = []
    const results: { item: Queued; result: SendResult; events: [string, InboxEvent][] }[] = []
    for (const item of fresh) {
      const m = item.message
      const seq = next(roomCount, m.roomId)
      const senderCursor = next(inboxSeq, m.sender)
      const receiverCursor = next(inboxSeq, m.receiver)
      const e2ee = m.e2ee ? 1 : 0
      messageRows.push({
        id: m.id,
        room_id: m.roomId,
        seq,
        sender: m.sender,
        receiver: m.receiver,
        timestamp: m.timestamp,
        cid: m.cid,
        envelope: m.envelope,
        e2ee,
        received_at: receivedAt,
      })
      inboxRows.push(
        { address: m.sender, seq: senderCursor, room_id: m.roomId, message_id: m.id },
        { address: m.receiver, seq: receiverCursor, room_id: m.roomId, message_id: m.id },
      )
      cidRows.push({ cid: m.cid, kind: 'message', room_id: m.roomId, address: null, created_at: receivedAt })
      const recordJson = messageRecordJson({ cid: m.cid, seq, e2ee, received_at: receivedAt, envelope: m.envelope })
      results.push({
        item,
        result: { id: m.id, room: m.roomId, cid: m.cid, seq, receivedAt, e2ee: m.e2ee },
        events: [
          [m.sender, { cursor: senderCursor, roomId: m.roomId, recordJson }],
          [m.receiver, { cursor: receiverCursor, roomId: m.roomId, recordJson }],
        ],
      })
    }

    await tx.insertMany('messages', messageRows)
    await tx.insertMany('cids', cidRows)
    await tx.insertMany('inbox', inboxRows)
    for (const [id, count] of roomCount)
      await db.updateTable('rooms').set({ message_count: count }).where('id', '=', id).execute()
    for (const [address, seq] of inboxSeq)
      await db.updateTable('users').set({ inbox_seq: seq }).where('address', '=', address).execute()

    tx.onCommit(() => {
      for (const { item, result, events } of results) {
        item.resolve(result)
        for (const [address, event] of events) this.pubSub.publish(`inbox:${address}`, event)
      }
      for (const { item, first } of followers) {
        const done = results.find((entry) => entry.item === first)
        if (done && item.message.cid === first.message.cid) item.resolve(done.result)
        else item.reject(idConflict())
      }
    })
  }
}

function idConflict() {
  return new HttpError({ code: 'message_id_conflict', message: 'A different message with this id already exists.' })
}
