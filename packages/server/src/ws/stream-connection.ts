/**
 * One client's live stream (`/v1/stream`): every position of every room the wallet is in
 * (messages, actions and membership-log entries), in stream order, history then live, each once.
 *
 * After `hello` (token and an optional cursor) the connection subscribes FIRST: to each of the
 * wallet's rooms, and to its membership notices (so a room it joins anywhere is added, and one it
 * leaves or is removed from is dropped after delivering that removal). Then it replays what was
 * stored after the cursor, merged across rooms, then flushes what arrived meanwhile. Per room,
 * positions (`seq`) are gapless: a live event that does not follow the last one delivered makes
 * the connection read the missing range from the database first (the broker only wakes; the
 * database is the truth). Nothing is delivered twice.
 *
 * Sends (`send` frames) are answered with `sent` once durable. What a connection holds is bounded
 * (`limits.stream`): a consumer that cannot keep up is disconnected with 1013 rather than queued
 * for (`stream-writer.ts`); it reconnects and resumes from its cursor, losing nothing. A client
 * sending frames faster than its bucket allows, or a wallet opening more streams than allowed, is
 * told so in an error frame and closed with 1008.
 */

import { type ClientFrame, clientFrameSchema } from '@dmtp/protocol'
import type { WebSocket } from 'ws'
import type { AppContext } from '../context.js'
import { HttpError, toHttpError } from '../errors.js'
import {
  type MemberNotice,
  type MigrationsNotice,
  memberChannel,
  migrationsChannel,
  type RoomStreamEvent,
  roomChannel,
} from '../ports/pub-sub/channels.js'
import { listRoomRecords, type StreamEntry } from '../services/messages/reader.js'
import { type RoomRow, roomRecordJson, streamFrame } from '../services/messages/records.js'
import { FrameBucket, type WalletStreams } from './stream-limits.js'
import { StreamWriter } from './stream-writer.js'

export const CLOSE = {
  normal: 1000,
  goingAway: 1001,
  policyViolation: 1008,
  tryAgainLater: 1013,
  badHello: 4400,
  unauthorized: 4401,
  helloTimeout: 4408,
} as const

/**
 * Replay pages, in rows: a page that fills the peer's buffer before its end is dropped and read
 * again later, and the next page is cut to what was sent of it; a page sent whole doubles the next.
 */
const PAGE = 500
const FIRST_PAGE = 64
const MIN_PAGE = 16
const REAUTH_MS = 30_000
const HEARTBEAT_MS = 30_000

export class StreamConnection {
  private state: 'hello' | 'replaying' | 'live' | 'closed' = 'hello'
  /** Set by the first hello, before its token is checked, so a second hello cannot race it. */
  private greeted = false
  private address = ''
  private token = ''
  /** The newest position delivered per room (per-room seqs are gapless). */
  private readonly lastSeq = new Map<string, number>()
  /** Live events of a room that arrived while its earlier positions were being read. */
  private readonly pending: RoomStreamEvent[] = []
  private readonly rooms = new Map<string, () => void>()
  private unsubscribe: (() => void) | undefined
  /** Rooms whose missing positions are being read from the database, and what queued behind. */
  private readonly filling = new Map<string, RoomStreamEvent[]>()
  /** Frame bytes of the live events waiting in `pending` and `filling`. */
  private heldBytes = 0
  /** Whether this connection counts towards its wallet's streams. */
  private counted = false
  private ackTimer: NodeJS.Timeout | undefined
  private ackCursor = 0
  private readonly timers: NodeJS.Timeout[] = []
  private readonly writer: StreamWriter
  private readonly frames: FrameBucket

  constructor(
    private readonly ctx: AppContext,
    private readonly socket: WebSocket,
    private readonly streams: WalletStreams,
  ) {
    this.writer = new StreamWriter(socket, ctx.config.limits.stream, () => this.slowConsumer())
    this.frames = FrameBucket.fromConfig(ctx.config)
    this.timers.push(
      setTimeout(() => this.state === 'hello' && this.close(CLOSE.helloTimeout, 'no hello'), ctx.config.limits.helloTimeoutMs),
    )
    let alive = true
    socket.on('pong', () => {
      alive = true
    })
    // A peer that vanished without closing (sleeping laptop, dead NAT) is found by a missed pong.
    this.timers.push(
      setInterval(() => {
        if (!alive) return void socket.terminate()
        alive = false
        socket.ping()
      }, HEARTBEAT_MS),
    )
    socket.on('message', (data, isBinary) => this.onMessage(isBinary ? '' : data.toString()))
    socket.on('close', () => this.dispose())
    socket.on('error', () => this.dispose())
  }

