/**
 * Live messages as an async iterator. It yields every position of every room the wallet is in
 * (messages, actions, membership changes) after a stream cursor, each exactly once: history
 * first, then live, with no gap between them (the server fills any gap from its database; this
 * client drops a position of a room it has already yielded). It also
 * yields connection events, so an app can show when it is offline: the iterator never ends on a
 * dropped connection; it reconnects and resumes from its cursor by itself.
 *
 * Acknowledgements follow consumption: the server's resume point moves only past messages the app
 * actually took from the iterator.
 */
import type { ServerFrame } from '@dmtp/protocol'
import { type DecryptedMessage, decryptRecord } from '../_decrypt.js'
import { forgetSession, sessionToken } from '../_session.js'
import type { DmtpClientBase } from '../client.js'
import { type ConnectionState, StreamSocket } from '../transports/stream-socket.js'

export type StreamParameters = {
  /**
   * Resume after this inbox cursor; `'latest'`: only messages from now on; omitted: after the
   * last cursor this wallet acknowledged.
   */
  cursor?: number | 'latest' | undefined
}

export type StreamEvent =
  | { type: 'message'; cursor: number; message: DecryptedMessage }
  | { type: 'connected'; cursor: number; latest: number; resumed: boolean }
  | { type: 'caught_up'; cursor: number }
  | { type: 'disconnected'; reason: string; retryInMs: number }
  /** Messages relayed to this wallet before it set up wait to be made end-to-end: call `migrate()`. */
  | { type: 'migrations'; pending: number }

export type StreamReturnType = AsyncIterable<StreamEvent> & {
  /** The cursor of the last message taken from the iterator (persist it to resume later). */
  readonly cursor: number | undefined
  readonly connection: ConnectionState
  close(): void
}

const ACK_DELAY_MS = 250

/**
 * @example
 * import { stream } from '@dmtp/sdk'
 * const messages = stream(client)
 * for await (const event of messages) {
 *   if (event.type === 'message') console.log(event.message.sender, event.message.text)
 *   if (event.type === 'disconnected') console.log('offline, retrying in', event.retryInMs)
 * }
 */
export function stream(client: DmtpClientBase, { cursor }: StreamParameters = {}): StreamReturnType {
  const queue: StreamEvent[] = []
  let waiting: ((result: IteratorResult<StreamEvent>) => void) | undefined
  let done = false
  let received = cursor === 'latest' ? Number.MAX_SAFE_INTEGER : cursor
  let consumed = cursor === 'latest' ? undefined : cursor
  let connection: ConnectionState = { status: 'connecting', attempt: 0 }
  let ackTimer: ReturnType<typeof setTimeout> | undefined
  let chain = Promise.resolve()
  /** The newest position yielded per room. */
  const lastSeq = new Map<string, number>()

  const push = (event: StreamEvent) => {
    if (done) return
    if (waiting) {
      const resolve = waiting
      waiting = undefined
      take(event)
      resolve({ value: event, done: false })
    } else queue.push(event)
  }
  const take = (event: StreamEvent) => {
    if (event.type !== 'message') return
    consumed = Math.max(consumed ?? 0, event.cursor)
    ackTimer ??= setTimeout(() => {
      ackTimer = undefined
      if (consumed !== undefined) socket.ack(consumed)
    }, ACK_DELAY_MS)
  }

  const onFrame = (frame: ServerFrame) => {
    // Decryption is async; chaining keeps events in cursor order.
    chain = chain.then(async () => {
      if (frame.type === 'message') {
        const record = frame.message
        const room = 'entry' in record ? record.entry.room : record.envelope.room
        const last = lastSeq.get(room)
        if (last !== undefined && record.seq <= last) return
        // The frame was already validated against the protocol schema by the socket.
        const message = await decryptRecord(client, record)
        lastSeq.set(room, record.seq)
        received = Math.max(received ?? 0, frame.cursor)
        push({ type: 'message', cursor: frame.cursor, message })
      } else if (frame.type === 'caught_up') {
        push({ type: 'caught_up', cursor: frame.cursor })
      } else if (frame.type === 'migrations') {
        push({ type: 'migrations', pending: frame.pending })
      }
    })
  }

  const socket = new StreamSocket({
    url: `${client.server.replace(/^http/, 'ws')}/v1/stream${client.apiKey ? `?apiKey=${encodeURIComponent(client.apiKey)}` : ''}`,
    WebSocket: client.WebSocket,
    token: () => sessionToken(client),
    onSessionRejected: () => forgetSession(client),
    resumeCursor: () => received,
    onFrame,
    onState: (state) => {
      connection = state
      if (state.status === 'connected') {
        chain = chain.then(() => {
          // The server starts where it can: after our cursor, or at its newest entry if ours is
          // beyond it ('latest', or a server restored from an older backup).
          received = state.cursor
          push({ type: 'connected', cursor: state.cursor, latest: state.latest, resumed: state.resumed })
        })
      } else if (state.status === 'disconnected') {
        push({ type: 'disconnected', reason: state.reason, retryInMs: state.retryInMs })
      }
    },
  })

  const close = () => {
    if (done) return
    if (ackTimer) clearTimeout(ackTimer)
    if (consumed !== undefined) socket.ack(consumed)
    done = true
    socket.close()
    if (client.state.socket === socket) client.state.socket = undefined
    waiting?.({ value: undefined, done: true })
    waiting = undefined
  }

  client.state.socket?.close('replaced by a new stream')
  client.state.socket = socket
  socket.start()

  return {
    get cursor() {
      return consumed
    },
    get connection() {
      return connection
    },
    close,
    [Symbol.asyncIterator]() {
      return {
        next: () => {
          const event = queue.shift()
          if (event) {
            take(event)
            return Promise.resolve({ value: event, done: false })
          }
          if (done) return Promise.resolve({ value: undefined, done: true })
          return new Promise((resolve) => {
            waiting = resolve
          })
        },
        return: () => {
          close()
          return Promise.resolve({ value: undefined, done: true })
        },
      }
    },
  }
}
