/**
 * One client's live stream (`/v1/stream`). After `hello` (token and an optional cursor) the
 * server subscribes to the user's inbox FIRST, then replays history after the cursor, then flushes
 * what arrived meanwhile, skipping anything already sent. Inbox cursors are gapless and committed
 * in order, so the client sees every message exactly once, with no gap between history and live.
 *
 * Sends (`send` frames) are answered with `sent` once durable. A consumer that cannot keep up is
 * disconnected with 1013; it reconnects and resumes from its cursor, losing nothing.
 */

import type { Socket } from 'node:net'
import { type ClientFrame, clientFrameSchema } from '@dmtp/protocol'
import type { WebSocket } from 'ws'
import type { AppContext } from '../context.js'
import { HttpError, toHttpError } from '../errors.js'
import type { InboxEvent } from '../services/messages/message-writer.js'
import { migrationsChannel } from '../services/migration/migration-service.js'

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
  private lastSent = 0
  private pending: InboxEvent[] = []
  private unsubscribe: (() => void) | undefined
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
        void this.send(frame.ref, frame.envelope)
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
    const state = await this.ctx.messages.inboxState(this.address)
    const from = Math.min(cursor ?? state.acked, state.latest)
    this.lastSent = from
    this.state = 'replaying'
    const unsubscribeInbox = this.ctx.pubSub.subscribe(`inbox:${this.address}`, (event) => this.onEvent(event as InboxEvent))
    const unsubscribeMigrations = this.ctx.pubSub.subscribe(migrationsChannel(this.address), (event) => {
      const { pending } = event as { pending: number }
      if (pending > 0) this.write(JSON.stringify({ type: 'migrations', pending }))
    })
    this.unsubscribe = () => {
      unsubscribeInbox()
      unsubscribeMigrations()
    }
    this.write(JSON.stringify({ type: 'ready', address: this.address, cursor: from, latest: state.latest }))
    await this.replay(from)
  }

  private async replay(from: number): Promise<void> {
    let after = from
    for (;;) {
      const page = await this.ctx.messages.inboxPage(this.address, after, PAGE)
      for (const entry of page) {
        if (entry.cursor > this.lastSent) this.deliver(entry.cursor, entry.recordJson)
        after = entry.cursor
      }
      if (page.length < PAGE || this.state === 'closed') break
      await this.drained()
    }
    if (this.state === 'closed') return
    for (const event of this.pending) if (event.cursor > this.lastSent) this.deliver(event.cursor, event.recordJson)
    this.pending = []
    this.state = 'live'
    this.write(JSON.stringify({ type: 'caught_up', cursor: this.lastSent }))
    const pending = await this.ctx.migrations.pending(this.address)
    if (pending > 0) this.write(JSON.stringify({ type: 'migrations', pending }))
  }

  private onEvent(event: InboxEvent): void {
    if (this.state === 'replaying') this.pending.push(event)
    else if (this.state === 'live' && event.cursor > this.lastSent) this.deliver(event.cursor, event.recordJson)
  }

  private deliver(cursor: number, recordJson: string): void {
    this.lastSent = cursor
    this.write(`{"type":"message","cursor":${cursor},"message":${recordJson}}`)
    if (this.socket.bufferedAmount > DISCONNECT_WATER) this.close(CLOSE.tryAgainLater, 'slow consumer: reconnect and resume')
  }

  private async send(ref: string, envelope: Parameters<AppContext['messages']['send']>[1]): Promise<void> {
    if (this.state === 'hello') {
      return this.sendError(new HttpError({ code: 'auth_required', message: 'Say hello with a token first.' }), ref)
    }
    try {
      await this.ctx.auth.authenticate(this.token)
      const result = await this.ctx.messages.send(this.address, envelope)
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

  private write(text: string): void {
    if (this.state === 'closed' || this.socket.readyState !== this.socket.OPEN) return
    this.corkUntilNextTick()
    this.socket.send(text)
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
