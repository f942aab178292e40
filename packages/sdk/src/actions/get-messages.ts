/**
 * Reads a room's history by cursor (pass `nextCursor` back for the next page): its messages,
 * actions and membership changes (system lines), each verified (and decrypted) on this device;
 * one that fails a check says why in `status`. `foldMessages` turns them into a timeline.
 *
 * A room's positions are gapless (protocol.md §6.2), so the page itself is checked too: a
 * position it lacks is reported in `gaps` (the server withholds it), and a page that lists a
 * position, record or id twice, or out of order, cannot be true and is refused.
 *
 * The page is also held to the server's receipts of this wallet's sends (protocol.md §5.6): a
 * receipted position the page covers must hold that message; if it is missing or another record
 * sits there, the result says so in `broken`, with what was served (evidence that
 * `checkReceiptEvidence` in @dmtp/protocol verifies).
 */
import { BaseError, messagesResponseSchema, type RoomRecord } from '@dmtp/protocol'
import { getAddress } from 'viem/utils'
import { type DecryptedMessage, decryptRecord } from '../_decrypt.js'
import { type BrokenReceipt, checkAgainstReceipts, heldReceipts, loadReceipts } from '../_receipts.js'
import { authedRequest } from '../_session.js'
import type { DmtpClientBase } from '../client.js'
import type { ApiErrorType } from '../errors.js'
import { openDirect } from './open-direct.js'

export type GetMessagesParameters = {
  /** The room; or, for 1:1, the peer's address. */
  room?: string | undefined
  peer?: string | undefined
  /** The `seq` to continue after (exclusive); omit for the start (asc) or the end (desc). */
  cursor?: number | undefined
  limit?: number | undefined
  /** `asc` (oldest first, default) or `desc` (newest first, for chat views loading upwards). */
  order?: 'asc' | 'desc' | undefined
}

/** Positions `after` < seq < `before` of a room that the history should hold and does not. */
export type HistoryGap = { after: number; before: number }

export type GetMessagesReturnType = {
  messages: DecryptedMessage[]
  nextCursor: number | null
  /** Positions missing from this page (or between it and `cursor`), oldest first; empty when none. */
  gaps: HistoryGap[]
  /** Receipts of this wallet's sends that the page contradicts, with what it served; empty when none. */
  broken: BrokenReceipt[]
}

export type GetMessagesErrorType = HistoryRejectedErrorType | ApiErrorType | TypeError

/**
 * @example
 * import { foldMessages, getMessages } from '@dmtp/sdk'
 * let page = await getMessages(client, { room })
 * if (page.gaps.length > 0) console.warn('the server withholds', page.gaps)
 * if (page.broken.length > 0) console.warn('the server broke its receipts', page.broken)
 * while (page.nextCursor !== null) page = await getMessages(client, { room, cursor: page.nextCursor })
 * @throws {HistoryRejectedError} when the page lists a position twice or out of order.
 */
export async function getMessages(
  client: DmtpClientBase,
  { room, peer, cursor, limit = 50, order = 'asc' }: GetMessagesParameters,
): Promise<GetMessagesReturnType> {
  if ((room === undefined) === (peer === undefined)) throw new TypeError('"room" or "peer" expected (one of them)')
  const id = room ?? (await openDirect(client, { peer: getAddress(peer as string) }))
  await loadReceipts(client)
  const held = heldReceipts(client, id)
  const { ascending, nextCursor, gaps } = await readRoomRecords(client, { room: id, cursor, limit, order })
  const { broken } = await checkAgainstReceipts(client, {
    room: id,
    held,
    served: ascending,
    ...coveredPositions(ascending, { cursor, order, complete: nextCursor === null }),
  })
  // In order, so that log entries are replayed before the messages placed after them.
  const read: DecryptedMessage[] = []
  for (const record of ascending) {
    const message = await decryptRecord(client, record)
    read.push(message.room === id ? message : { ...message, text: null, status: 'altered' })
  }
  return { messages: order === 'asc' ? read : read.reverse(), nextCursor, gaps, broken }
}

/**
 * The positions a page speaks for: from the cursor (exclusive) to what it served, and on the last
 * page of its direction to the end (`asc`: the newest; `desc`: position 1).
 * @internal
 */
