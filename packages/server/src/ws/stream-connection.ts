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
 * Sends (`send` frames) are answered with `sent` once durable. A consumer that cannot keep up is
 * disconnected with 1013; it reconnects and resumes from its cursor, losing nothing.
 */

import type { Socket } from 'node:net'
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
import { listRoomRecords } from '../services/messages/reader.js'
import { type RoomRow, roomRecordJson, streamFrame } from '../services/messages/records.js'

export const CLOSE = {
  normal: 1000,
  goingAway: 1001,
  tryAgainLater: 1013,
  badHello: 4400,
  unauthorized: 4401,
  helloTimeout: 4408,
} as const

const PAGE = 500
const HIGH_WATER = 1 << 20
const DISCONNECT_WATER = 16 << 20
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
  private ackTimer: NodeJS.Timeout | undefined
  private ackCursor = 0
  private corked = false
  private readonly timers: NodeJS.Timeout[] = []

  constructor(
    private readonly ctx: AppContext,
    private readonly socket: WebSocket,
  ) {
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

  private async replay(from: number): Promise<void> {
    let after = from
    for (;;) {
      const page = await this.ctx.messages.streamPage(this.address, after, PAGE)
      for (const entry of page) {
        this.deliver(entry.roomId, entry.seq, streamFrame(entry.pos, entry.recordJson))
        after = entry.pos
      }
      if (page.length < PAGE || this.state === 'closed') break
      await this.drained()
    }
    if (this.state === 'closed') return
    this.state = 'live'
    for (const event of this.pending.splice(0)) this.onRoomEvent(event)
    this.write(JSON.stringify({ type: 'caught_up', cursor: after }))
    const pending = await this.ctx.migrations.pending(this.address)
    if (pending > 0) this.write(JSON.stringify({ type: 'migrations', pending }))
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
    // The removal itself was delivered before this notice; nothing after it is.
    this.rooms.get(notice.roomId)?.()
    this.rooms.delete(notice.roomId)
  }

  private onRoomEvent(event: RoomStreamEvent): void {
    if (this.state !== 'live') {
      if (this.state === 'replaying') this.pending.push(event)
      return
    }
    const last = this.lastSeq.get(event.roomId)
    // A room left during the replay: only what the replay owed (up to the removal) was delivered.
    if (last === undefined && !this.rooms.has(event.roomId)) return
    if (this.filling.size > 0) {
      const queued = this.filling.get(event.roomId)
      if (queued) return void queued.push(event)
    }
    if (last !== undefined && event.seq > last + 1) return void this.fill(event.roomId, last, event)
    if (last !== undefined && event.seq <= last) return
    this.lastSeq.set(event.roomId, event.seq)
    // Every member's socket sends the same frame: it is encoded once, by the first of them.
    event.bytes ??= Buffer.from(event.frame)
    this.write(event.bytes)
    if (this.socket.bufferedAmount > DISCONNECT_WATER) this.close(CLOSE.tryAgainLater, 'slow consumer: reconnect and resume')
  }

  /** Reads a room's positions after `last` that the broker did not bring, then what waited. */
  private async fill(roomId: string, last: number, event: RoomStreamEvent): Promise<void> {
    const queued = [event]
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
    for (const next of queued) this.onRoomEvent(next)
  }

  private deliver(roomId: string, seq: number, frame: string): void {
    const last = this.lastSeq.get(roomId)
    if (last !== undefined && seq <= last) return
    this.lastSeq.set(roomId, seq)
    this.write(frame)
    if (this.socket.bufferedAmount > DISCONNECT_WATER) this.close(CLOSE.tryAgainLater, 'slow consumer: reconnect and resume')
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

  private async drained(): Promise<void> {
    while (this.socket.bufferedAmount > HIGH_WATER && this.state !== 'closed') {
      await new Promise((resolve) => setTimeout(resolve, 5))
    }
  }

  private sendError(error: HttpError, ref?: string): void {
    this.write(
      JSON.stringify({ type: 'error', ...(ref ? { ref } : {}), error: { code: error.code, message: error.shortMessage } }),
    )
  }

  private write(text: string | Buffer): void {
    if (this.state === 'closed' || this.socket.readyState !== this.socket.OPEN) return
    this.corkUntilNextTick()
    // Bytes of a text frame (JSON): sent as text, not binary.
    this.socket.send(text, { binary: false })
  }

  /**
   * One commit delivers many frames to the same socket (acks, own echoes, messages); corking the
   * TCP socket until the next tick sends them in one writev instead of one syscall each.
   */
  private corkUntilNextTick(): void {
    if (this.corked) return
    // `_socket` is ws's underlying net.Socket (an internal, stable across ws 8).
    const tcp = (this.socket as unknown as { _socket?: Socket })._socket
    if (!tcp) return
    this.corked = true
    tcp.cork()
    process.nextTick(() => {
      this.corked = false
      tcp.uncork()
    })
  }

  close(code: number, reason: string): void {
    if (this.socket.readyState === this.socket.OPEN) this.socket.close(code, reason)
    this.dispose()
  }

  private dispose(): void {
    if (this.state === 'closed') return
    this.state = 'closed'
    this.unsubscribe?.()
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
