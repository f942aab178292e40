/**
 * The sending side of one stream connection: text frames, corked per tick, and a bound on what
 * may wait for the peer. A peer whose backlog passes `bufferBytes` is not queued for: the write
 * is refused and `onOverflow` closes the connection (1013, "try again later"; the client resumes
 * from its cursor, since the database is the truth). A closed connection's peer gets
 * `closeGraceMs` to take the close frame; then its socket is dropped with everything buffered.
 */
import type { Socket } from 'node:net'
import type { WebSocket } from 'ws'
import type { StreamLimits } from '../config/config.js'

/** How often a replay waiting for its peer looks at the backlog, and how long it waits for any progress. */
const DRAIN_POLL_MS = 10
const DRAIN_STALL_MS = 10_000

export class StreamWriter {
  private corked = false
  private graceTimer: NodeJS.Timeout | undefined

  constructor(
    private readonly socket: WebSocket,
    private readonly limits: Pick<StreamLimits, 'bufferBytes' | 'closeGraceMs'>,
    private readonly onOverflow: () => void,
  ) {}

  get open(): boolean {
    return this.socket.readyState === this.socket.OPEN
  }

  /**
   * Bytes waiting in user space for the peer (the kernel's buffers are not counted). Frames corked
   * this tick count too: a tick can last long (a SQLite replay resolves in microtasks only), so
   * they are not excused as being on their way.
   */
  get backlog(): number {
    return this.socket.bufferedAmount
  }

  /** Sends a text frame (a string, or the bytes of one); false when it was not sent. */
  write(data: string | Buffer): boolean {
    if (!this.open) return false
    if (this.backlog > this.limits.bufferBytes) {
      this.onOverflow()
      return false
    }
    this.corkUntilNextTick()
    this.socket.send(data, { binary: false })
    return true
  }

  /**
   * Waits until the backlog is at most half the limit. False when the connection closed, or the
   * peer took nothing for {@link DRAIN_STALL_MS}.
   */
  async drained(): Promise<boolean> {
    const target = this.limits.bufferBytes / 2
    let last = this.backlog
    let progressAt = performance.now()
    while (this.open && this.backlog > target) {
      await new Promise((resolve) => setTimeout(resolve, DRAIN_POLL_MS))
      const backlog = this.backlog
      if (backlog < last) progressAt = performance.now()
      else if (performance.now() - progressAt > DRAIN_STALL_MS) return false
      last = backlog
    }
    return this.open
  }

  /** Starts the close handshake; a peer that has not completed it within the grace is dropped. */
  close(code: number, reason: string): void {
    if (this.open) this.socket.close(code, reason)
    if (this.graceTimer || this.socket.readyState === this.socket.CLOSED) return
    this.graceTimer = setTimeout(() => this.socket.terminate(), this.limits.closeGraceMs)
    this.graceTimer.unref()
    this.socket.once('close', () => clearTimeout(this.graceTimer))
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
}
