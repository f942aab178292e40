/**
 * Reads the wallet's inbox: every message it sent or received across all conversations, after a
 * per-wallet cursor, in the order the server stored them (what `stream()` replays).
 *
 * The page is checked as the stream checks frames (protocol.md §6.9): cursors must rise, and no
 * record or id is listed twice (else the page is refused); a room's positions are gapless, so
 * one skipped between two entries of the same room is reported in `gaps` (except across this
 * wallet's removal and re-join, where the room is not owed what was said meanwhile).
 */
import { inboxResponseSchema, type RoomRecord } from '@dmtp/protocol'
import { type DecryptedMessage, decryptRecord } from '../_decrypt.js'
import { authedRequest } from '../_session.js'
import { removesWallet, roomOf } from '../_stream-guard.js'
import type { DmtpClientBase } from '../client.js'
import type { ApiErrorType } from '../errors.js'
import { type HistoryGap, HistoryRejectedError, type HistoryRejectedErrorType, uniqueKeys } from './get-messages.js'

export type GetInboxParameters = { after?: number | undefined; limit?: number | undefined }

export type GetInboxReturnType = {
  entries: { cursor: number; message: DecryptedMessage }[]
  /** The newest cursor in the inbox; when the last entry's cursor equals it, you are caught up. */
  latest: number
  /** Positions of a room missing between two of its entries in this page; empty when none. */
  gaps: ({ room: string } & HistoryGap)[]
}

export type GetInboxErrorType = HistoryRejectedErrorType | ApiErrorType

/**
 * @example
 * import { getInbox } from '@dmtp/sdk'
 * const { entries, latest } = await getInbox(client, { after: 0 })
 * @throws {HistoryRejectedError} when the page lists a record twice or its cursors do not rise.
 */
export async function getInbox(
  client: DmtpClientBase,
  { after = 0, limit = 200 }: GetInboxParameters = {},
): Promise<GetInboxReturnType> {
  const [response, wallet] = await Promise.all([
    authedRequest(client, { method: 'GET', path: '/v1/inbox', query: { after, limit }, schema: inboxResponseSchema }),
    client.getWallet(),
  ])
  const gaps = checkInboxPage(response.entries, after, wallet.address)
  // Rooms in parallel; each room's entries in order, so a log entry is replayed before what follows it.
  const byRoom = new Map<string, number[]>()
  response.entries.forEach((entry, i) => {
    const room = roomOf(entry.message)
    byRoom.set(room, [...(byRoom.get(room) ?? []), i])
  })
  const messages: DecryptedMessage[] = new Array(response.entries.length)
  await Promise.all(
    [...byRoom.values()].map(async (indexes) => {
      for (const i of indexes) messages[i] = await decryptRecord(client, (response.entries[i] as { message: RoomRecord }).message)
    }),
  )
  const entries = response.entries.map((entry, i) => ({ cursor: entry.cursor, message: messages[i] as DecryptedMessage }))
  return { entries, latest: response.latest, gaps }
}

function checkInboxPage(entries: { cursor: number; message: RoomRecord }[], after: number, me: string) {
  const gaps: ({ room: string } & HistoryGap)[] = []
  const seen = new Set<string>()
  const rooms = new Map<string, { seq: number; left: boolean }>()
  let previous = after
  for (const { cursor, message } of entries) {
    const room = roomOf(message)
    if (cursor <= previous) {
      throw new HistoryRejectedError({ room, seq: message.seq, reason: `inbox cursor ${cursor} comes after ${previous}` })
    }
    previous = cursor
    for (const key of uniqueKeys(message)) {
      if (seen.has(key)) throw new HistoryRejectedError({ room, seq: message.seq, reason: `the inbox lists ${key} twice` })
      seen.add(key)
    }
    const last = rooms.get(room)
    if (last && message.seq <= last.seq) {
      throw new HistoryRejectedError({ room, seq: message.seq, reason: `position ${message.seq} comes after ${last.seq}` })
    }
    if (last && !last.left && message.seq > last.seq + 1) gaps.push({ room, after: last.seq, before: message.seq })
    rooms.set(room, { seq: message.seq, left: removesWallet(message, me) })
  }
  return gaps
}
