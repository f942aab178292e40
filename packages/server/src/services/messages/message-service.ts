/**
 * Sending and reading 1:1 messages (seed 001, pattern α). The server cannot read a message, but
 * it checks everything it can before storing one: the sender is the signed-in wallet, the room is
 * theirs with the receiver, both keys are the current registered ones, the time is near now, and
 * the sender's Ed25519 signature covers every byte. Then the writer commits it and it is delivered.
 */
import {
  type CryptoBackend,
  type Envelope,
  envelopeBlock,
  type MessageRecord,
  MIGRATED_SUITE,
  RELAY_SUITE,
  verifyEnvelopeSignature,
} from '@dmtp/protocol'
import type { ServerConfig } from '../../config/config.js'
import type { Database } from '../../db/database.js'
import { HttpError } from '../../errors.js'
import type { Clock } from '../../identity.js'
import type { KeyService } from '../keys/key-service.js'
import type { RoomService } from '../rooms/room-service.js'
import type { ServerKeyService } from '../server-key/server-key-service.js'
import type { MessageWriter, SendResult } from './message-writer.js'
import { RateLimiter } from './rate-limiter.js'
import { findInboxState, findMessagesByIds, listInbox, listRoomMessages } from './reader.js'
import { messageRecordJson, toMessageRecord } from './records.js'

const RETRYABLE_CHECKS = new Set(['clock_skew', 'stale_key'])

export class MessageService {
  private readonly limiter: RateLimiter

  constructor(
    private readonly database: Database,
    private readonly crypto: CryptoBackend,
    private readonly keys: KeyService,
    private readonly rooms: RoomService,
    private readonly writer: MessageWriter,
    private readonly limits: ServerConfig['limits'],
    private readonly clock: Clock,
    private readonly serverKey: ServerKeyService,
  ) {
    this.limiter = new RateLimiter(limits.messagesPerSecond, limits.messageBurst)
  }

  /** Rooms already noted in their receiver's Processing Chats (saves a transaction per send). */
  private readonly processing = new Set<string>()

  /**
   * Validates, stores and delivers an envelope sent by `address`.
   * @throws {HttpError} rate_limited, sender_mismatch, invalid_envelope, clock_skew, room_not_found,
   * recipient_not_registered, stale_key, invalid_signature, message_id_conflict.
   */
  async send(address: string, envelope: Envelope): Promise<SendResult> {
    if (!this.limiter.take(address)) {
      throw new HttpError({ code: 'rate_limited', message: 'Too many messages; slow down.' })
    }
    // One canonical encoding gives the stored block and the bytes the signature covers.
    const block = envelopeBlock(envelope, this.crypto.sha256)
    try {
      await this.check(address, envelope, block.signingBytes)
    } catch (error) {
      // A client retrying a send whose answer it lost must learn it was stored, even when the
      // retry now fails a time-dependent check (clock window, keys rotated since).
      if (error instanceof HttpError && RETRYABLE_CHECKS.has(error.code)) {
        const stored = await this.findStored(address, envelope, block.cid)
        if (stored) return stored
      }
      throw error
    }
    const relayed = envelope.suite === RELAY_SUITE
    if (relayed) await this.noteProcessingChat(envelope.receiver, envelope.room)
    return this.writer.write({
      id: envelope.id,
      roomId: envelope.room,
      sender: envelope.sender,
      receiver: envelope.receiver,
      timestamp: envelope.timestamp,
      cid: block.cid,
      envelope: block.text,
      e2ee: !relayed,
    })
  }

  /**
   * Seed 002: the receiver of relayed messages gets a Users row if it has none (its inbox needs a
   * counter) and the room in its `Processing Chats`, until the messages are migrated.
   */
  private async noteProcessingChat(receiver: string, room: string): Promise<void> {
    if (this.processing.has(`${receiver}:${room}`)) return
    await this.database.transaction(async ({ db }) => {
      await db
        .insertInto('users')
        .values({
          address: receiver,
          processing_chats: '[]',
          inbox_seq: 0,
          acked_seq: 0,
          created_at: this.clock.now().toISOString(),
        })
        .onConflict((oc) => oc.column('address').doNothing())
        .execute()
      const row = await this.database
        .forUpdate(db.selectFrom('users').select('processing_chats').where('address', '=', receiver))
        .executeTakeFirstOrThrow()
      const rooms = JSON.parse(row.processing_chats) as string[]
      if (!rooms.includes(room)) {
        await db
          .updateTable('users')
          .set({ processing_chats: JSON.stringify([...rooms, room]) })
          .where('address', '=', receiver)
          .execute()
      }
    })
    if (this.processing.size > 100_000) this.processing.clear()
    this.processing.add(`${receiver}:${room}`)
  }

