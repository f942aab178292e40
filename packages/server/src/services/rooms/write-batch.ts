/**
 * One transaction of the room writer (`room-writer.ts`): the items queued while the previous
 * transaction ran, checked against the rules and given their positions in order, written, and
 * answered and published once the transaction commits. Every message it answers (written now, or
 * a retry answered from what is stored) gets a receipt; one Ed25519 signature covers them all
 * (protocol.md §5.6).
 */
import {
  canonicalText,
  type LogEntry,
  planRoomAction,
  type RoomActionTarget,
  type RoomActionType,
  type RoomEvent,
  signReceiptBatch,
  toBlock,
} from '@dmtp/protocol'
import type { Insertable } from 'kysely'
import type { Transaction } from '../../db/database.js'
import type { MessagesTable } from '../../db/schema/messages.js'
import { HttpError } from '../../errors.js'
import { type MemberNotice, memberChannel, type RoomStreamEvent, roomChannel } from '../../ports/pub-sub/channels.js'
import { logRecordJson, messageRecordJson, streamFrame } from '../messages/records.js'
import { applyRoomEvent, type EventApplication } from './apply-event.js'
import type { CachedRoom } from './room-cache.js'
import { NO_EPOCH } from './room-epoch.js'
import type { EventResult, PendingMessage, RoomWriterDeps, SendResult, WriteItem } from './room-writer.js'
import { ruleError } from './rule-error.js'
import { applyRotation, staleEpoch } from './write-rotation.js'

type Published = { room: string; event: RoomStreamEvent; notices: [string, MemberNotice][] }
type Item = WriteItem
type Ack = { result: Omit<SendResult, 'receipt'>; item: Extract<Item, { kind: 'message' }> }

/** One transaction's worth of items. */
export class WriteBatch {
  private readonly receivedAt: string
  private readonly rooms = new Map<string, CachedRoom>()
  private readonly targets = new Map<string, RoomActionTarget & { room: string }>()
  private readonly rows: Insertable<MessagesTable>[] = []
  private readonly cidRows: { cid: string; kind: string; room_id: string; address: null; created_at: string }[] = []
  private readonly published: Published[] = []
  private readonly answers: (() => void)[] = []
  private readonly acks: Ack[] = []
  private tombstones = false
  private pos = 0

  constructor(
    private readonly deps: RoomWriterDeps,
    private readonly tx: Transaction,
    private readonly items: Item[],
  ) {
    this.receivedAt = deps.clock.now().toISOString()
  }

  async write(): Promise<void> {
    const fresh = await this.withoutRepeats()
    if (fresh.length > 0) await this.writeFresh(fresh)
    const answers = await this.signReceipts()
    this.tx.onCommit(() => {
      for (const answer of answers) answer()
      for (const answer of this.answers) answer()
      for (const { room, event, notices } of this.published) {
        // A new member's streams subscribe before the room's event goes out; a removed one's
        // streams deliver that event (their removal) before they let go of the room.
        const joined = notices.filter(([, notice]) => notice.status === 'member')
        const others = notices.filter(([, notice]) => notice.status !== 'member')
        for (const [address, notice] of joined) this.deps.pubSub.publish(memberChannel(address), notice)
        this.deps.pubSub.publish(roomChannel(room), event)
        for (const [address, notice] of others) this.deps.pubSub.publish(memberChannel(address), notice)
      }
      if (this.tombstones) this.deps.sweeper.soon()
    })
  }

  /** One signature over every ack of this transaction; each ack gets its own path to the root. */
  private async signReceipts(): Promise<(() => void)[]> {
    if (this.acks.length === 0) return []
    const key = this.deps.serverKey.get()
    const receipts = await signReceiptBatch(this.deps.crypto, {
      acks: this.acks.map(({ result }) => result),
      signingKey: key.keys.ed25519.secretKey,
      key: key.cid,
    })
    return this.acks.map(
      ({ result, item }, i) =>
        () =>
          item.resolve({ ...result, receipt: receipts[i] as SendResult['receipt'] }),
    )
  }

  private async writeFresh(fresh: Item[]): Promise<void> {
    const { db } = this.tx
    await this.lockRooms(fresh)
    const counter = await this.deps.database
      .forUpdate(db.selectFrom('counters').select('value').where('name', '=', 'pos'))
      .executeTakeFirstOrThrow()
    this.pos = counter.value
    await this.loadTargets(fresh)
    for (const item of fresh) {
      if (item.kind === 'message') await this.writeMessage(item)
      else if (item.kind === 'event') await this.writeEvent(item)
      else await this.writeRotation(item)
    }
    await this.flushRows()
    await db.updateTable('counters').set({ value: this.pos }).where('name', '=', 'pos').execute()
    for (const room of this.rooms.values()) {
      const { id, seq, last_pos, log_index, log_head, log_head_seq, member_count, deleted_at } = room.row
      const { e2ee, plain, epoch, key_id, epoch_at, epoch_messages, rotation_due } = room.row
      await db
        .updateTable('rooms')
        .set({ seq, last_pos, log_index, log_head, log_head_seq, member_count, deleted_at })
        .set({ e2ee, plain, epoch, key_id, epoch_at, epoch_messages, rotation_due })
        .where('id', '=', id)
        .execute()
    }
  }

