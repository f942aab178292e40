/**
 * zod schemas of the rooms API (docs/api.md, "Rooms"): creating, finding, joining and
 * moderating rooms, their members and membership log, read markers.
 */
import { z } from 'zod'
import { addressInputSchema, addressSchema, cidSchema, idSchema, messageRecordSchema, timestampSchema } from './records.js'
import { roomEncryptionSchema } from './room-keys-api.js'
import { logRecordSchema, roomEventSchema } from './room-records.js'

export const roomTypeSchema = z.enum(['p2p', 'public', 'limited', 'private'])
export const memberStatusSchema = z.enum(['member', 'invited', 'requested', 'none'])

/** A room as the server describes it (clients check this against the log they replay). */
export const roomSchema = z.strictObject({
  id: idSchema,
  type: roomTypeSchema,
  /** Null for 1:1 rooms, which have no name. */
  name: z.string().nullable(),
  description: z.string(),
  avatar: cidSchema.nullable(),
  /** Announcement-only: only roles with `send` post. */
  announce: z.boolean(),
  memberCount: z.number().int().nonnegative(),
  /** Positions used so far (messages and log entries): the newest `seq`. */
  messageCount: z.number().int().nonnegative(),
  customRoles: z.record(z.string(), z.array(z.string())),
  createdAt: timestampSchema,
  /** The newest membership-log entry; null for 1:1 rooms. */
  logHead: z.strictObject({ index: z.number().int().positive(), seq: z.number().int().positive(), cid: cidSchema }).nullable(),
  /** The two wallets of a 1:1 room, sorted; null for groups. */
  pair: z.tuple([addressSchema, addressSchema]).nullable(),
  /** Private rooms: end-to-end encryption and the key epoch; null for other types. */
  encryption: roomEncryptionSchema.nullable(),
})

/** The signed-in wallet's standing in a room. */
export const membershipSchema = z.strictObject({
  status: memberStatusSchema,
  role: z.string().nullable(),
  mutedUntil: timestampSchema.nullable(),
  banned: z.boolean(),
  bannedUntil: timestampSchema.nullable(),
  /** Invited: until when the invitation holds (null: no end); null otherwise. */
  invitedUntil: timestampSchema.nullable(),
  readSeq: z.number().int().nonnegative(),
})

export const roomResponseSchema = z.strictObject({ room: roomSchema, membership: membershipSchema })

/** `POST /v1/rooms`: the 1:1 room with a peer (created on first contact), or a new group from its signed create event. */
export const openRoomRequestSchema = z.union([
  z.strictObject({ peer: addressInputSchema }),
  z.strictObject({ event: roomEventSchema }),
])

/** A room of the signed-in wallet, for a room list. */
export const myRoomSchema = z.strictObject({
  room: roomSchema,
  membership: membershipSchema,
  /** The other wallet of a 1:1 room; null for groups. */
  peer: addressSchema.nullable(),
  /** Messages from others after the read marker. */
  unread: z.number().int().nonnegative(),
  lastMessage: messageRecordSchema.nullable(),
})

export const roomsResponseSchema = z.strictObject({ rooms: z.array(myRoomSchema) })

export const roomSearchQuerySchema = z.strictObject({
  q: z.string().max(100).default(''),
  /** Where the last page ended (`next`). */
  cursor: z.coerce.number().int().nonnegative().max(1_000_000).optional(),
  limit: z.coerce.number().int().min(1).max(100).default(20),
})

export const roomSearchResponseSchema = z.strictObject({
  rooms: z.array(roomSchema),
  /** Pass as `cursor` for the next page; null when there is none. */
  next: z.number().int().nullable(),
})

/** Post a signed room event (join, leave, invite, moderation, roles, settings). */
export const postRoomEventRequestSchema = z.strictObject({ event: roomEventSchema })

export const postRoomEventResponseSchema = z.strictObject({
  /** The entry made of the event; null when it changed nothing (joining a room one is in). */
  entry: logRecordSchema.nullable(),
  membership: membershipSchema,
})

export const memberSchema = z.strictObject({
  address: addressSchema,
  status: memberStatusSchema,
  role: z.string(),
  /** The position at which the address became a member (seniority); 0 if it is not one. */
  joinedSeq: z.number().int().nonnegative(),
  mutedUntil: timestampSchema.nullable(),
  banned: z.boolean(),
  bannedUntil: timestampSchema.nullable(),
  invitedUntil: timestampSchema.nullable(),
  readSeq: z.number().int().nonnegative(),
})

export const membersQuerySchema = z.strictObject({
  status: z.enum(['member', 'invited', 'requested', 'banned']).default('member'),
  /** Where the last page ended (`next`). */
  after: z
    .string()
    .regex(/^\d{1,10}~0x[0-9a-fA-F]{40}$/, 'expected a cursor from `next`')
    .optional(),
  limit: z.coerce.number().int().min(1).max(500).default(100),
})

export const membersResponseSchema = z.strictObject({
  members: z.array(memberSchema),
  next: z.string().nullable(),
  total: z.number().int().nonnegative(),
})

export const logQuerySchema = z.strictObject({
  /** Entries after this room position (`seq`). */
  after: z.coerce.number().int().nonnegative().max(2_147_483_647).default(0),
  limit: z.coerce.number().int().min(1).max(1000).default(500),
})

export const logResponseSchema = z.strictObject({
  entries: z.array(logRecordSchema),
  /** The newest log index. */
  head: z.number().int().nonnegative(),
  /** The room's newest position when the entries were read: every log entry up to it is in this page or before it (unless the page is full). */
  seq: z.number().int().nonnegative(),
})

export const markReadRequestSchema = z.strictObject({ seq: z.number().int().nonnegative().max(2_147_483_647) })
export const markReadResponseSchema = z.strictObject({ readSeq: z.number().int().nonnegative() })

export type Room = z.infer<typeof roomSchema>
export type Membership = z.infer<typeof membershipSchema>
export type MyRoom = z.infer<typeof myRoomSchema>
export type Member = z.infer<typeof memberSchema>
