/**
 * What the live stream checks before it shows a position (protocol.md §6.9). The server numbers
 * what it sends, and a server (or anyone on the path) may drop, repeat, reorder or renumber it;
 * what the protocol guarantees is that a room's positions (`seq`) are gapless and that stream
 * cursors rise. So, per frame and in O(1):
 *
 * - a CID or id shown lately, or a room position at or below the newest shown, is dropped;
 * - a room position that skips ahead (a gap), a cursor that does not rise or jumps far ahead, and
 *   a message signed long before the newest shown of its room (an old one replayed as new) are
 *   doubted: the server's history over HTTP settles them before anything is shown ({@link settle}).
 *
 * @internal
 */
import { inboxResponseSchema, type RoomRecord } from '@dmtp/protocol'
import { authedRequest } from './_session.js'
import { type HistoryGap, readRoomRecords, recordId } from './actions/get-messages.js'
import type { DmtpClientBase } from './client.js'

/** Why a frame waits for the server's history: its room skipped ahead, its cursor, or its age. */
export type Doubt = 'gap' | 'cursor' | 'stale'

/** A cursor further than this beyond the last trusted one is checked against the inbox first. */
export const FAR_AHEAD = 10_000
/** Two clocks each within the server's 5 minutes: an older message is not the room's next. */
const STALE_MS = 10 * 60_000
/** How many recent CIDs and ids are remembered (older repeats fall to the room position check). */
const RECENT = 8192
const PAGE = 500

type RoomState = {
  seq: number
  /** The newest signed time (ms) among the positions shown. */
  at: number
  /** This wallet's removal was the last position shown: the server resumes the room at a re-join. */
  left: boolean
}

export class StreamGuard {
  private readonly rooms = new Map<string, RoomState>()
  private readonly recent = new Set<string>()
  /** The same keys in a ring, oldest next to go (a Set evicted from its front slows down). */
  private readonly ring: (string | undefined)[] = new Array(RECENT)
  private next = 0
  /** The newest stream cursor known to be true: what a reconnection resumes after. */
  cursor: number | undefined

  constructor(
    cursor: number | undefined,
    /** This wallet's address, once known (a removal of it ends a room's run). */
    private readonly me: () => string | undefined,
  ) {
    this.cursor = cursor
  }

  check(cursor: number, record: RoomRecord): Doubt | 'seen' | 'next' {
    if (this.seen(record)) return 'seen'
    const room = this.rooms.get(roomOf(record))
    if (room && !room.left && record.seq > room.seq + 1) return 'gap'
    if (!this.cursorRises(cursor)) return 'cursor'
    if (room && signedAt(record) < room.at - STALE_MS) return 'stale'
    return 'next'
  }

  /** True for a cursor above the last trusted one and not far beyond it. */
  cursorRises(cursor: number): boolean {
    return this.cursor === undefined || (cursor > this.cursor && cursor <= this.cursor + FAR_AHEAD)
  }

  seen(record: RoomRecord): boolean {
    if (this.recent.has(record.cid) || this.recent.has(recordId(record))) return true
    const room = this.rooms.get(roomOf(record))
    return room !== undefined && record.seq <= room.seq
  }

  /** The newest position shown of `room`. */
  lastSeq(room: string): number | undefined {
    return this.rooms.get(room)?.seq
  }

  /** Records a position as shown; `cursor` when its stream cursor is known to be true. */
  accept(record: RoomRecord, cursor: number | undefined): void {
    this.remember(record.cid)
    this.remember(recordId(record))
    const id = roomOf(record)
    const room = this.rooms.get(id)
    const at = signedAt(record)
    const left = removesWallet(record, this.me())
    if (room) {
      room.seq = Math.max(room.seq, record.seq)
      if (at > room.at) room.at = at
      room.left = left
    } else this.rooms.set(id, { seq: record.seq, at: Number.isNaN(at) ? 0 : at, left })
    if (cursor !== undefined && (this.cursor === undefined || cursor > this.cursor)) this.cursor = cursor
  }

  private remember(key: string): void {
    const evicted = this.ring[this.next]
    if (evicted !== undefined) this.recent.delete(evicted)
    this.ring[this.next] = key
    this.next = (this.next + 1) % RECENT
    this.recent.add(key)
  }
}

/** What settling a doubted frame shows, in order. */
export type Settled =
  | { type: 'record'; record: RoomRecord; cursor: number | undefined; refetched: boolean }
  | ({ type: 'gap'; room: string } & HistoryGap)
  | { type: 'rejected'; room: string; seq: number; cid: string; reason: string }

/**
 * Settles a doubted frame against the server's history: the room's positions since the newest
 * shown (for a gap or an old message) or at the frame's own position, and for a doubted cursor
 * the inbox entry at that cursor. A position the stream skipped is shown from history
 * (`refetched`); the frame is shown only where history holds it, with its cursor only when the
 * inbox confirms it; one history contradicts is rejected.
 * @throws what the HTTP reads throw (`HistoryRejectedError`, `ApiError`): nothing was shown.
 */