  /**
   * Answers retries from what is stored: the same message (same id and CID) or the same event
   * again gets its first result (a message's with a receipt over the stored row, signed with
   * this transaction's); another message under a used id is refused.
   */
  private async withoutRepeats(): Promise<Item[]> {
    const ids = [
      ...new Set(
        this.items.flatMap((item) =>
          item.kind === 'message' ? [item.message.id] : item.kind === 'event' ? [item.event.id] : [],
        ),
      ),
    ]
    const existing = new Map<
      string,
      {
        id: string
        room_id: string
        cid: string
        seq: number
        pos: number
        e2ee: number
        received_at: string
        kind: string
        envelope: string
      }
    >()
    for (let i = 0; i < ids.length; i += 500) {
      const rows = await this.tx.db
        .selectFrom('messages')
        .select(['id', 'room_id', 'cid', 'seq', 'pos', 'e2ee', 'received_at', 'kind', 'envelope'])
        .where('id', 'in', ids.slice(i, i + 500))
        .execute()
      for (const row of rows) existing.set(row.id, row)
    }
    const seen = new Set<string>()
    const fresh: Item[] = []
    for (const item of this.items) {
      if (item.kind === 'rotation') {
        fresh.push(item)
        continue
      }
      const id = item.kind === 'message' ? item.message.id : item.event.id
      const old = existing.get(id)
      if (old) {
        if (item.kind === 'message' && old.kind === 'envelope' && old.cid === item.message.cid) {
          const result = { id, room: old.room_id, cid: old.cid, seq: old.seq, receivedAt: old.received_at, e2ee: old.e2ee === 1 }
          this.acks.push({ result, item })
        } else if (item.kind === 'event' && old.kind === 'log' && sameEvent(old.envelope, item.event)) {
          const entry = JSON.parse(old.envelope) as LogEntry
          item.resolve({
            entry,
            cid: old.cid,
            seq: old.seq,
            pos: old.pos,
            receivedAt: old.received_at,
            recordJson: logRecordJson(old.cid, old.seq, old.received_at, old.envelope),
          })
        } else item.reject(idConflict())
        continue
      }
      if (seen.has(id)) {
        // The same id twice in one batch: the first is written, the second answered after it.
        this.answers.push(() => item.reject(idConflict()))
        continue
      }
      seen.add(id)
      fresh.push(item)
    }
    return fresh
  }

  private async lockRooms(items: Item[]): Promise<void> {
    const { db } = this.tx
    const ids = [...new Set(items.map(roomOf))].sort()
    const rows = await this.deps.database
      .forUpdate(db.selectFrom('rooms').selectAll().where('id', 'in', ids).orderBy('id'))
      .execute()
    for (const row of rows) {
      const room = await this.deps.roomCache.room(db, row.id)
      if (!room) continue
      // The counters come from the locked row: the database, not the cache, is the truth.
      room.row = row
      this.rooms.set(row.id, room)
    }
  }

  private async loadTargets(items: Item[]): Promise<void> {
    const refs = [
      ...new Set(
        items.flatMap((item) =>
          item.kind === 'message' && item.message.type !== 'message' && item.message.ref ? [item.message.ref] : [],
        ),
      ),
    ]
    for (let i = 0; i < refs.length; i += 500) {
      const rows = await this.tx.db
        .selectFrom('messages')
        .select(['id', 'room_id', 'sender', 'type', 'kind', 'recalled_by'])
        .where('id', 'in', refs.slice(i, i + 500))
        .execute()
      for (const row of rows) {
        if (row.kind !== 'envelope') continue
        this.targets.set(row.id, {
          room: row.room_id,
          sender: row.sender,
          type: row.type as RoomActionType,
          recalled: row.recalled_by !== null,
        })
      }
    }
  }

  private next(room: CachedRoom): { seq: number; pos: number } {
    room.row.seq += 1
    this.pos += 1
    room.row.last_pos = this.pos
    return { seq: room.row.seq, pos: this.pos }
  }

