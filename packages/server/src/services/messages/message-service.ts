/**
 * Sending and reading messages, in every room type. The server cannot read an end-to-end
 * encrypted message, but it checks everything it can before storing one: the sender is the
 * signed-in wallet, the suite fits the room, the keys are the current registered ones, the time
 * is near now, the sender's Ed25519 signature covers every byte (and, in a room without E2EE, the
 * content is the block the envelope names). Membership and permissions are checked here for a
 * quick refusal, and again by the writer in commit order.
 */
import {
  checkMessageContent,
  contentTypeOf,
  type Envelope,
  envelopeBlock,
  envelopeType,
  GROUP_SUITE,
  type GroupEnvelope,
  isBanned,
  type MessageContent,
  MIGRATED_SUITE,
  type PairEnvelope,
  RELAY_SUITE,
  type RoomRecord,
  SIGNED_SUITE,
  type SignedEnvelope,
  signReceiptBatch,
  toBlock,
  verifyEnvelopeSignature,
} from '@dmtp/protocol'
import type { AppContext } from '../../context.js'
import { HttpError } from '../../errors.js'
import { noteProcessingChat } from '../migration/processing-chats.js'
import type { CachedRoom } from '../rooms/room-cache.js'
import type { PendingMessage, SendResult } from '../rooms/room-writer.js'
import { RateLimiter } from './rate-limiter.js'
import {
  findMessagesByIds,
  findStreamState,
  isLogEntryOf,
  isMigrationOf,
  listRoomRecords,
  listStreamPage,
  type StreamEntry,
} from './reader.js'
import { toRoomRecord } from './records.js'

/**
 * Checks a retry of a stored send can fail only because time passed: the clock window, keys
 * rotated since, or (pattern β) the receiver set up and migrated the message meanwhile.
 */
const RETRYABLE_CHECKS = new Set(['clock_skew', 'stale_key', 'recipient_registered'])

export type MessageServiceDeps = Pick<
  AppContext,
  'database' | 'crypto' | 'keys' | 'roomCache' | 'writer' | 'clock' | 'serverKey' | 'rooms'
> & { limits: AppContext['config']['limits'] }

export class MessageService {
  private readonly limiter: RateLimiter
  /** Rooms already noted in their receiver's Processing Chats (saves a write per relayed send). */
  private readonly processing = new Set<string>()

  constructor(private readonly deps: MessageServiceDeps) {
    this.limiter = new RateLimiter(deps.limits.messagesPerSecond, deps.limits.messageBurst)
  }

  /**
   * Validates, stores and delivers an envelope sent by `address`.
   * @throws {HttpError} rate_limited, sender_mismatch, invalid_envelope, clock_skew, room_not_found,
   * not_member, banned, muted, forbidden, recipient_not_registered, stale_key, invalid_signature,
   * message_id_conflict.
   */
  async send(address: string, envelope: Envelope, content?: MessageContent): Promise<SendResult> {
    if (!this.limiter.take(address)) {
      throw new HttpError({ code: 'rate_limited', message: 'Too many messages; slow down.' })
    }
    // One canonical encoding gives the stored block and the bytes the signature covers.
    const block = envelopeBlock(envelope, this.deps.crypto.sha256)
    let pending: PendingMessage
    try {
      pending = await this.check(address, envelope, content, block)
    } catch (error) {
      // A client retrying a send whose answer it lost must learn it was stored, even when the
      // retry now fails a time-dependent check (clock window, keys rotated since).
      if (error instanceof HttpError && RETRYABLE_CHECKS.has(error.code)) {
        const stored = await this.findStored(address, envelope, block.cid)
        if (stored) return stored
      }
      throw error
    }
    if (envelope.suite === RELAY_SUITE) await this.noteProcessingChat(envelope.receiver, envelope.room)
    return this.deps.writer.write(pending)
  }

  private async noteProcessingChat(receiver: string, room: string): Promise<void> {
    const key = `${receiver}:${room}`
    if (this.processing.has(key)) return
    await noteProcessingChat(this.deps.database.db, receiver, room)
    if (this.processing.size > 100_000) this.processing.clear()
    this.processing.add(key)
  }

  /**
   * The first answer to this exact envelope, if it was stored (and since migrated, pattern β: the
   * receipt then names the relayed envelope, which the migrated one `replaces`). Rare, so its
   * receipt is signed alone rather than with a writer transaction's.
   */
  private async findStored(address: string, envelope: Envelope, cid: string): Promise<SendResult | undefined> {
    const { db } = this.deps.database
    const [row] = await findMessagesByIds(db, [envelope.id])
    if (!row || row.sender !== address) return undefined
    const stored = { id: row.id, room: row.room_id, cid, seq: row.seq, receivedAt: row.received_at }
    if (row.cid === cid) return this.receipted({ ...stored, e2ee: row.e2ee === 1 })
    if (envelope.suite !== RELAY_SUITE || !(await isMigrationOf(db, row.cid, cid))) return undefined
    return this.receipted({ ...stored, e2ee: false })
  }

