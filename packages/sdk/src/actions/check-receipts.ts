/**
 * Holds the server to the receipts it signed for this wallet's sends (protocol.md §5.6): reads the
 * history covering each held receipt's position and reports which it confirms (they are then let
 * go) and which it contradicts — the message missing, or another record at its position. A
 * contradicted receipt with what was served is evidence: `checkReceiptEvidence` (@dmtp/protocol)
 * verifies it against the server's key bundle, for anyone.
 */
import type { SignedAck } from '@dmtp/protocol'
import { type BrokenReceipt, checkAgainstReceipts, heldReceipts, loadReceipts } from '../_receipts.js'
import type { DmtpClientBase } from '../client.js'
import type { ApiErrorType } from '../errors.js'
import { coveredPositions, readRoomRecords } from './get-messages.js'

export type CheckReceiptsParameters = {
  /** Only this room's receipts; all held receipts by default. */
  room?: string | undefined
}

export type CheckReceiptsReturnType = {
  /** Receipts the history holds to: the message is at its position (no longer kept). */
  confirmed: SignedAck[]
  /** Receipts the history contradicts, with what it served at their position (evidence). */
  contradicted: BrokenReceipt[]
  /** Rooms whose history could not be read, and why (their receipts stay held). */
  unchecked: { room: string; reason: string }[]
}

export type CheckReceiptsErrorType = ApiErrorType | Error

const PAGE = 500

/**
 * @example
 * import { checkReceipts } from '@dmtp/sdk'
 * const { contradicted } = await checkReceipts(client)
 * for (const { receipt, reason } of contradicted) console.warn(`message ${receipt.id}: ${reason}`)
 */
export async function checkReceipts(
  client: DmtpClientBase,
  { room }: CheckReceiptsParameters = {},
): Promise<CheckReceiptsReturnType> {
  await loadReceipts(client)
  const rooms = room === undefined ? [...client.state.receipts.keys()] : [room]
  const result: CheckReceiptsReturnType = { confirmed: [], contradicted: [], unchecked: [] }
  for (const id of rooms) {
    let held = heldReceipts(client, id).sort((a, b) => a.ack.seq - b.ack.seq)
    try {
      // A page from just below the oldest receipt not judged yet: at most one page per receipt.
      while (held.length > 0) {
        const cursor = (held[0] as (typeof held)[number]).ack.seq - 1
        const page = await readRoomRecords(client, { room: id, cursor, limit: PAGE, order: 'asc' })
        const covered = coveredPositions(page.ascending, { cursor, order: 'asc', complete: page.nextCursor === null })
        if (covered.to <= cursor) throw new Error(`the history after position ${cursor} is neither served nor said to end`)
        const { confirmed, broken } = await checkAgainstReceipts(client, { room: id, held, served: page.ascending, ...covered })
        result.confirmed.push(...confirmed)
        result.contradicted.push(...broken)
        held = held.filter(({ ack }) => ack.seq > covered.to)
      }
    } catch (error) {
      result.unchecked.push({ room: id, reason: error instanceof Error ? (error.message.split('\n')[0] ?? '') : String(error) })
    }
  }
  return result
}