  private async writeMessage(item: Extract<Item, { kind: 'message' }>): Promise<void> {
    const m = item.message
    const room = this.rooms.get(m.roomId)
    if (!room) return item.reject(new HttpError({ code: 'room_not_found', message: 'No such room.' }))
    const target = m.type === 'message' ? undefined : this.targets.get(m.ref ?? '')
    const inRoom = target && target.room === m.roomId ? target : undefined
    await this.deps.roomCache.members(this.tx.db, room, [m.sender])
    // Checked at the server's time and at the signed time: a client replaying the room checks
    // the signed time, and must never find a message the server should have refused.
    const e2ee = room.room.type === 'p2p' ? undefined : m.e2ee
    for (const at of [this.receivedAt, m.timestamp]) {
      const verdict = planRoomAction(room, { sender: m.sender, type: m.type, at, target: inRoom, text: m.text, e2ee })
      if (!verdict.ok) return item.reject(ruleError(verdict))
    }
    if (m.epoch !== null) {
      const stale = staleEpoch(room.row, m.epoch, this.receivedAt, this.deps.rotation)
      if (stale) return item.reject(stale)
      room.row.epoch_messages += 1
    }
    const { seq, pos } = this.next(room)
    const row: Insertable<MessagesTable> = {
      id: m.id,
      room_id: m.roomId,
      seq,
      pos,
      kind: 'envelope',
      type: m.type,
      ref: m.ref,
      sender: m.sender,
      receiver: m.receiver,
      timestamp: m.timestamp,
      cid: m.cid,
      envelope: m.envelope,
      content: m.content?.text ?? null,
      content_cid: m.content?.cid ?? null,
      e2ee: m.e2ee ? 1 : 0,
      received_at: this.receivedAt,
      recalled_by: null,
      pinned_by: null,
    }
    this.rows.push(row)
    this.cidRows.push({ cid: m.cid, kind: 'message', room_id: m.roomId, address: null, created_at: this.receivedAt })
    if (m.type === 'message') this.targets.set(m.id, { room: m.roomId, sender: m.sender, type: 'message', recalled: false })
    if (inRoom && (m.type === 'recall' || m.type === 'pin' || m.type === 'unpin')) await this.act(m, inRoom)
    const recordJson = messageRecordJson(row as Parameters<typeof messageRecordJson>[0])
    this.publish(room, { pos, seq, recordJson }, [])
    this.acks.push({ result: { id: m.id, room: m.roomId, cid: m.cid, seq, receivedAt: this.receivedAt, e2ee: m.e2ee }, item })
  }

  /**
   * What a recall, pin or unpin does to the message it names. A recall takes the words of the
   * message and of its edits (the edits hold its words too). The batch's rows are written first,
   * so the update also reaches a target written earlier in this same transaction.
   */
  private async act(m: PendingMessage, target: RoomActionTarget): Promise<void> {
    const ref = m.ref as string
    await this.flushRows()
    if (m.type !== 'recall') {
      await this.tx.db
        .updateTable('messages')
        .set({ pinned_by: m.type === 'pin' ? m.id : null })
        .where('id', '=', ref)
        .execute()
      return
    }
    target.recalled = true
    // A recalled message is unpinned too (an unpin of it would be refused: it is gone).
    const recalled = await this.tx.db
      .updateTable('messages')
      .set({ recalled_by: m.id, content: null, pinned_by: null })
      .where('id', '=', ref)
      .returning('content_cid')
      .execute()
    const edits = await this.tx.db
      .updateTable('messages')
      .set({ recalled_by: m.id, content: null })
      .where('room_id', '=', m.roomId)
      .where('sender', '=', target.sender)
      .where('type', '=', 'edit')
      .where('ref', '=', ref)
      .returning('content_cid')
      .execute()
    await this.tombstone([...recalled, ...edits].flatMap((row) => (row.content_cid ? [row.content_cid] : [])))
  }

