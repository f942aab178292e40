/**
 * The membership log of a room (protocol.md §6.4). Every change of membership, roles or settings
 * is a *room event* signed by its actor's DMTP Ed25519 key. The server appends each event it
 * accepts to the room's log as a *log entry*: the event, its position in the room's sequence
 * (shared with messages), its index in the log, and the CID of the previous entry. Entries are
 * blocks, anchored with the room's messages, so the log is hash-linked and append-only.
 *
 * The actor signs what it did and the newest room position it had seen (`basis`); the server
 * chooses where the event goes, never what it says, and never before `basis`.
 */
import type { CryptoBackend } from '../crypto/types.js'
import { fromBase64Url, toBase64Url } from '../encoding/bytes.js'
import { encodeCanonicalWithPrefix } from '../encoding/canonical.js'
import type { InviteLink } from './invitation.js'
import type { Permission } from './permissions.js'

export const ROOM_EVENT_TYPES = [
  'create',
  'join',
  'request',
  'invite',
  'approve',
  'reject',
  'leave',
  'kick',
  'ban',
  'unban',
  'mute',
  'unmute',
  'set_role',
  'define_role',
  'delete_role',
  'update',
  'delete',
  'e2ee_on',
  'e2ee_off',
] as const

export type RoomEventType = (typeof ROOM_EVENT_TYPES)[number]

/** Most members one moderation event names (more take several events, or `all`). */
export const MAX_EVENT_MEMBERS = 100
export const MAX_ROOM_NAME_LENGTH = 100
export const MAX_ROOM_DESCRIPTION_LENGTH = 1000

type EventBase = {
  v: 1
  /** 16 random bytes: an event is accepted once (replay protection). */
  id: string
  room: string
  actor: string
  /** The CID of the actor's key bundle whose Ed25519 key signs. */
  actorKey: string
  at: string
  /** The newest room position (message or event `seq`) the actor had seen; 0 before any. */
  basis: number
}

type Members = { members: string[] }
/** Named members, or everyone the action may reach (`all`): exactly one of the two (the schema checks). */
type MembersOrAll = { members?: string[] | undefined; all?: true | undefined }

/** Each event type with its own fields; a strict zod schema per type lives in `schemas/rooms.ts`. */
export type RoomEventBody =
  | {
      type: 'create'
      roomType: 'public' | 'private'
      name: string
      description: string
      announce: boolean
      avatar: string | null
    }
  /** `link`: the signed invite link a join (or request) uses (docs/private-groups.md §6); its issuer's signature is checked like the actor's. */
  | { type: 'join' | 'request'; link?: InviteLink | undefined }
  | { type: 'leave' | 'delete' }
  /** `until`: the invitation lapses then (the invitee must join before); null or absent: it does not. */
  | ({ type: 'invite'; until?: string | null | undefined } & Members)
  | ({ type: 'approve' | 'reject' | 'unban' } & Members)
  | ({ type: 'kick' | 'unmute' } & MembersOrAll)
  | ({ type: 'mute'; until: string | null } & MembersOrAll)
  | ({ type: 'ban'; until: string | null; removeMessages: boolean } & MembersOrAll)
  | ({ type: 'set_role'; role: string } & Members)
  | { type: 'define_role'; role: string; permissions: Permission[] }
  | { type: 'delete_role'; role: string }
  | { type: 'update'; name?: string; description?: string; avatar?: string | null; announce?: boolean }
  /** Private rooms: end-to-end encryption on (`plain`: members may still choose plaintext per message), or off. */
  | { type: 'e2ee_on'; plain: boolean }
  | { type: 'e2ee_off' }

type Distribute<T> = T extends unknown ? EventBase & T : never

export type UnsignedRoomEvent = Distribute<RoomEventBody>
export type RoomEvent = UnsignedRoomEvent & { signature: string }

/** What the server appends: the signed event at its place in the room and in the log. */
export type LogEntry = {
  v: 1
  room: string
  /** The event's position in the room's sequence, shared with messages (gapless from 1). */
  seq: number
  /** Its position in the log (1 for `create`), gapless. */
  index: number
  /** The CID of entry `index - 1`; null for the first. */
  prev: string | null
  event: RoomEvent
}

const SIGNING_PREFIX = 'dmtp/v1/room-event\n'

/** The bytes an actor signs: everything in the event but its signature. */
export function roomEventSigningBytes(event: UnsignedRoomEvent | RoomEvent): Uint8Array {
  const { signature: _signature, ...unsigned } = event as RoomEvent
  return encodeCanonicalWithPrefix(SIGNING_PREFIX, unsigned)
}

/**
 * Signs a room event with the actor's DMTP Ed25519 key.
 * @example
 * import { signRoomEvent } from '@dmtp/protocol'
 * const event = await signRoomEvent(backend, { event: { v: 1, id, room, type: 'join', actor, actorKey, at, basis }, signingKey })
 */
export async function signRoomEvent(
  backend: CryptoBackend,
  { event, signingKey }: { event: UnsignedRoomEvent; signingKey: Uint8Array },
): Promise<RoomEvent> {
  const signature = await backend.ed25519Sign(signingKey, roomEventSigningBytes(event))
  return { ...event, signature: toBase64Url(signature) } as RoomEvent
}

/** True when `publicKey` (the actor's Ed25519 key) signed exactly this event. */
export async function verifyRoomEventSignature(
  backend: CryptoBackend,
  event: RoomEvent,
  publicKey: Uint8Array,
): Promise<boolean> {
  let signature: Uint8Array
  try {
    signature = fromBase64Url(event.signature)
  } catch {
    return false
  }
  return backend.ed25519Verify(publicKey, roomEventSigningBytes(event), signature)
}
