/**
 * The WebSocket transport behind `stream()`: one connection that says hello with a fresh session
 * token and a resume cursor, reconnects with backoff when it drops, and multiplexes sends
 * (`send` → `sent`/`error` by `ref`). It reports every state change, so an app can show
 * "connection lost, reconnecting" instead of silently missing messages.
 */
import {
  ApiError,
  type Envelope,
  type MessageContent,
  type SendMessageResult,
  type ServerFrame,
  serverFrameSchema,
} from '@dmtp/protocol'
import { WebSocket as IsoWebSocket } from 'isows'

export type ConnectionState =
  | { status: 'connecting'; attempt: number }
  | { status: 'connected'; cursor: number; latest: number; resumed: boolean }
  | { status: 'disconnected'; reason: string; retryInMs: number }
  | { status: 'closed'; reason: string }

export type StreamSocketOptions = {
  url: string
  WebSocket?: typeof globalThis.WebSocket | undefined
  token: () => Promise<string>
  /** Called when the server refused the session, before reconnecting with a new one. */
  onSessionRejected: () => Promise<void>
  /** The cursor to resume after, asked at every (re)connection. */
  resumeCursor: () => number | undefined
  onFrame: (frame: ServerFrame) => void
  onState: (state: ConnectionState) => void
}

const SESSION_CODES = new Set(['invalid_token', 'token_expired', 'token_revoked', 'auth_required'])
const PING_EVERY_MS = 15_000
const PONG_TIMEOUT_MS = 10_000
const SEND_TIMEOUT_MS = 30_000

export class StreamSocket {
  private socket: WebSocket | undefined
  private closed = false
  private connected = false
  private attempt = 0
  private everConnected = false
  private sessionRejected = false
  private refCounter = 0
  private readonly pending = new Map<
    string,
    { resolve: (r: SendMessageResult) => void; reject: (e: unknown) => void; timer: ReturnType<typeof setTimeout> }
  >()
  private heartbeat: ReturnType<typeof setInterval> | undefined
  private reconnectTimer: ReturnType<typeof setTimeout> | undefined
  private lastFrameAt = 0

  constructor(private readonly options: StreamSocketOptions) {}

  get isConnected(): boolean {
    return this.connected
  }

  start(): void {
    void this.connect()
  }

  close(reason = 'closed by the app'): void {
    if (this.closed) return
    this.closed = true
    this.connected = false
    clearInterval(this.heartbeat)
    clearTimeout(this.reconnectTimer)
    this.failPending('the stream was closed')
    this.socket?.close(1000, 'bye')
    this.options.onState({ status: 'closed', reason })
  }

  /** Sends an envelope over the stream; resolves with the server's acknowledgement. */
  /** Sends an envelope (and the content block a room without E2EE needs) over the stream. */
  sendEnvelope(envelope: Envelope, content?: MessageContent): Promise<SendMessageResult> {
    const socket = this.socket
    if (!this.connected || !socket) return Promise.reject(unavailable('the stream is not connected'))
    const ref = `s${++this.refCounter}`
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pending.delete(ref)
        reject(unavailable('no acknowledgement from the server'))
      }, SEND_TIMEOUT_MS)
      this.pending.set(ref, { resolve, reject, timer })
      socket.send(JSON.stringify({ type: 'send', ref, envelope, ...(content ? { content } : {}) }))
    })
  }

  ack(cursor: number): void {
    if (this.connected) this.socket?.send(JSON.stringify({ type: 'ack', cursor }))
  }

  private async connect(): Promise<void> {
    if (this.closed) return
    this.attempt++
    this.options.onState({ status: 'connecting', attempt: this.attempt })
    let token: string
    try {
      token = await this.options.token()
    } catch (error) {
      return this.scheduleReconnect(error instanceof Error ? error.message : 'sign-in failed')
    }
    if (this.closed) return
    const Impl = this.options.WebSocket ?? (IsoWebSocket as unknown as typeof globalThis.WebSocket)
    const socket = new Impl(this.options.url)
    this.socket = socket
    let reason = 'connection lost'
    socket.onopen = () => {
      const cursor = this.options.resumeCursor()
      socket.send(JSON.stringify({ type: 'hello', token, ...(cursor === undefined ? {} : { cursor }) }))
    }
    socket.onmessage = (event) => {
      this.lastFrameAt = Date.now()
      let frame: ServerFrame
      try {
        frame = serverFrameSchema.parse(JSON.parse(String(event.data)))
      } catch {
        reason = 'the server sent a malformed frame'
        socket.close(4000, 'malformed frame')
        return
      }
      this.onFrame(frame)
    }
    socket.onerror = () => {
      reason = 'connection error'
    }
    socket.onclose = (event) => {
      if (this.socket !== socket) return
      this.connected = false
      clearInterval(this.heartbeat)
      this.failPending('the connection dropped before the server answered')
      if (this.closed) return
      if (event.code === 4401 || this.sessionRejected) {
        this.sessionRejected = false
        void this.options.onSessionRejected().finally(() => this.scheduleReconnect('session expired; signing in again'))
        return
      }
      this.scheduleReconnect(event.reason || reason)
    }
  }

  private onFrame(frame: ServerFrame): void {
    switch (frame.type) {
      case 'ready':
        this.connected = true
        this.options.onState({ status: 'connected', cursor: frame.cursor, latest: frame.latest, resumed: this.everConnected })
        this.everConnected = true
        this.attempt = 0
        this.startHeartbeat()
        break
      case 'sent':
      case 'error': {
        const waiting = frame.ref ? this.pending.get(frame.ref) : undefined
        if (waiting && frame.ref) {
          clearTimeout(waiting.timer)
          this.pending.delete(frame.ref)
          if (frame.type === 'sent') waiting.resolve(frame.result)
          else waiting.reject(new ApiError(frame.error))
        } else if (frame.type === 'error' && SESSION_CODES.has(frame.error.code)) {
          this.sessionRejected = true
        }
        break
      }
      case 'pong':
        break
      default:
        this.options.onFrame(frame)
    }
  }

  private startHeartbeat(): void {
    clearInterval(this.heartbeat)
    this.lastFrameAt = Date.now()
    // A half-open connection (server gone without a FIN) shows up as silence after a ping.
    this.heartbeat = setInterval(() => {
      if (Date.now() - this.lastFrameAt > PING_EVERY_MS + PONG_TIMEOUT_MS) {
        this.socket?.close(4000, 'no answer to ping')
        return
      }
      this.socket?.send(JSON.stringify({ type: 'ping' }))
    }, PING_EVERY_MS)
  }

  private scheduleReconnect(reason: string): void {
    if (this.closed) return
    const retryInMs = Math.min(10_000, 250 * 2 ** Math.min(this.attempt, 6)) * (0.75 + Math.random() * 0.5)
    this.options.onState({ status: 'disconnected', reason, retryInMs: Math.round(retryInMs) })
    this.reconnectTimer = setTimeout(() => void this.connect(), retryInMs)
  }

  private failPending(reason: string): void {
    for (const [ref, waiting] of this.pending) {
      clearTimeout(waiting.timer)
      waiting.reject(unavailable(reason))
      this.pending.delete(ref)
    }
  }
}

function unavailable(message: string): ApiError {
  return new ApiError({ code: 'unavailable', message: `Stream unavailable: ${message}.` })
}