  private async receipted(result: Omit<SendResult, 'receipt'>): Promise<SendResult> {
    const key = this.deps.serverKey.get()
    const [receipt] = await signReceiptBatch(this.deps.crypto, {
      acks: [result],
      signingKey: key.keys.ed25519.secretKey,
      key: key.cid,
    })
    return { ...result, receipt: receipt as SendResult['receipt'] }
  }

  /** Every check the server can make on a message, and the message as the writer takes it. */
  private async check(
    address: string,
    envelope: Envelope,
    content: MessageContent | undefined,
    block: { cid: string; text: string; signingBytes: Uint8Array },
  ): Promise<PendingMessage> {
    const { clock, limits, roomCache, database } = this.deps
    if (envelope.sender !== address) {
      throw new HttpError({ code: 'sender_mismatch', message: 'The envelope names another sender than the signed-in wallet.' })
    }
    const skew = Math.abs(Date.parse(envelope.timestamp) - clock.now().getTime())
    if (skew > limits.maxClockSkewSeconds * 1000) {
      throw new HttpError({
        code: 'clock_skew',
        message: 'The message timestamp is too far from the server time; check your clock.',
      })
    }
    const room = await roomCache.room(database.db, envelope.room)
    if (!room || room.room.deleted) throw new HttpError({ code: 'room_not_found', message: 'No such room.' })
    await roomCache.members(database.db, room, [address])
    const type = envelopeType(envelope)
    // A quick refusal before any signature work; the writer checks every rule in commit order.
    const member = room.member(address)
    if (isBanned(member, clock.now().toISOString()))
      throw new HttpError({ code: 'banned', message: 'You are banned from this room.' })
    if (member.status !== 'member') {
      // Who talks to whom is not told: a 1:1 room one is not in does not exist for one.
      if (room.room.type === 'p2p') throw new HttpError({ code: 'room_not_found', message: 'No such room.' })
      throw new HttpError({ code: 'not_member', message: 'You are not a member of this room.' })
    }
    const base = {
      id: envelope.id,
      roomId: envelope.room,
      sender: envelope.sender,
      timestamp: envelope.timestamp,
      type,
      ref: envelope.ref ?? null,
      cid: block.cid,
      envelope: block.text,
    }
    let pending: PendingMessage
    if (envelope.suite === SIGNED_SUITE) {
      pending = { ...base, ...(await this.checkSigned(room, envelope, content)), receiver: null, e2ee: false, epoch: null }
    } else if (envelope.suite === GROUP_SUITE) {
      await this.checkGroup(room, envelope, content)
      pending = { ...base, receiver: null, content: null, e2ee: true, epoch: envelope.epoch }
    } else {
      if (content !== undefined) {
        throw new HttpError({
          code: 'invalid_envelope',
          message: 'An encrypted message carries its content inside its ciphertext.',
        })
      }
      await this.checkPair(room, address, envelope)
      pending = { ...base, receiver: envelope.receiver, content: null, e2ee: envelope.suite !== RELAY_SUITE, epoch: null }
    }
    const senderKey = await this.deps.keys.getCurrent(address)
    if (!senderKey || senderKey.cid !== envelope.senderKey) {
      throw new HttpError({ code: 'stale_key', message: 'senderKey is not your current key bundle; fetch it and retry.' })
    }
    if (!(await verifyEnvelopeSignature(this.deps.crypto, envelope, senderKey.ed25519, block.signingBytes))) {
      throw new HttpError({ code: 'invalid_signature', message: "The envelope signature does not verify with the sender's key." })
    }
    return pending
  }

  /** Rooms without end-to-end encryption: the content is the block the envelope names. */
  private async checkSigned(
    room: CachedRoom,
    envelope: SignedEnvelope,
    content: MessageContent | undefined,
  ): Promise<Pick<PendingMessage, 'content' | 'text'>> {
    if (room.room.type === 'p2p') {
      throw new HttpError({ code: 'invalid_envelope', message: '1:1 rooms take end-to-end encrypted envelopes only.' })
    }
    if (content === undefined) {
      throw new HttpError({ code: 'invalid_envelope', message: 'A message of a room without E2EE carries its content.' })
    }
    let checked: MessageContent
    try {
      checked = checkMessageContent(content)
    } catch (cause) {
      // The request schema counts code points, content limits count UTF-16 units: this catches the gap.
      throw new HttpError({
        code: 'validation_failed',
        message: 'The content is not a DMTP message content, or is past its limits.',
        cause,
      })
    }
    const contentBlock = toBlock(checked, this.deps.crypto.sha256)
    if (contentBlock.cid !== envelope.content) {
      throw new HttpError({ code: 'invalid_envelope', message: 'The content is not the block the envelope names.' })
    }
    if (checked.type !== contentTypeOf(envelopeType(envelope))) {
      throw new HttpError({
        code: 'invalid_envelope',
        message: `A ${envelopeType(envelope)} carries ${contentTypeOf(envelopeType(envelope))} content.`,
      })
    }
    if (envelope.logHead !== room.row.log_head && !(await isLogEntryOf(this.deps.database.db, room.row.id, envelope.logHead))) {
      throw new HttpError({ code: 'invalid_envelope', message: "logHead is not an entry of this room's membership log." })
    }
    return {
      content: { text: contentBlock.text, cid: contentBlock.cid },
      text: checked.type === 'text' ? checked.text : undefined,
    }
  }