  private onMessage(raw: string): void {
    if (this.state === 'closed') return
    if (!this.frames.take()) {
      this.sendError(new HttpError({ code: 'too_many_frames', message: 'Too many frames on this stream; slow down.' }))
      this.close(CLOSE.policyViolation, 'too many frames')
      return
    }
    let frame: ClientFrame
    try {
      const parsed = clientFrameSchema.safeParse(JSON.parse(raw))
      if (!parsed.success) {
        const issue = parsed.error.issues[0]
        this.sendError(
          new HttpError({
            code: 'validation_failed',
            message: `Invalid frame: ${issue?.path.join('.') || 'frame'}: ${issue?.message}`,
          }),
          refOf(raw),
        )
        if (this.state === 'hello') this.close(CLOSE.badHello, 'expected hello')
        return
      }
      frame = parsed.data
    } catch {
      this.sendError(new HttpError({ code: 'invalid_json', message: 'Frames must be JSON text.' }))
      if (this.state === 'hello') this.close(CLOSE.badHello, 'expected hello')
      return
    }
    switch (frame.type) {
      case 'hello':
        void this.hello(frame.token, frame.cursor)
        break
      case 'send':
        void this.send(frame.ref, frame)
        break
      case 'ack':
        this.ack(frame.cursor)
        break
      case 'ping':
        this.write(JSON.stringify({ type: 'pong', ...(frame.ref ? { ref: frame.ref } : {}) }))
        break
    }
  }

  private async hello(token: string, cursor: number | undefined): Promise<void> {
    if (this.greeted) {
      return this.sendError(new HttpError({ code: 'invalid_request', message: 'Already said hello.' }))
    }
    this.greeted = true
    try {
      const session = await this.ctx.auth.authenticate(token)
      this.address = session.address
      this.token = token
    } catch (error) {
      this.sendError(toHttpError(error))
      return this.close(CLOSE.unauthorized, 'unauthorized')
    }
    // The peer may have left while the token was checked: nothing may be subscribed for it then.
    if (this.state === 'closed') return
    if (!this.streams.acquire(this.address)) {
      this.sendError(
        new HttpError({
          code: 'too_many_streams',
          message: `This wallet has ${this.ctx.config.limits.stream.perWallet} streams open already; close one first.`,
        }),
      )
      return this.close(CLOSE.policyViolation, 'too many streams')
    }
    this.counted = true
    this.timers.push(setInterval(() => void this.reauthenticate(), REAUTH_MS))
    this.state = 'replaying'
    const { pubSub, database } = this.ctx
    const unsubscribeMember = pubSub.subscribe(memberChannel(this.address), (notice) =>
      this.onMemberNotice(notice as MemberNotice),
    )
    const unsubscribeMigrations = pubSub.subscribe(migrationsChannel(this.address), (event) => {
      const { pending } = event as MigrationsNotice
      if (pending > 0) this.write(JSON.stringify({ type: 'migrations', pending }))
    })
    this.unsubscribe = () => {
      unsubscribeMember()
      unsubscribeMigrations()
      for (const unsubscribe of this.rooms.values()) unsubscribe()
      this.rooms.clear()
    }
    const memberships = await database.db
      .selectFrom('room_members')
      .select('room_id')
      .where('address', '=', this.address)
      .where('status', '=', 'member')
      .execute()
    for (const { room_id } of memberships) this.addRoom(room_id)
    const state = await this.ctx.messages.streamState(this.address)
    const from = Math.min(cursor ?? state.acked, state.latest)
    this.write(JSON.stringify({ type: 'ready', address: this.address, cursor: from, latest: state.latest }))
    await this.replay(from)
  }

