/**
 * How `dmtp read` shows what a room holds, as JSON and as lines for people. Two shapes:
 *
 * - a view: a message folded with what acted on it (`foldMessages`: reactions, newest edit,
 *   recall, pin, the message it replies to), for the history of one room (`--room`, `--with`);
 * - a feed entry: one position as it was stored (a message, an action on one, or a membership
 *   change), for the inbox and for what `--follow` prints as it arrives.
 *
 * Lines for people are terminal-safe: text, emoji and room names come from other people.
 */
import type { DecryptedMessage, MessageStatus, MessageView } from '@dmtp/sdk'
import { terminalSafe } from './output.js'
import { type RoomName, roomTypeLabel } from './rooms.js'

const STATUS_TEXT: Record<Exclude<MessageStatus, 'ok'>, string> = {
  not_for_me: 'not addressed to this wallet',
  altered: 'altered after it was sent',
  unknown_key: 'signed or encrypted with keys that cannot be verified',
  undecryptable: 'cannot be decrypted',
  awaiting_migration: 'sent before you set up DMTP; run `dmtp migrate` to make it end-to-end',
  invalid_author: 'its sender signature does not match its text',
  invalid_signature: 'not signed by the wallet it names',
  not_member: 'its sender was not a member of the room then',
  forbidden: "its sender's role did not allow it",
  muted: 'its sender was muted then',
  unknown_log_head: 'its sender saw a membership log this client is not shown',
  invalid_log: 'the membership log does not prove it',
  withheld: 'the server holds no text for it',
}

/**
 * A folded message as `read --room/--with --json` prints it: "replyTo" is the id replied to (or
 * null), "reactions" [{"emoji","count","mine"}], "edited" true once edited, "recalled" false or
 * the address that recalled it.
 * @example
 * printJson(foldMessages(messages, { me }).map(viewJson))
 */
export function viewJson(view: MessageView) {
  const { id, room, type, sender, receiver, text, timestamp, e2ee, status, mentions, edited, pinned, problem } = view
  return {
    id,
    room,
    sender,
    receiver,
    text,
    timestamp,
    e2ee,
    status,
    type,
    replyTo: view.replyTo?.id ?? null,
    mentions,
    reactions: view.reactions.map(({ emoji, count, mine }) => ({ emoji, count, mine })),
    edited,
    recalled: view.recalled ? view.recalled.by : false,
    pinned,
    ...(problem ? { problem } : {}),
  }
}

/**
 * A folded message as a line for people. `room` names a group's room; omit it inside that
 * room's own view (its header names it).
 * @example
 * printLine(viewLine(view))
 */
export function viewLine(view: MessageView, room?: RoomName): string {
  const head = `[${view.timestamp}]${view.type === 'system' ? '' : ` ${view.id}`} ${view.sender}${destination(view, room)}`
  if (view.type === 'system' && view.status === 'ok') return safe(`[${view.timestamp}] — ${view.text}`)
  if (view.recalled) {
    const by = view.recalled.by === view.sender ? '' : ` by ${view.recalled.by}`
    return safe(`${head}: (recalled${by})`)
  }
  if (view.text === null) return unreadable(head, view)
  const reply = view.replyTo ? ` (reply to ${view.replyTo.id})` : ''
  const reactions = view.reactions.length ? ` [${view.reactions.map((r) => `${r.emoji} ${r.count}`).join(', ')}]` : ''
  const marks = `${view.edited ? ' (edited)' : ''}${view.pinned ? ' (pinned)' : ''}${reactions}`
  return safe(`${head}${reply}: ${view.text}${marks}`)
}

/**
 * One position as the inbox and `--follow --json` print it, told apart by "type": "message",
 * "react", "unreact", "edit", "recall", "pin", "unpin" (each with the "target" message id) or
 * "system" (a membership change: "text" is its line, "event" the signed event).
 * @example
 * printJson(feedJson(event.message))
 */