export function coveredPositions(
  ascending: RoomRecord[],
  { cursor, order, complete }: { cursor: number | undefined; order: 'asc' | 'desc'; complete: boolean },
): { from: number; to: number } {
  if (order === 'asc') {
    const from = (cursor ?? 0) + 1
    return { from, to: complete ? Number.POSITIVE_INFINITY : (ascending.at(-1)?.seq ?? from - 1) }
  }
  const to = cursor === undefined ? Number.POSITIVE_INFINITY : cursor - 1
  return { from: complete ? 1 : (ascending[0]?.seq ?? to + 1), to }
}

/**
 * One page of a room's records as served, checked as a page (see the module header), oldest first.
 * @throws {HistoryRejectedError}
 * @internal
 */
export async function readRoomRecords(
  client: DmtpClientBase,
  { room, cursor, limit, order }: { room: string; cursor: number | undefined; limit: number; order: 'asc' | 'desc' },
): Promise<{ ascending: RoomRecord[]; nextCursor: number | null; gaps: HistoryGap[] }> {
  const response = await authedRequest(client, {
    method: 'GET',
    path: `/v1/rooms/${room}/messages`,
    query: { cursor, limit, order },
    schema: messagesResponseSchema,
  })
  const served = response.messages
  const ascending = order === 'asc' ? served : [...served].reverse()
  const gaps = checkRoomPage(room, ascending, { cursor, order, complete: response.nextCursor === null })
  return { ascending, nextCursor: response.nextCursor, gaps }
}

/** The id a record carries: its envelope's, or its log event's. */
export function recordId(record: RoomRecord): string {
  return 'entry' in record ? record.entry.event.id : record.envelope.id
}

/**
 * What a history may list only once: a record's CID, and a message's id. A log event replayed at
 * a new position is a new record (the log replay flags it `invalid_log`, which says more than
 * refusing the page).
 */
export function uniqueKeys(record: RoomRecord): string[] {
  return 'entry' in record ? [record.cid] : [record.cid, record.envelope.id]
}

/**
 * Refuses a page that cannot be true and lists the positions it lacks. `cursor` is taken as a
 * position that exists (the `nextCursor` of a page before), so what lies between it and the page
 * is missing too; a `desc` page that is the last one must reach position 1.
 */
function checkRoomPage(
  room: string,
  ascending: RoomRecord[],
  { cursor, order, complete }: { cursor: number | undefined; order: 'asc' | 'desc'; complete: boolean },
): HistoryGap[] {
  const gaps: HistoryGap[] = []
  const seen = new Set<string>()
  let previous = order === 'asc' ? (cursor ?? 0) : complete ? 0 : undefined
  for (const record of ascending) {
    for (const key of uniqueKeys(record)) {
      if (seen.has(key)) throw new HistoryRejectedError({ room, seq: record.seq, reason: `it lists ${key} twice` })
      seen.add(key)
    }
    if (previous !== undefined && record.seq <= previous) {
      const reason =
        record.seq === previous ? `it lists position ${record.seq} twice` : `position ${record.seq} comes after ${previous}`
      throw new HistoryRejectedError({ room, seq: record.seq, reason })
    }
    if (previous !== undefined && record.seq > previous + 1) gaps.push({ after: previous, before: record.seq })
    previous = record.seq
  }
  if (order === 'desc' && cursor !== undefined) {
    const newest = ascending.at(-1)?.seq ?? previous
    if (newest !== undefined && newest >= cursor) {
      throw new HistoryRejectedError({ room, seq: newest, reason: `position ${newest} is not before cursor ${cursor}` })
    }
    if (newest !== undefined && newest < cursor - 1) gaps.push({ after: newest, before: cursor })
  }
  return gaps
}

export type HistoryRejectedErrorType = HistoryRejectedError & { name: 'HistoryRejectedError' }

/** The server answered a history that cannot be true (a room's positions are unique and ordered). */
export class HistoryRejectedError extends BaseError {
  override name = 'HistoryRejectedError'
  readonly room: string
  readonly seq: number
  constructor({ room, seq, reason }: { room: string; seq: number; reason: string }) {
    super(`The history of room ${room} was refused: ${reason}.`, {
      metaMessages: ['The server may be faulty or malicious; nothing of this page was shown.'],
    })
    this.room = room
    this.seq = seq
  }
}
