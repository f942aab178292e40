/**
 * Message rows as API records. The envelope is stored as the exact canonical text the sender
 * signed, so the live path splices that text into frames instead of re-serializing it.
 */
import type { Envelope, MessageRecord } from '@dmtp/protocol'

export type MessageRow = { cid: string; seq: number; e2ee: number; received_at: string; envelope: string }

export function toMessageRecord(row: MessageRow): MessageRecord {
  return {
    cid: row.cid,
    seq: row.seq,
    e2ee: row.e2ee === 1,
    receivedAt: row.received_at,
    envelope: JSON.parse(row.envelope) as Envelope,
  }
}

/** The JSON of a MessageRecord, built around the stored envelope text without parsing it. */
export function messageRecordJson(row: MessageRow): string {
  return `{"cid":"${row.cid}","seq":${row.seq},"e2ee":${row.e2ee === 1},"receivedAt":"${row.received_at}","envelope":${row.envelope}}`
}
