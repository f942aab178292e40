/**
 * Every position of every room (seed: Messages table, with the CID): messages and message actions
 * (`kind` envelope, `envelope` the signed record as sent) and membership-log entries (`kind` log,
 * `envelope` the entry). Stored once whatever the room's size.
 */
export interface MessagesTable {
  id: string
  room_id: string
  /** Position in the room, from 1, gapless. */
  seq: number
  /** Stream position, unique across the server, in commit order. */
  pos: number
  kind: 'envelope' | 'log'
  /** `message`, an action (`edit`, `react`, …) or a log event type (`join`, `kick`, …). */
  type: string
  /** The message an action acts on or a message replies to. */
  ref: string | null
  /** The sender, or the actor of a log event. */
  sender: string
  /** 1:1 rooms only. */
  receiver: string | null
  timestamp: string
  cid: string
  envelope: string
  /** Public rooms: the content block's text and CID; null once recalled. */
  content: string | null
  content_cid: string | null
  /** 1 when end-to-end encrypted, 0 when readable by the server (pattern β, public rooms). */
  e2ee: number
  received_at: string
  /** The id of the event that recalled this message. */
  recalled_by: string | null
  /** The id of the event that pinned it, while pinned. */
  pinned_by: string | null
}
export const tableName = 'messages'
export type PartialDB = { [tableName]: MessagesTable }
