/**
 * Room positions as API records. Envelopes and log entries are stored as the exact canonical text
 * that was signed (or appended), so records and stream frames splice that text in instead of
 * parsing and serializing it again.
 */
import type { RoomRecord } from '@dmtp/protocol'

export type MessageRow = {
  cid: string
  seq: number
  e2ee: number
  received_at: string
  envelope: string
  content: string | null
  /** Set for public messages, whose record carries their content (null once recalled). */
  content_cid: string | null
}

export type RoomRow = MessageRow & { kind: 'envelope' | 'log' }

/** The JSON of a MessageRecord, built around the stored envelope text without parsing it. */
export function messageRecordJson(row: MessageRow): string {
  const content = row.content_cid === null ? '' : `,"content":${row.content ?? 'null'}`
  return `{"cid":"${row.cid}","seq":${row.seq},"e2ee":${row.e2ee === 1},"receivedAt":"${row.received_at}","envelope":${row.envelope}${content}}`
}

/** The JSON of a LogRecord. */
export function logRecordJson(cid: string, seq: number, receivedAt: string, entryText: string): string {
  return `{"cid":"${cid}","seq":${seq},"receivedAt":"${receivedAt}","entry":${entryText}}`
}

export function roomRecordJson(row: RoomRow): string {
  return row.kind === 'log' ? logRecordJson(row.cid, row.seq, row.received_at, row.envelope) : messageRecordJson(row)
}

export function toRoomRecord(row: RoomRow): RoomRecord {
  return JSON.parse(roomRecordJson(row)) as RoomRecord
}

/** A stream's `message` frame for the record at stream position `pos`. */
export function streamFrame(pos: number, recordJson: string): string {
  return `{"type":"message","cursor":${pos},"message":${recordJson}}`
}