  private async findStored(address: string, envelope: Envelope, cid: string): Promise<SendResult | undefined> {
    const [row] = await findMessagesByIds(this.database.db, [envelope.id])
    if (!row || row.sender !== address || row.cid !== cid) return undefined
    return { id: row.id, room: row.room_id, cid: row.cid, seq: row.seq, receivedAt: row.received_at, e2ee: row.e2ee === 1 }
  }

  /** Every check the server can make on a message it cannot read. */
  private async check(address: string, envelope: Envelope, signingBytes: Uint8Array): Promise<void> {
    if (envelope.sender !== address) {
      throw new HttpError({ code: 'sender_mismatch', message: 'The envelope names another sender than the signed-in wallet.' })
    }
    if (envelope.receiver === address) {
      throw new HttpError({ code: 'invalid_envelope', message: 'A message cannot be sent to its own sender.' })
    }
    const skew = Math.abs(Date.parse(envelope.timestamp) - this.clock.now().getTime())
    if (skew > this.limits.maxClockSkewSeconds * 1000) {
      throw new HttpError({
        code: 'clock_skew',
        message: 'The message timestamp is too far from the server time; check your clock.',
      })
    }
    const members = await this.rooms.requireMember(address, envelope.room)
    if (!members.includes(envelope.receiver)) {
      throw new HttpError({ code: 'room_not_found', message: 'The receiver is not the other member of this conversation.' })
    }
    if (envelope.suite === MIGRATED_SUITE) {
      throw new HttpError({
        code: 'invalid_envelope',
        message: 'Migrated envelopes are uploaded by their receiver to /v1/migrations.',
      })
    }
    const [senderKey, receiverKey] = await Promise.all([this.keys.getCurrent(address), this.keys.getCurrent(envelope.receiver)])
    if (!senderKey || senderKey.cid !== envelope.senderKey) {
      throw new HttpError({ code: 'stale_key', message: 'senderKey is not your current key bundle; fetch it and retry.' })
    }
    if (envelope.suite === RELAY_SUITE) {
      // Pattern β: only while the receiver has no keys, and only to the server's current key.
      if (receiverKey) {
        throw new HttpError({
          code: 'recipient_registered',
          message: `${envelope.receiver} has set up DMTP: send end-to-end encrypted instead.`,
        })
      }
      if (envelope.receiverKey !== this.serverKey.get().cid) {
        throw new HttpError({
          code: 'stale_key',
          message: "receiverKey is not the server's current key bundle; fetch it and retry.",
        })
      }
    } else {
      if (!receiverKey) {
        throw new HttpError({
          code: 'recipient_not_registered',
          message: `${envelope.receiver} has not set up DMTP yet, so no end-to-end encrypted message can reach it.`,
        })
      }
      if (receiverKey.cid !== envelope.receiverKey) {
        throw new HttpError({
          code: 'stale_key',
          message: "receiverKey is not the receiver's current key bundle; fetch it and retry.",
        })
      }
    }
    if (!(await verifyEnvelopeSignature(this.crypto, envelope, senderKey.ed25519, signingBytes))) {
      throw new HttpError({ code: 'invalid_signature', message: "The envelope signature does not verify with the sender's key." })
    }
  }

  async history(
    address: string,
    roomId: string,
    query: { cursor?: number | undefined; limit: number; order: 'asc' | 'desc' },
  ): Promise<{ messages: MessageRecord[]; nextCursor: number | null }> {
    await this.rooms.requireMember(address, roomId)
    const rows = await listRoomMessages(this.database.db, {
      roomId,
      cursor: query.cursor,
      limit: query.limit,
      order: query.order,
    })
    const messages = rows.map(toMessageRecord)
    const last = messages.at(-1)
    return { messages, nextCursor: rows.length === query.limit && last ? last.seq : null }
  }

  /** Inbox entries after `after`, as ready-made JSON (the stream splices them into frames). */
  async inboxPage(address: string, after: number, limit: number): Promise<{ cursor: number; recordJson: string }[]> {
    const rows = await listInbox(this.database.db, { address, after, limit })
    return rows.map((row) => ({ cursor: row.cursor, recordJson: messageRecordJson(row) }))
  }

  async inbox(address: string, after: number, limit: number) {
    const rows = await listInbox(this.database.db, { address, after, limit })
    const state = await this.inboxState(address)
    return { entries: rows.map((row) => ({ cursor: row.cursor, message: toMessageRecord(row) })), latest: state.latest }
  }

  async inboxState(address: string): Promise<{ latest: number; acked: number }> {
    const row = await findInboxState(this.database.db, address)
    return { latest: row?.inbox_seq ?? 0, acked: row?.acked_seq ?? 0 }
  }

  /** Records that the user has received everything up to `cursor` (never moves back). */
  async ack(address: string, cursor: number): Promise<void> {
    await this.database.db
      .updateTable('users')
      .set({ acked_seq: cursor })
      .where('address', '=', address)
      .where('acked_seq', '<', cursor)
      .where('inbox_seq', '>=', cursor)
      .execute()
  }
}
