/**
 * What a `<DMTPProvider>` shares with its hooks: one SDK client, the connect state, the connection
 * state of ONE stream (the SDK allows one per client: a second replaces the first), and a fan-out
 * of the stream's events plus a few local ones, so every hook sees every message exactly once
 * without opening its own connection.
 * @internal
 */
import type { DecryptedMessage, DmtpClient, MigrateReturnType, SendReturnType, SetupStep, StreamEvent } from '@dmtp/sdk'
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

/**
 * Events the provider fans out: the SDK's stream events, plus
 * - `sent`: a message this app just sent (built from the send result; its stream echo, with the
 *   same id, replaces it),
 * - `migrated`: relayed messages were made end-to-end (pattern β), so views holding them refetch,
 * - `read`: the app marked a conversation read.
 */
export type DMTPEvent =
  | StreamEvent
  | { type: 'sent'; message: DecryptedMessage }
  | { type: 'migrated'; count: number }
  | { type: 'read'; peer: string; seq: number }

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

  /** Sends, then announces the message at once (the stream's echo replaces it by id). */
  send = async (text: string, to: string): Promise<SendReturnType> => {
    const { isConnectDMTP, address } = this.status
    if (!isConnectDMTP || !address) throw new DMTPNotConnectedError()
    const result = await this.client.send(to, text)
    // The SDK checksummed the receiver when it looked up the room; reuse its spelling.
    const receiver = [...this.client.state.rooms].find(([, room]) => room === result.room)?.[0] ?? to
    this.emit({
      type: 'sent',
      message: {
        id: result.id,
        room: result.room,
        sender: address,
        receiver,
        // @NOTE The signed timestamp is inside the envelope; the echo brings it.
        timestamp: result.receivedAt,
        receivedAt: result.receivedAt,
        cid: result.cid,
        seq: result.seq,
        e2ee: result.e2ee,
        text,
        status: 'ok',
      },
    })
    return result
  }

  markRead = async (peer: string, seq: number): Promise<void> => {
    await this.client.markRead(peer, seq)
    this.emit({ type: 'read', peer, seq })
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