export async function settle(
  client: DmtpClientBase,
  guard: StreamGuard,
  frame: { cursor: number; record: RoomRecord },
  doubt: Doubt,
): Promise<Settled[]> {
  const { cursor, record } = frame
  const room = roomOf(record)
  const cursorTrusted = guard.cursorRises(cursor) || (await inboxHolds(client, frame))
  if (doubt === 'cursor' && cursorTrusted) return [{ type: 'record', record, cursor, refetched: false }]
  const last = guard.lastSeq(room)
  const from = doubt === 'cursor' || last === undefined ? record.seq - 1 : last
  const { records, gaps } = await roomRange(client, room, from, record.seq)
  const settled: Settled[] = gaps.map((gap) => ({ type: 'gap', room, ...gap }))
  let atSeq: RoomRecord | undefined
  let found = false
  for (const held of records) {
    if (held.seq === record.seq) {
      atSeq = held
      continue
    }
    // The frame renumbered a position history holds earlier: it is shown there, once.
    if (held.cid === record.cid) found = true
    if (!guard.seen(held)) settled.push({ type: 'record', record: held, cursor: undefined, refetched: true })
  }
  if (atSeq?.cid === record.cid) {
    settled.push({ type: 'record', record, cursor: cursorTrusted ? cursor : undefined, refetched: false })
    return settled
  }
  if (!found) {
    const reason = atSeq
      ? `the server's history holds another record (${atSeq.cid}) at position ${record.seq}`
      : `the server's history does not hold it at position ${record.seq}`
    settled.push({ type: 'rejected', room, seq: record.seq, cid: record.cid, reason })
  }
  if (atSeq && !guard.seen(atSeq)) settled.push({ type: 'record', record: atSeq, cursor: undefined, refetched: true })
  return settled
}

/**
 * The inbox after `after` up to cursor `upTo` (what a server that says it resumes further on
 * than asked skipped), each entry with the cursor the inbox gives it.
 */
export async function inboxRange(client: DmtpClientBase, after: number, upTo: number): Promise<Settled[]> {
  const settled: Settled[] = []
  let from = after
  while (from < upTo) {
    const { entries } = await authedRequest(client, {
      method: 'GET',
      path: '/v1/inbox',
      query: { after: from, limit: PAGE },
      schema: inboxResponseSchema,
    })
    const next = entries.at(-1)?.cursor
    if (next === undefined || next <= from) break
    for (const entry of entries) {
      if (entry.cursor > upTo) break
      settled.push({ type: 'record', record: entry.message, cursor: entry.cursor, refetched: true })
    }
    from = next
  }
  return settled
}

/** True when the inbox holds this record at this cursor. */
async function inboxHolds(client: DmtpClientBase, { cursor, record }: { cursor: number; record: RoomRecord }) {
  const { entries } = await authedRequest(client, {
    method: 'GET',
    path: '/v1/inbox',
    query: { after: cursor - 1, limit: 1 },
    schema: inboxResponseSchema,
  })
  const entry = entries[0]
  return entry?.cursor === cursor && entry.message.cid === record.cid && entry.message.seq === record.seq
}

/** A room's positions `from` < seq ≤ `to`, oldest first, with the gaps history shows among them. */
async function roomRange(
  client: DmtpClientBase,
  room: string,
  from: number,
  to: number,
): Promise<{ records: RoomRecord[]; gaps: HistoryGap[] }> {
  const records: RoomRecord[] = []
  const gaps: HistoryGap[] = []
  let cursor = from
  while (cursor < to) {
    const page = await readRoomRecords(client, { room, cursor, limit: Math.min(PAGE, to - cursor), order: 'asc' })
    for (const record of page.ascending) if (record.seq <= to) records.push(record)
    gaps.push(...page.gaps.filter((gap) => gap.before <= to))
    const newest = page.ascending.at(-1)?.seq
    if (page.nextCursor === null || newest === undefined || newest >= to) break
    cursor = newest
  }
  return { records, gaps }
}

export function roomOf(record: RoomRecord): string {
  return 'entry' in record ? record.entry.room : record.envelope.room
}

function signedAt(record: RoomRecord): number {
  return Date.parse('entry' in record ? record.entry.event.at : record.envelope.timestamp)
}

const same = (a: string, b: string) => a.toLowerCase() === b.toLowerCase()

/** A log entry that ends this wallet's membership: its leave, a kick or ban naming it (or all), the room's deletion. */
export function removesWallet(record: RoomRecord, me: string | undefined): boolean {
  if (!('entry' in record) || me === undefined) return false
  const event = record.entry.event
  switch (event.type) {
    case 'leave':
      return same(event.actor, me)
    case 'kick':
    case 'ban':
      return event.all === true || (event.members ?? []).some((member) => same(member, me))
    case 'delete':
      return true
    default:
      return false
  }
}