  private async writeEvent(item: Extract<Item, { kind: 'event' }>): Promise<void> {
    const { event } = item
    await this.flushRows()
    let room = this.rooms.get(event.room)
    if (event.type === 'create') {
      if (room) return item.reject(new HttpError({ code: 'conflict', message: 'A room with this id already exists.' }))
      room = await this.createRoom(event)
    }
    if (!room) return item.reject(new HttpError({ code: 'room_not_found', message: 'No such room.' }))
    if (event.basis > room.row.seq) {
      return item.reject(
        new HttpError({ code: 'invalid_request', message: "The event's basis is beyond the room's newest position." }),
      )
    }
    const previous = { seq: room.row.seq, lastPos: room.row.last_pos, pos: this.pos }
    const { seq, pos } = this.next(room)
    const entry: LogEntry = { v: 1, room: room.row.id, seq, index: room.row.log_index + 1, prev: room.row.log_head, event }
    const block = toBlock(entry)
    let applied: EventApplication
    try {
      applied = await applyRoomEvent({ tx: this.tx, cache: this.deps.roomCache, room, entry, pos, now: this.receivedAt })
    } catch (error) {
      room.row.seq = previous.seq
      room.row.last_pos = previous.lastPos
      this.pos = previous.pos
      if (error instanceof HttpError) return item.reject(error)
      throw error
    }
    if (applied.contentCids.length > 0) await this.tombstone(applied.contentCids)
    room.row.log_index = entry.index
    room.row.log_head = block.cid
    room.row.log_head_seq = seq
    this.rows.push({
      id: event.id,
      room_id: room.row.id,
      seq,
      pos,
      kind: 'log',
      type: event.type,
      ref: null,
      sender: event.actor,
      receiver: null,
      timestamp: event.at,
      cid: block.cid,
      envelope: block.text,
      content: null,
      content_cid: null,
      e2ee: 0,
      received_at: this.receivedAt,
      recalled_by: null,
      pinned_by: null,
    })
    this.cidRows.push({ cid: block.cid, kind: 'log', room_id: room.row.id, address: null, created_at: this.receivedAt })
    const recordJson = logRecordJson(block.cid, seq, this.receivedAt, block.text)
    const notices: [string, MemberNotice][] = applied.changed
      .filter((change) => change.status !== 'invited')
      .map((change) => [change.address, { roomId: room.row.id, status: change.status, seq, pos }])
    // Each invitee is told, live, with the signed entry (again when invited again); nobody else.
    if (entry.event.type === 'invite') {
      for (const address of entry.event.members) {
        notices.push([address, { roomId: room.row.id, status: 'invited', seq, pos, record: recordJson }])
      }
    }
    this.publish(room, { pos, seq, recordJson }, notices)
    const result: EventResult = { entry, cid: block.cid, seq, pos, receivedAt: this.receivedAt, recordJson }
    this.answers.push(() => item.resolve(result))
  }

  private async writeRotation(item: Extract<Item, { kind: 'rotation' }>): Promise<void> {
    const room = this.rooms.get(item.rotation.intent.room)
    try {
      const encryption = await applyRotation({
        tx: this.tx,
        cache: this.deps.roomCache,
        room,
        rotation: item.rotation,
        now: this.receivedAt,
      })
      this.answers.push(() => item.resolve(encryption))
    } catch (error) {
      if (error instanceof HttpError) return item.reject(error)
      throw error
    }
  }

  private async createRoom(event: Extract<RoomEvent, { type: 'create' }>): Promise<CachedRoom> {
    const { db } = this.tx
    const existing = await db.selectFrom('rooms').select('id').where('id', '=', event.room).executeTakeFirst()
    if (existing) throw new HttpError({ code: 'conflict', message: 'A room with this id already exists.' })
    await db
      .insertInto('rooms')
      .values({
        id: event.room,
        type: event.roomType,
        name: event.name,
        description: event.description,
        avatar: event.avatar,
        announce: event.announce ? 1 : 0,
        direct_key: null,
        seq: 0,
        member_count: 0,
        log_index: 0,
        log_head: null,
        log_head_seq: null,
        last_pos: 0,
        ...NO_EPOCH,
        created_at: this.receivedAt,
        created_by: event.actor,
        deleted_at: null,
      })
      .execute()
    const room = await this.deps.roomCache.room(db, event.room)
    if (!room) throw new Error('room vanished after insert')
    this.rooms.set(event.room, room)
    return room
  }

  private publish(
    room: CachedRoom,
    { pos, seq, recordJson }: { pos: number; seq: number; recordJson: string },
    notices: [string, MemberNotice][],
  ): void {
    const roomId = room.row.id
    this.published.push({ room: roomId, event: { roomId, pos, seq, frame: streamFrame(pos, recordJson) }, notices })
  }

  private async tombstone(cids: string[]): Promise<void> {
    if (cids.length === 0) return
    this.tombstones = true
    await this.tx.db
      .insertInto('block_deletions')
      .values(cids.map((cid) => ({ cid, created_at: this.receivedAt, done_at: null })))
      .onConflict((oc) => oc.column('cid').doNothing())
      .execute()
  }

  private async flushRows(): Promise<void> {
    const rows = this.rows.splice(0)
    await this.tx.insertMany('messages', rows)
    await this.tx.insertMany('cids', this.cidRows.splice(0))
  }
}

function roomOf(item: Item): string {
  if (item.kind === 'message') return item.message.roomId
  if (item.kind === 'event') return item.event.room
  return item.rotation.intent.room
}

/** True when the stored entry holds exactly this event (a retry, or a replay changing nothing). */
function sameEvent(entryText: string, event: RoomEvent): boolean {
  return canonicalText((JSON.parse(entryText) as LogEntry).event) === canonicalText(event)
}

function idConflict() {
  return new HttpError({ code: 'message_id_conflict', message: 'A different message or event with this id already exists.' })
}
