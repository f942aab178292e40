/**
 * A room's membership log, fetched from the server, checked and replayed here (protocol.md §6.4):
 * every entry's CID is recomputed, the chain must continue (index, prev, order, basis), the
 * actor's Ed25519 signature must verify under the key bundle it names (itself verified against
 * the wallet), and the shared rules must allow the event at its place. What the server served
 * but the log does not prove is reported in `problems` and not applied.
 *
 * Signatures of moderation, role and settings events are checked as entries arrive. Self-service
 * entries (join, leave, request) are checked when their actor matters (a message from them, a
 * member shown): in a public room of 10,000 members, opening the room does not fetch 10,000 key
 * bundles. A self-service entry found forged later is reported and the log replayed without it.
 *
 * The log also notes where the server's log departs from the one verified here (an entry linked
 * to another than the one verified before it; on `reread`, another entry at a verified index, or
 * fewer entries): `_room-fork.ts` turns that into a fork of the room.
 * @internal
 */
import {
  type LogEntry,
  type LogRecord,
  logResponseSchema,
  RoomLogState,
  type RoomLogState as RoomLogStateType,
  type RoomStateView,
  toBlock,
  verifyInviteLinkSignature,
  verifyRoomEventSignature,
} from '@dmtp/protocol'
import { checkpointLog } from './_room-fork.js'
import { authedRequest } from './_session.js'
import { bundleByCid } from './actions/get-key-bundle.js'
import type { DmtpClientBase } from './client.js'

export type LogProblem = { seq: number; index: number; cid: string; problem: string }

/**
 * How the log the server serves now departs from the one this client verified: another entry at
 * an index it holds, or fewer entries than it holds. Either way the server shows two logs.
 */
export type LogDivergence =
  | { reason: 'rewritten_entry'; index: number; verified: string; served: string }
  | { reason: 'rolled_back'; index: number; verified: string; served: { index: number; cid: string } | null }

type Entry = {
  record: LogRecord
  hashes: boolean
  /** undefined: the signature is not checked yet (a self-service entry). */
  signed: boolean | undefined
  /** What replaying found wrong with it, if anything. */
  problem: string | undefined
}

const SELF_SERVICE = new Set(['join', 'leave', 'request'])
const PAGE = 1000

export class RoomLog {
  private state: RoomLogStateType
  private readonly entries: Entry[] = []
  private readonly bySeq = new Map<number, Entry>()
  private readonly cids = new Map<string, number>()
  private readonly byIndex = new Map<number, Entry>()
  private queue: Promise<void> = Promise.resolve()
  /** The newest room position whose log entries are all here. */
  private knownUpTo = 0
  private detached = false
  private divergence: LogDivergence | undefined

  constructor(
    private readonly client: DmtpClientBase,
    readonly room: string,
  ) {
    this.state = new RoomLogState(room)
  }

  get head(): { index: number; cid: string; seq: number } | undefined {
    return this.state.head
  }

  /** The replayed room now. */
  get current(): RoomLogStateType {
    return this.state
  }

  /** Every entry the replay refused, and every forged signature found so far. */
  get problems(): LogProblem[] {
    return this.entries.flatMap((entry) =>
      entry.problem
        ? [{ seq: entry.record.seq, index: entry.record.entry.index, cid: entry.record.cid, problem: entry.problem }]
        : [],
    )
  }

  /** The room as it was just before position `seq`. */
  viewAt(seq: number): RoomStateView {
    return this.state.viewAt(seq)
  }

  /** The position of a log entry by CID, if the log holds it. */
  seqOf(cid: string): number | undefined {
    return this.cids.get(cid)
  }

  /** What was found wrong with the entry at `seq` (undefined: none, or no entry there). */
  problemAt(seq: number): string | undefined {
    return this.bySeq.get(seq)?.problem
  }

  /** Every entry served so far, in order. */
  records(): LogRecord[] {
    return this.entries.map((entry) => entry.record)
  }

  /** The CID of the log entry at `seq`, if the log holds one there. */
  cidAt(seq: number): string | undefined {
    return this.bySeq.get(seq)?.record.cid
  }

  /** The first way the served log was found to depart from the one verified here, if any. */
  get diverged(): LogDivergence | undefined {
    return this.divergence
  }

  /** The CID of the log entry at `index`, if the log holds one there. */
  cidAtIndex(index: number): string | undefined {
    return this.byIndex.get(index)?.record.cid
  }

  /**
   * Stops asking the server: the log is fed only what `receive` is given (recovering a room from
   * the chain and the block store alone, without the server's database).
   */
  detach(): void {
    this.detached = true
    this.knownUpTo = Number.MAX_SAFE_INTEGER
  }

  /** Fetches and applies the entries after what is known, up to the server's newest. */
  sync(): Promise<void> {
    return this.exclusive(() => this.fetchNew())
  }

  /** Makes sure every entry placed before `seq` is here (fetching when the server may have newer ones). */
  ensure(seq: number): Promise<void> {
    return this.exclusive(async () => {
      if (seq > this.knownUpTo) await this.fetchNew()
    })
  }

  /** Applies an entry the stream delivered, if it is the next one; else fetches what is missing. */
  receive(record: LogRecord): Promise<void> {
    return this.exclusive(async () => {
      if (this.bySeq.has(record.seq)) return
      const head = this.state.head
      if (record.entry.index === (head?.index ?? 0) + 1 || this.detached) {
        await this.add(record)
        this.knownUpTo = Math.max(this.knownUpTo, record.seq)
        if (!this.detached) await checkpointLog(this.client, this)
      } else await this.fetchNew()
    })
  }

