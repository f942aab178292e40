/**
 * What a `<DMTPProvider>` shares with its hooks: one SDK client, the connect state, the connection
 * state of ONE stream (the SDK allows one per client: a second replaces the first), and a fan-out
 * of the stream's events plus a few local ones, so every hook sees every message exactly once
 * without opening its own connection.
 * @internal
 */
import type {
  DecryptedMessage,
  DmtpClient,
  MessageType,
  MigrateReturnType,
  PostResult,
  SendParameters,
  SendReturnType,
  SetupStep,
  StreamEvent,
} from '@dmtp/sdk'
import { isAddress, sameAddress } from './_messages.js'
import { DMTPNotConnectedError } from './errors.js'

export type ConnectStatus = {
  /** True once `connectDMTP()` finished: the keys are unlocked (or made) and the stream is open. */
  isConnectDMTP: boolean
  isConnecting: boolean
  /** The setup step in progress, for a progress UI. */
  step: SetupStep | null
  /** Progress of making relayed messages end-to-end (pattern β), when some were waiting. */
  migration: { done: number; total: number } | null
  /** The connected wallet's address (checksummed). */
  address: string | null
  /** Why the last `connectDMTP()` (or automatic migration) failed. */
  error: Error | null
}

export type ConnectionStateReturnType = {
  state: 'connecting' | 'connected' | 'disconnected'
  /** When disconnected: how long until the next attempt. */
  retryInMs?: number | undefined
  /** When disconnected: why. */
  reason?: string | undefined
}

/** What the app just changed about a room through the hooks (the stream brings the log entry after). */
export type RoomChange = 'created' | 'joined' | 'left' | 'deleted' | 'updated' | 'members'

/**
 * Events the provider fans out: the SDK's stream events (every position of every room of the
 * wallet: messages, actions, and membership-log entries as `type: 'system'`), plus
 * - `sent`: a message or action this app just posted (built from the post result; its stream
 *   echo, with the same id, replaces it),
 * - `migrated`: relayed messages were made end-to-end (pattern β), so views holding them refetch,
 * - `read`: the app moved a room's read marker,
 * - `room`: the app changed a room (created, joined, left, moderated…), so views of it refetch.
 */
export type DMTPEvent =
  | StreamEvent
  | { type: 'sent'; message: DecryptedMessage }
  | { type: 'migrated'; count: number }
  | { type: 'read'; room: string; seq: number }
  | { type: 'room'; room: string; change: RoomChange }

/** A message action the hooks post (`client.react/edit/recall/pin`). */
export type MessageAction =
  | { type: 'react' | 'unreact'; emoji: string }
  | { type: 'edit'; text: string }
  | { type: 'recall' }
  | { type: 'pin' | 'unpin' }

const INITIAL_STATUS: ConnectStatus = {
  isConnectDMTP: false,
  isConnecting: false,
  step: null,
  migration: null,
  address: null,
  error: null,
}

export class DmtpStore {
  private status: ConnectStatus = INITIAL_STATUS
  private connection: ConnectionStateReturnType = { state: 'disconnected', reason: 'not connected yet' }
  private readonly stateListeners = new Set<() => void>()
  private readonly eventListeners = new Set<(event: DMTPEvent) => void>()
  private connecting: Promise<void> | undefined
  /** 1:1 rooms being opened (or opened), by lower-case peer address. */
  private readonly opening = new Map<string, Promise<string>>()
  private migrating: Promise<MigrateReturnType> | undefined

  constructor(
    readonly client: DmtpClient,
    private readonly options: { autoMigrate: () => boolean },
  ) {}

  getStatus = (): ConnectStatus => this.status
  getConnection = (): ConnectionStateReturnType => this.connection

  /** For `useSyncExternalStore`. */
  subscribe = (listener: () => void): (() => void) => {
    this.stateListeners.add(listener)
    return () => this.stateListeners.delete(listener)
  }

  /** Listens to every event; returns the unsubscribe function. */
  on = (listener: (event: DMTPEvent) => void): (() => void) => {
    this.eventListeners.add(listener)
    return () => this.eventListeners.delete(listener)
  }

  emit(event: DMTPEvent): void {
    for (const listener of [...this.eventListeners]) {
      try {
        listener(event)
      } catch (error) {
        // One broken listener must not stop the stream for the others; the error still surfaces.
        queueMicrotask(() => {
          throw error
        })
      }
    }
  }

  /** Runs `client.setup` once at a time, with progress. Rejects with the SDK's error. */
  connect = (): Promise<void> => {
    this.connecting ??= this.runConnect().finally(() => {
      this.connecting = undefined
    })
    return this.connecting
  }

  private async runConnect(): Promise<void> {
    this.setStatus({ isConnecting: true, error: null, step: null, migration: null })
    try {
      const result = await this.client.setup({
        onProgress: (step) => this.setStatus({ step }),
        onMigrationProgress: (migration) => this.setStatus({ migration }),
      })
      this.setStatus({ isConnectDMTP: true, isConnecting: false, address: result.address })
      if (result.migration.migrated > 0) this.emit({ type: 'migrated', count: result.migration.migrated })
    } catch (error) {
      this.setStatus({ isConnecting: false, error: toError(error) })
      throw error
    }
  }

