/**
 * Live messages as an async iterator. It yields every position of every room the wallet is in
 * (messages, actions, membership changes) after a stream cursor, each exactly once: history
 * first, then live, with no gap between them. It also yields connection events, so an app can
 * show when it is offline: the iterator never ends on a dropped connection; it reconnects and
 * resumes from its cursor by itself.
 *
 * The stream is not believed on its word (`_stream-guard.ts`, protocol.md §6.9): a position shown
 * once is never shown again, a room's positions only rise, and a skipped position, a cursor that
 * does not rise or leaps ahead, or an old message offered as new is settled against the server's
 * history over HTTP before anything is shown. What history cannot supply is reported (`gap`,
 * `rejected`), never papered over.
 *
 * Acknowledgements follow consumption: the server's resume point moves only past messages the app
 * actually took from the iterator, and only to cursors known to be true.
 */
import type { RoomRecord, ServerFrame } from '@dmtp/protocol'
import { type DecryptedMessage, decryptRecord } from '../_decrypt.js'
import { checkInvitation, type Invitation } from '../_invitation.js'
import type { RoomFork } from '../_room-fork.js'
import { forgetSession, sessionToken } from '../_session.js'
import { inboxRange, roomOf, type Settled, StreamGuard, settle } from '../_stream-guard.js'
import type { DmtpClientBase } from '../client.js'
import { type ConnectionState, StreamSocket } from '../transports/stream-socket.js'
import { onFork } from './on-fork.js'

export type StreamParameters = {
  /**
   * Resume after this inbox cursor; `'latest'`: only messages from now on; omitted: after the
   * last cursor this wallet acknowledged.
   */
  cursor?: number | 'latest' | undefined
}

export type StreamEvent =
  /**
   * `refetched`: the stream skipped this position and it was read from the server's history
   * instead (its `cursor` is then the last one known true, so resuming never skips past it).
   */
  | { type: 'message'; cursor: number; message: DecryptedMessage; refetched?: true | undefined }
  /** Positions `after` < seq < `before` of a room that neither the stream nor the server's history holds. */
  | { type: 'gap'; room: string; after: number; before: number }
  /** A position the stream sent and the server's history contradicts (or could not be read to check): not shown. */
  | { type: 'rejected'; room: string; seq: number; cid: string; reason: string }
  | { type: 'connected'; cursor: number; latest: number; resumed: boolean }
  | { type: 'caught_up'; cursor: number }
  | { type: 'disconnected'; reason: string; retryInMs: number }
  /** Messages relayed to this wallet before it set up wait to be made end-to-end: call `migrate()`. */
  | { type: 'migrations'; pending: number }
  /** This wallet was invited to a room (the inviter's signed entry, checked): join it or decline. */
  | { type: 'invitation'; invitation: Invitation }
  /** A room found forked: the server shows members different membership logs (`getRoom`'s `fork`). */
  | { type: 'fork'; room: string; fork: RoomFork }

export type StreamReturnType = AsyncIterable<StreamEvent> & {
  /** The cursor of the last message taken from the iterator (persist it to resume later). */
  readonly cursor: number | undefined
  readonly connection: ConnectionState
  close(): void
}

const ACK_DELAY_MS = 250
/** The hello cursor of `'latest'`: beyond any, so the server starts at its newest. */
const NEWEST = Number.MAX_SAFE_INTEGER

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
  const latest = cursor === 'latest'
  let consumed = latest ? undefined : cursor
  let connection: ConnectionState = { status: 'connecting', attempt: 0 }
  let ackTimer: ReturnType<typeof setTimeout> | undefined
  let chain = Promise.resolve()
  let me: string | undefined
  const guard = new StreamGuard(latest ? undefined : cursor, () => me)
  /** The cursor the last hello asked to resume after. */
  let asked: number | undefined

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

  const show = async (record: RoomRecord, at: number | undefined, refetched: boolean) => {
    // Decrypted before it is marked shown: a failure leaves the position to be shown later.
    const message = await decryptRecord(client, record)
    guard.accept(record, at)
    push({ type: 'message', cursor: at ?? guard.cursor ?? 0, message, ...(refetched ? { refetched: true } : {}) })
  }
  const showSettled = async (settled: Settled[]) => {
    for (const item of settled) {
      if (item.type === 'record') {
        if (!guard.seen(item.record)) await show(item.record, item.cursor, item.refetched)
      } else push(item)
    }
  }

  const onMessage = async (frame: Extract<ServerFrame, { type: 'message' }>) => {
    const record = frame.message
    try {
      me ??= (await client.getWallet()).address
      // The frame was already validated against the protocol schema by the socket.
      const verdict = guard.check(frame.cursor, record)
      if (verdict === 'next') await show(record, frame.cursor, false)
      else if (verdict !== 'seen') await showSettled(await settle(client, guard, { cursor: frame.cursor, record }, verdict))
    } catch (error) {
      // Not shown; a later position of its room finds the gap and settles it again.
      const reason = `it could not be checked: ${errorText(error)}`
      push({ type: 'rejected', room: roomOf(record), seq: record.seq, cid: record.cid, reason })
    }
  }

  /** A server that says it resumes further on than asked skipped what lies between: read it. */
  const onResumed = async (from: number) => {
    try {
      await showSettled(await inboxRange(client, asked as number, from))
    } catch {
      // The positions stay unshown; a later position of each room finds the gap.
    }
  }

  const onFrame = (frame: ServerFrame) => {
    // Decryption is async; chaining keeps events in cursor order.
    chain = chain
      .then(async () => {
        if (frame.type === 'message') await onMessage(frame)
        else if (frame.type === 'caught_up') push({ type: 'caught_up', cursor: frame.cursor })
        else if (frame.type === 'migrations') push({ type: 'migrations', pending: frame.pending })
        else if (frame.type === 'invitation') {
          me ??= (await client.getWallet()).address
          const invitation = await checkInvitation(client, me, frame.record)
          if (invitation) push({ type: 'invitation', invitation })
        }
      })
      .catch(() => {})
  }

  const socket = new StreamSocket({
    url: `${client.server.replace(/^http/, 'ws')}/v1/stream${client.apiKey ? `?apiKey=${encodeURIComponent(client.apiKey)}` : ''}`,
    WebSocket: client.WebSocket,
    token: () => sessionToken(client),
    onSessionRejected: () => forgetSession(client),
    resumeCursor: () => {
      asked = latest && guard.cursor === undefined ? NEWEST : guard.cursor
      return asked
    },
    onFrame,
    onState: (state) => {
      connection = state
      if (state.status === 'connected') {
        chain = chain.then(async () => {
          // The server starts where it can: after our cursor, or at its newest entry if ours is
          // beyond it ('latest', or a server restored from an older backup). Never further on.
          const skipped = asked !== undefined && asked !== NEWEST && state.cursor > asked
          if (!skipped) guard.cursor = state.cursor
          push({ type: 'connected', cursor: state.cursor, latest: state.latest, resumed: state.resumed })
          if (skipped) await onResumed(state.cursor)
        })
      } else if (state.status === 'disconnected') {
        push({ type: 'disconnected', reason: state.reason, retryInMs: state.retryInMs })
      }
    },
  })

  const stopForks = onFork(client, (fork) => push({ type: 'fork', room: fork.room, fork }))
  const close = () => {
    if (done) return
    stopForks()
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

function errorText(error: unknown): string {
  return error instanceof Error && 'shortMessage' in error ? String(error.shortMessage) : String(error)
}
