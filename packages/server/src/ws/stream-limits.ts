/**
 * Per-connection and per-wallet limits of `/v1/stream` (docs/api.md, "Limits and close codes"):
 * a token bucket for the frames one connection sends, and a count of each wallet's open streams.
 */
import type { ServerConfig } from '../config/config.js'

/** Room above the message limits for the frames that are not sends (acks, pings). */
const NON_SEND_FRAMES_PER_SECOND = 50
const NON_SEND_FRAME_BURST = 100

/** The frame bucket of one connection: `burst` frames at once, refilled at `rate` per second. */
export class FrameBucket {
  private tokens: number
  private at = performance.now()

  constructor(
    private readonly rate: number,
    private readonly burst: number,
  ) {
    this.tokens = burst
  }

  static fromConfig({ limits }: ServerConfig): FrameBucket {
    return new FrameBucket(
      limits.stream.framesPerSecond ?? limits.messagesPerSecond + NON_SEND_FRAMES_PER_SECOND,
      limits.stream.frameBurst ?? limits.messageBurst + NON_SEND_FRAME_BURST,
    )
  }

  /** Takes one token; false when the bucket is empty. */
  take(): boolean {
    const now = performance.now()
    this.tokens = Math.min(this.burst, this.tokens + ((now - this.at) / 1000) * this.rate)
    this.at = now
    if (this.tokens < 1) return false
    this.tokens -= 1
    return true
  }
}

/** Open streams per wallet, on this instance (each instance counts its own). */
export class WalletStreams {
  private readonly open = new Map<string, number>()

  constructor(private readonly max: number) {}

  /** Counts one more stream of `address`; false, and nothing counted, when it holds the most allowed. */
  acquire(address: string): boolean {
    const count = this.open.get(address) ?? 0
    if (count >= this.max) return false
    this.open.set(address, count + 1)
    return true
  }

  release(address: string): void {
    const count = (this.open.get(address) ?? 1) - 1
    if (count > 0) this.open.set(address, count)
    else this.open.delete(address)
  }
}