  /** `client.migrate`, once at a time; tells the views when messages changed. */
  migrate = (): Promise<MigrateReturnType> => {
    this.migrating ??= (async () => {
      try {
        const result = await this.client.migrate({ onProgress: (migration) => this.setStatus({ migration }) })
        const count = result.migrated + result.alreadyMigrated
        if (count > 0) this.emit({ type: 'migrated', count })
        return result
      } catch (error) {
        this.setStatus({ error: toError(error) })
        throw error
      }
    })().finally(() => {
      this.migrating = undefined
    })
    return this.migrating
  }

  /** The connected wallet's address; throws `DMTPNotConnectedError` before `connectDMTP()` finished. */
  me(): string {
    const { isConnectDMTP, address } = this.status
    if (!isConnectDMTP || !address) throw new DMTPNotConnectedError()
    return address
  }

  /**
   * A room id, or the 1:1 room with an address (opened on first contact). Views of one room ask
   * at once (its messages, its description); they share one request.
   */
  roomOf(roomOrPeer: string): Promise<string> {
    if (!isAddress(roomOrPeer)) return Promise.resolve(roomOrPeer)
    const key = roomOrPeer.toLowerCase()
    let opening = this.opening.get(key)
    if (!opening) {
      opening = this.client.openDirect(roomOrPeer)
      this.opening.set(key, opening)
      // A failure is not remembered: the next view asks again.
      opening.catch(() => this.opening.delete(key))
    }
    return opening
  }

  /** Sends to an address (1:1) or a room, then announces the message at once (the stream's echo replaces it by id). */
  send = async (
    text: string,
    to: string,
    options: Pick<SendParameters, 'replyTo' | 'mentions'> = {},
  ): Promise<SendReturnType> => {
    this.me()
    const result = await this.client.send(to, text, options)
    this.emitPosted(result, { type: 'message', ref: options.replyTo ?? null, text, mentions: options.mentions ?? [] })
    return result
  }

  /** Posts a reaction, edit, recall or pin on message `id` of `room`, and announces it at once. */
  act = async (room: string, id: string, action: MessageAction): Promise<PostResult> => {
    this.me()
    let result: PostResult
    let recallOthers = false
    switch (action.type) {
      case 'react':
      case 'unreact':
        result = await this.client.react(room, id, action.emoji, { remove: action.type === 'unreact' })
        break
      case 'edit':
        result = await this.client.edit(room, id, action.text)
        break
      case 'recall':
        result = await this.client.recall(room, id)
        // The server accepted it, so the wallet may recall this message whoever wrote it; the
        // stream's echo, checked against the log, replaces this local copy.
        recallOthers = true
        break
      case 'pin':
      case 'unpin':
        result = await this.client.pin(room, id, { unpin: action.type === 'unpin' })
        break
    }
    this.emitPosted(result, {
      type: action.type,
      ref: id,
      text: action.type === 'edit' ? action.text : null,
      emoji: 'emoji' in action ? action.emoji : null,
      recallOthers,
    })
    return result
  }

  /** Runs a room action of the SDK (join, moderation…), then tells the views of that room. */
  changeRoom = async <T>(room: string, change: RoomChange, run: () => Promise<T>): Promise<T> => {
    this.me()
    const result = await run()
    this.emit({ type: 'room', room, change })
    return result
  }

  markRead = async (roomOrPeer: string, seq: number): Promise<void> => {
    this.me()
    const room = await this.roomOf(roomOrPeer)
    await this.client.markRead(room, seq)
    this.emit({ type: 'read', room, seq })
  }

  private emitPosted(result: PostResult, fields: Partial<DecryptedMessage> & { type: MessageType; ref: string | null }): void {
    const me = this.me()
    const pair = this.client.state.roomInfo.get(result.room)?.pair
    this.emit({
      type: 'sent',
      message: {
        id: result.id,
        room: result.room,
        sender: me,
        receiver: pair?.find((address) => !sameAddress(address, me)) ?? null,
        // @NOTE The signed timestamp is inside the envelope; the echo brings it.
        timestamp: result.receivedAt,
        receivedAt: result.receivedAt,
        cid: result.cid,
        seq: result.seq,
        e2ee: result.e2ee,
        text: null,
        emoji: null,
        mentions: [],
        event: null,
        recallOthers: false,
        status: 'ok',
        ...fields,
      },
    })
  }

  /** Opens the shared stream and fans its events out; returns the function that closes it. */
  openStream(): () => void {
    const stream = this.client.stream()
    let open = true
    this.setConnection({ state: 'connecting' })
    void (async () => {
      for await (const event of stream) {
        if (!open) break
        if (event.type === 'connected') this.setConnection({ state: 'connected' })
        else if (event.type === 'disconnected')
          this.setConnection({ state: 'disconnected', retryInMs: event.retryInMs, reason: event.reason })
        else if (event.type === 'migrations' && event.pending > 0 && this.options.autoMigrate()) {
          // Errors land in `useConnectDMTP().error`; the next `migrations` event retries.
          this.migrate().catch(() => {})
        }
        this.emit(event)
      }
    })()
    return () => {
      open = false
      stream.close()
      this.setConnection({ state: 'disconnected', reason: 'closed' })
    }
  }

  private setStatus(patch: Partial<ConnectStatus>): void {
    this.status = { ...this.status, ...patch }
    this.notify()
  }

  private setConnection(connection: ConnectionStateReturnType): void {
    this.connection = connection
    this.notify()
  }

  private notify(): void {
    for (const listener of [...this.stateListeners]) listener()
  }
}

export function toError(error: unknown): Error {
  return error instanceof Error ? error : new Error(String(error))
}