  /**
   * Private rooms with E2EE on: the server cannot read the message, but checks it names this
   * room's log and is under the current epoch (the writer checks the epoch again in commit order,
   * with the room's due state: `stale_epoch` tells the sender what to rotate from).
   */
  private async checkGroup(room: CachedRoom, envelope: GroupEnvelope, content: MessageContent | undefined): Promise<void> {
    if (room.room.type !== 'private') {
      throw new HttpError({ code: 'invalid_envelope', message: 'Only private rooms take end-to-end encrypted group envelopes.' })
    }
    if (content !== undefined) {
      throw new HttpError({
        code: 'invalid_envelope',
        message: 'An encrypted message carries its content inside its ciphertext.',
      })
    }
    if (envelope.logHead !== room.row.log_head && !(await isLogEntryOf(this.deps.database.db, room.row.id, envelope.logHead))) {
      throw new HttpError({ code: 'invalid_envelope', message: "logHead is not an entry of this room's membership log." })
    }
  }

  private async checkPair(room: CachedRoom, address: string, envelope: PairEnvelope): Promise<void> {
    if (room.room.type !== 'p2p') {
      throw new HttpError({ code: 'invalid_envelope', message: 'Group rooms take signed room envelopes, not 1:1 envelopes.' })
    }
    if (envelope.receiver === address) {
      throw new HttpError({ code: 'invalid_envelope', message: 'A message cannot be sent to its own sender.' })
    }
    if (room.member(envelope.receiver).status !== 'member') {
      throw new HttpError({ code: 'room_not_found', message: 'The receiver is not the other member of this conversation.' })
    }
    if (envelope.suite === MIGRATED_SUITE) {
      throw new HttpError({
        code: 'invalid_envelope',
        message: 'Migrated envelopes are uploaded by their receiver to /v1/migrations.',
      })
    }
    const receiverKey = await this.deps.keys.getCurrent(envelope.receiver)
    if (envelope.suite === RELAY_SUITE) {
      // Pattern β: only while the receiver has no keys, and only to the server's current key.
      if (receiverKey) {
        throw new HttpError({
          code: 'recipient_registered',
          message: `${envelope.receiver} has set up DMTP: send end-to-end encrypted instead.`,
        })
      }
      if (envelope.receiverKey !== this.deps.serverKey.get().cid) {
        throw new HttpError({
          code: 'stale_key',
          message: "receiverKey is not the server's current key bundle; fetch it and retry.",
        })
      }
      return
    }
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

  /** A room's positions (messages and log entries) by `seq`. */
  async history(
    address: string,
    roomId: string,
    query: { cursor?: number | undefined; limit: number; order: 'asc' | 'desc' },
  ): Promise<{ messages: RoomRecord[]; nextCursor: number | null }> {
    await this.deps.rooms.requireReader(address, roomId)
    const rows = await listRoomRecords(this.deps.database.db, {
      roomId,
      cursor: query.cursor,
      limit: query.limit,
      order: query.order,
    })
    const last = rows.at(-1)
    return { messages: rows.map((row) => toRoomRecord(row)), nextCursor: rows.length === query.limit && last ? last.seq : null }
  }

  /** Stream entries after `after`, as ready-made JSON (the stream splices them into frames). */
  streamPage(address: string, after: number, limit: number): Promise<StreamEntry[]> {
    return listStreamPage(this.deps.database.db, address, after, limit)
  }

  async inbox(address: string, after: number, limit: number) {
    const [entries, state] = await Promise.all([this.streamPage(address, after, limit), this.streamState(address)])
    return {
      entries: entries.map((entry) => ({ cursor: entry.pos, message: JSON.parse(entry.recordJson) as RoomRecord })),
      latest: Math.max(state.latest, entries.at(-1)?.pos ?? 0),
    }
  }

  streamState(address: string): Promise<{ latest: number; acked: number }> {
    return findStreamState(this.deps.database.db, address)
  }

  /**
   * Records that the user has received everything up to `cursor` (never moves back).
   * @returns false, recording nothing, for a cursor beyond the server's newest position.
   */
  async ack(address: string, cursor: number): Promise<boolean> {
    const { db } = this.deps.database
    // One key lookup: acks come every 200 ms per stream.
    const newest = await db.selectFrom('counters').select('value').where('name', '=', 'pos').executeTakeFirst()
    if (cursor > (newest?.value ?? 0)) return false
    await db
      .insertInto('users')
      .values({ address, acked_pos: cursor, created_at: this.deps.clock.now().toISOString() })
      .onConflict((oc) => oc.column('address').doUpdateSet({ acked_pos: cursor }).where('users.acked_pos', '<', cursor))
      .execute()
    return true
  }
}