  /**
   * History is read from the database, so a replay waits for its peer instead of closing it, and
   * holds nothing while it waits (what was not sent of a page is read again); but a peer that
   * takes nothing for long is a slow consumer like any other.
   */
  private async replay(from: number): Promise<void> {
    let after = from
    let limit = FIRST_PAGE
    for (;;) {
      // The page is referenced only inside sendPage, so it is garbage while this waits.
      const { sent, rows, last } = this.sendPage(await this.ctx.messages.streamPage(this.address, after, limit))
      after = last ?? after
      if (this.state === 'closed') return
      if (sent === rows) {
        if (rows < limit) break
        limit = Math.min(PAGE, limit * 2)
      } else {
        limit = Math.max(MIN_PAGE, sent)
        if (!(await this.writer.drained())) return this.slowConsumer()
      }
    }
    this.state = 'live'
    for (const event of this.pending.splice(0)) {
      this.heldBytes -= event.frame.length
      this.onRoomEvent(event)
    }
    this.write(JSON.stringify({ type: 'caught_up', cursor: after }))
    const pending = await this.ctx.migrations.pending(this.address)
    if (pending > 0) this.write(JSON.stringify({ type: 'migrations', pending }))
  }

  /** Sends a replay page until the peer's backlog reaches half its buffer; `last`: the position sent last. */
  private sendPage(page: StreamEntry[]): { sent: number; rows: number; last: number | undefined } {
    const half = this.ctx.config.limits.stream.bufferBytes / 2
    let sent = 0
    let last: number | undefined
    for (const entry of page) {
      if (this.state === 'closed' || this.writer.backlog > half) break
      this.deliver(entry.roomId, entry.seq, streamFrame(entry.pos, entry.recordJson))
      last = entry.pos
      sent++
    }
    return { sent, rows: page.length, last }
  }

  private addRoom(roomId: string): void {
    if (this.rooms.has(roomId) || this.state === 'closed') return
    this.rooms.set(
      roomId,
      this.ctx.pubSub.subscribe(roomChannel(roomId), (event) => this.onRoomEvent(event as RoomStreamEvent)),
    )
  }

  private onMemberNotice(notice: MemberNotice): void {
    if (notice.status === 'member') {
      this.addRoom(notice.roomId)
      // The join is the first position this stream owes for the room (nothing from before it,
      // such as what was said while this wallet was away).
      const last = this.lastSeq.get(notice.roomId)
      if (last === undefined || last < notice.seq - 1) this.lastSeq.set(notice.roomId, notice.seq - 1)
      return
    }
    if (notice.status === 'invited') {
      if (notice.record && this.state !== 'closed') {
        this.write(`{"type":"invitation","room":${JSON.stringify(notice.roomId)},"record":${notice.record}}`)
      }
      return
    }
    // The removal itself was delivered before this notice; nothing after it is.
    this.rooms.get(notice.roomId)?.()
    this.rooms.delete(notice.roomId)
  }

  private onRoomEvent(event: RoomStreamEvent): void {
    if (this.state !== 'live') {
      if (this.state === 'replaying') this.hold(this.pending, event)
      return
    }
    const last = this.lastSeq.get(event.roomId)
    // A room left during the replay: only what the replay owed (up to the removal) was delivered.
    if (last === undefined && !this.rooms.has(event.roomId)) return
    if (this.filling.size > 0) {
      const queued = this.filling.get(event.roomId)
      if (queued) {
        this.hold(queued, event)
        return
      }
    }
    if (last !== undefined && event.seq > last + 1) return void this.fill(event.roomId, last, event)
    if (last !== undefined && event.seq <= last) return
    this.lastSeq.set(event.roomId, event.seq)
    // Every member's socket sends the same frame: it is encoded once, by the first of them.
    event.bytes ??= Buffer.from(event.frame)
    this.write(event.bytes)
  }

  /** Keeps a live event for later, unless this connection would then hold more than its buffer allows. */
  private hold(queue: RoomStreamEvent[], event: RoomStreamEvent): void {
    this.heldBytes += event.frame.length
    if (this.heldBytes > this.ctx.config.limits.stream.bufferBytes) {
      this.slowConsumer()
      return
    }
    queue.push(event)
  }

