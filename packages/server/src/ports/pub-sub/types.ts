/**
 * Fan-out between the code that commits a message and the sockets that deliver it. The embedded
 * adapter is in-process; a Redis or NATS adapter carries the same events between instances.
 */
export type Unsubscribe = () => void

export interface PubSub {
  publish(channel: string, event: unknown): void
  subscribe(channel: string, handler: (event: unknown) => void): Unsubscribe
  destroy(): Promise<void>
}