  /**
   * Reads the whole log from the server again and compares it with what was verified here: the
   * first divergence found, if any. New entries are applied as `sync` would.
   */
  reread(): Promise<LogDivergence | undefined> {
    return this.exclusive(async () => {
      if (this.detached) return
      let newest: { index: number; cid: string } | null = null
      for (let after = 0; ; ) {
        const page = await this.fetchPage(after)
        for (const record of page.entries) {
          const { index } = record.entry
          const verified = this.byIndex.get(index)?.record.cid
          if (verified !== undefined && verified !== record.cid) {
            this.divergence ??= { reason: 'rewritten_entry', index, verified, served: record.cid }
          }
          const last = this.entries.at(-1)?.record.seq ?? 0
          if (verified === undefined && record.seq > last) await this.add(record)
          newest = { index, cid: record.cid }
        }
        if (page.entries.length < PAGE) {
          this.knownUpTo = Math.max(this.knownUpTo, page.seq)
          break
        }
        after = page.entries.at(-1)?.seq ?? after
      }
      const head = this.state.head
      if (head && head.index > (newest?.index ?? 0)) {
        this.divergence ??= { reason: 'rolled_back', index: head.index, verified: head.cid, served: newest }
      }
    }).then(() => this.divergence)
  }

  /**
   * Checks the self-service entries of `actor` not checked yet. When one is forged the log is
   * replayed without it (so the forged join no longer makes a member).
   */
  verifyActor(actor: string): Promise<void> {
    return this.exclusive(async () => {
      const unchecked = this.entries.filter((entry) => entry.signed === undefined && entry.record.entry.event.actor === actor)
      if (unchecked.length === 0) return
      let forged = false
      for (const entry of unchecked) {
        entry.signed = await this.signatureValid(entry.record)
        if (!entry.signed) forged = true
      }
      if (forged) this.replay()
    })
  }

  /** One change at a time: entries must be applied in order, each once. */
  private exclusive(work: () => Promise<void>): Promise<void> {
    const run = this.queue.then(work)
    this.queue = run.catch(() => {})
    return run
  }

  private async fetchNew(): Promise<void> {
    if (this.detached) return
    for (;;) {
      const after = this.entries.at(-1)?.record.seq ?? 0
      const page = await this.fetchPage(after)
      for (const record of page.entries) {
        if (record.seq > after && !this.bySeq.has(record.seq)) await this.add(record)
      }
      // The server read its newest position before the entries: every entry up to it is here.
      if (page.entries.length < PAGE) {
        this.knownUpTo = Math.max(this.knownUpTo, page.seq)
        return checkpointLog(this.client, this)
      }
    }
  }

  private fetchPage(after: number) {
    return authedRequest(this.client, {
      method: 'GET',
      path: `/v1/rooms/${this.room}/log`,
      query: { after, limit: PAGE },
      schema: logResponseSchema,
    })
  }

  private async add(record: LogRecord): Promise<void> {
    const crypto = await this.client.getCrypto()
    const hashes = toBlock(record.entry, crypto.sha256).cid === record.cid
    const entry: Entry = { record, hashes, signed: undefined, problem: undefined }
    if (hashes && !SELF_SERVICE.has(record.entry.event.type)) entry.signed = await this.signatureValid(record)
    this.entries.push(entry)
    this.bySeq.set(record.seq, entry)
    this.cids.set(record.cid, record.seq)
    const { index, prev } = record.entry
    // An entry linked to another entry than the one verified before it: the server's log forks there.
    const before = this.byIndex.get(index - 1)?.record.cid
    if (before !== undefined && prev !== null && prev !== before) {
      this.divergence ??= { reason: 'rewritten_entry', index: index - 1, verified: before, served: prev }
    }
    if (!this.byIndex.has(index)) this.byIndex.set(index, entry)
    this.apply(entry)
  }

  private apply(entry: Entry): void {
    const { entry: logEntry, cid } = entry.record
    const { type, actor } = logEntry.event
    entry.problem = !entry.hashes
      ? 'the entry does not hash to its CID'
      : entry.signed === false
        ? `${type} by ${actor}: the signature does not verify`
        : undefined
    if (entry.problem) {
      // Not made by its actor: it must not count, but the chain goes on through it.
      this.state.head = { index: logEntry.index, cid, seq: logEntry.seq }
      return
    }
    const result = this.state.apply(logEntry, cid)
    if (!result.ok) entry.problem = result.problem
  }

  private replay(): void {
    this.state = new RoomLogState(this.room)
    for (const entry of this.entries) this.apply(entry)
  }

  private async signatureValid(record: LogRecord): Promise<boolean> {
    const { event } = record.entry
    const crypto = await this.client.getCrypto()
    try {
      const bundle = await bundleByCid(this.client, event.actorKey, event.actor)
      if (!(await verifyRoomEventSignature(crypto, event, bundle.ed25519))) return false
      // A join or request by invite link: its issuer signed the link too (docs/private-groups.md §6).
      if (!('link' in event) || !event.link) return true
      const issuer = await bundleByCid(this.client, event.link.issuerKey, event.link.issuer)
      return await verifyInviteLinkSignature(crypto, event.link, issuer.ed25519)
    } catch {
      return false
    }
  }
}

/** The room's log, one per client and room. @internal */
export function roomLog(client: DmtpClientBase, room: string): RoomLog {
  let log = client.state.roomLogs.get(room)
  if (!log) {
    log = new RoomLog(client, room)
    client.state.roomLogs.set(room, log)
  }
  return log
}

export type { LogEntry }