  /** The database has everything this connection owes: it is closed, and its client resumes from its cursor. */
  private slowConsumer(): void {
    if (this.state === 'closed') return
    this.ctx.logger.info({ buffered: this.socket.bufferedAmount, held: this.heldBytes }, 'stream closed: slow consumer')
    this.close(CLOSE.tryAgainLater, 'slow consumer: reconnect and resume')
  }

  /** Reads a room's positions after `last` that the broker did not bring, then what waited. */
  private async fill(roomId: string, last: number, event: RoomStreamEvent): Promise<void> {
    const queued = [event]
    this.heldBytes += event.frame.length
    this.filling.set(roomId, queued)
    try {
      const rows = await listRoomRecords(this.ctx.database.db, {
        roomId,
        cursor: last,
        limit: event.seq - last - 1,
        order: 'asc',
      })
      for (const row of rows) this.deliver(roomId, row.seq, streamFrame(row.pos, roomRecordJson(row as RoomRow)))
    } catch (error) {
      this.ctx.logger.warn({ err: error }, 'stream gap read failed')
      return this.close(CLOSE.tryAgainLater, 'could not read the database: reconnect and resume')
    } finally {
      this.filling.delete(roomId)
    }
    if (this.state === 'closed') return
    for (const next of queued) {
      this.heldBytes -= next.frame.length
      this.onRoomEvent(next)
    }
  }

  private deliver(roomId: string, seq: number, frame: string): void {
    const last = this.lastSeq.get(roomId)
    if (last !== undefined && seq <= last) return
    this.lastSeq.set(roomId, seq)
    this.write(frame)
  }

  private async send(ref: string, frame: Extract<ClientFrame, { type: 'send' }>): Promise<void> {
    if (this.state === 'hello') {
      return this.sendError(new HttpError({ code: 'auth_required', message: 'Say hello with a token first.' }), ref)
    }
    try {
      await this.ctx.auth.authenticate(this.token)
      const result = await this.ctx.messages.send(this.address, frame.envelope, frame.content)
      this.write(JSON.stringify({ type: 'sent', ref, result }))
    } catch (error) {
      const http = toHttpError(error)
      if (http.status >= 500) this.ctx.logger.error({ err: error }, 'stream send failed')
      this.sendError(http, ref)
      if (http.status === 401) this.close(CLOSE.unauthorized, http.code)
    }
  }

  private ack(cursor: number): void {
    if (this.state === 'hello') return
    this.ackCursor = Math.max(this.ackCursor, cursor)
    // Acks arrive as fast as messages do; one write per 200 ms is plenty for a resume point.
    this.ackTimer ??= setTimeout(() => {
      this.ackTimer = undefined
      void this.ctx.messages.ack(this.address, this.ackCursor).catch((err) => this.ctx.logger.warn({ err }, 'ack failed'))
    }, 200)
  }

  private async reauthenticate(): Promise<void> {
    try {
      await this.ctx.auth.authenticate(this.token)
    } catch (error) {
      this.sendError(toHttpError(error))
      this.close(CLOSE.unauthorized, 'session ended')
    }
  }

  private sendError(error: HttpError, ref?: string): void {
    this.write(
      JSON.stringify({
        type: 'error',
        ...(ref ? { ref } : {}),
        error: { code: error.code, message: error.shortMessage, ...(error.data ? { details: error.data } : {}) },
      }),
    )
  }

  private write(text: string | Buffer): void {
    if (this.state !== 'closed') this.writer.write(text)
  }

  close(code: number, reason: string): void {
    this.writer.close(code, reason)
    this.dispose()
  }

  /** Lets go of everything held for this connection at once (its socket's buffers go with the socket). */
  private dispose(): void {
    if (this.state === 'closed') return
    this.state = 'closed'
    this.unsubscribe?.()
    this.pending.length = 0
    this.filling.clear()
    this.lastSeq.clear()
    this.heldBytes = 0
    if (this.counted) this.streams.release(this.address)
    for (const timer of this.timers) clearTimeout(timer)
    if (this.ackTimer) {
      clearTimeout(this.ackTimer)
      void this.ctx.messages.ack(this.address, this.ackCursor).catch(() => {})
    }
  }
}

function refOf(raw: string): string | undefined {
  const match = /"ref"\s*:\s*"([^"]{1,64})"/.exec(raw)
  return match?.[1]
}
