/**
 * A room's membership log, replayed and checked here: each event with the line a timeline shows,
 * whether it verifies, and what is wrong when it does not.
 */
import type { RoomEvent } from '@dmtp/protocol'
import { type LogProblem, roomLog } from '../_room-log.js'
import { systemLine } from '../_system-line.js'
import type { DmtpClientBase } from '../client.js'

export type GetRoomLogParameters = { room: string }

export type RoomLogEvent = {
  seq: number
  index: number
  cid: string
  event: RoomEvent
  line: string
  verified: boolean
  problem: string | null
}

export type GetRoomLogReturnType = { events: RoomLogEvent[]; problems: LogProblem[] }

/**
 * @example
 * import { getRoomLog } from '@dmtp/sdk'
 * const { events } = await getRoomLog(client, { room })
 * for (const e of events) console.log(e.verified ? '✓' : '✗', e.line)
 */
export async function getRoomLog(client: DmtpClientBase, { room }: GetRoomLogParameters): Promise<GetRoomLogReturnType> {
  const log = roomLog(client, room)
  await log.sync()
  const records = log.records()
  for (const actor of new Set(records.map((record) => record.entry.event.actor))) await log.verifyActor(actor)
  const events = records.map((record) => {
    const problem = log.problemAt(record.seq) ?? null
    return {
      seq: record.seq,
      index: record.entry.index,
      cid: record.cid,
      event: record.entry.event,
      line: systemLine(record.entry.event),
      verified: problem === null,
      problem,
    }
  })
  return { events, problems: log.problems }
}