export function feedJson(message: DecryptedMessage) {
  const { type, id, room, sender, receiver, timestamp, e2ee, status, text, ref, problem } = message
  const base = { type, id, room, sender, receiver, timestamp, e2ee, status, ...(problem ? { problem } : {}) }
  switch (type) {
    case 'message':
      return { ...base, text, replyTo: ref, mentions: message.mentions }
    case 'system':
      return { ...base, text, event: message.event }
    case 'edit':
      return { ...base, target: ref, text }
    case 'react':
    case 'unreact':
      return { ...base, target: ref, emoji: message.emoji }
    default:
      return { ...base, target: ref }
  }
}

/**
 * One position as a line for people: a message ("[time] id sender → receiver: text"), an action
 * ("[time] sender reacted 👍 to id") or a membership change. `room` names a group's room.
 * @example
 * printLine(feedLine(event.message, await names.get(event.message.room)))
 */
export function feedLine(message: DecryptedMessage, room?: RoomName): string {
  const head = `[${message.timestamp}] ${message.id} ${message.sender}${destination(message, room)}`
  if (message.status !== 'ok') return unreadable(head, message)
  const where = room && message.receiver === null ? ` in ${roomTitle(room, message.room)}` : ''
  const actor = `[${message.timestamp}] ${message.sender}`
  switch (message.type) {
    case 'message':
      return safe(`${head}${message.ref ? ` (reply to ${message.ref})` : ''}: ${message.text}`)
    case 'system':
      return safe(`[${message.timestamp}]${room ? ` ${roomTitle(room, message.room)}:` : ''} ${message.text}`)
    case 'react':
      return safe(`${actor} reacted ${message.emoji} to ${message.ref}${where}`)
    case 'unreact':
      return safe(`${actor} took back ${message.emoji} from ${message.ref}${where}`)
    case 'edit':
      return safe(`${actor} edited ${message.ref}${where}: ${message.text}`)
    case 'recall':
      return safe(`${actor} recalled ${message.ref}${where}`)
    case 'pin':
      return safe(`${actor} pinned ${message.ref}${where}`)
    case 'unpin':
      return safe(`${actor} unpinned ${message.ref}${where}`)
  }
}

/**
 * The header of a room's view: its name, type and what that means, and your standing.
 * @example
 * printLine(roomHeader(room, 'owner')) // 'builders (public room, not end-to-end encrypted; 3 members; you are owner)'
 */
export function roomHeader(
  room: { id: string; type: RoomName['type']; name: string | null; memberCount: number },
  role: string | null,
): string {
  const members = room.type === 'p2p' ? '' : `; ${room.memberCount} member${room.memberCount === 1 ? '' : 's'}`
  const you = role && room.type !== 'p2p' ? `; you are ${role}` : ''
  return safe(`${roomTitle(room, room.id)} (${roomTypeLabel(room.type)}${members}${you})`)
}

/** ` → 0xB0b…` for a 1:1 message (and whether it is end-to-end), ` → "name" (its type)` for a group's. */
function destination(message: DecryptedMessage, room: RoomName | undefined): string {
  if (message.receiver !== null) return ` → ${message.receiver}${message.e2ee ? '' : ' (NOT end-to-end encrypted)'}`
  return room ? ` → ${roomTitle(room, message.room)} (${roomTypeLabel(room.type, message.e2ee)})` : ''
}

function roomTitle(room: Pick<RoomName, 'name'>, id: string): string {
  return room.name === null ? `room ${id}` : `"${room.name}"`
}

function unreadable(head: string, message: DecryptedMessage): string {
  const status = message.status as Exclude<MessageStatus, 'ok'>
  return safe(`${head}: ⚠ unreadable: ${STATUS_TEXT[status]} (${status})`)
}

/** Terminal-safe, with the lines of a multi-line text indented under their message. */
function safe(line: string): string {
  return terminalSafe(line).replaceAll('\n', '\n    ')
}
