/** In-process pub/sub: synchronous delivery in publish order, which keeps per-inbox order. */
import type { PubSub, Unsubscribe } from './types.js'

export class MemoryPubSub implements PubSub {
  private readonly channels = new Map<string, Set<(event: unknown) => void>>()

  publish(channel: string, event: unknown): void {
    const handlers = this.channels.get(channel)
    if (!handlers) return
    for (const handler of handlers) handler(event)
  }

  subscribe(channel: string, handler: (event: unknown) => void): Unsubscribe {
    let handlers = this.channels.get(channel)
    if (!handlers) {
      handlers = new Set()
      this.channels.set(channel, handlers)
    }
    handlers.add(handler)
    return () => {
      handlers.delete(handler)
      if (handlers.size === 0) this.channels.delete(channel)
    }
  }

  async destroy(): Promise<void> {
    this.channels.clear()
  }
}
