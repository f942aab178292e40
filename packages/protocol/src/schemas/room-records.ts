/**
 * zod schemas of the membership log (protocol.md §6.4): room events, the log entries the server
 * makes of them, and the records of a room's sequence (messages and log entries) as served.
 */
import { z } from 'zod'
import { MAX_CURSOR_VALUE } from '../rooms/limits.js'
import { isPermission, ROLE_NAME } from '../rooms/permissions.js'
import { MAX_EVENT_MEMBERS, MAX_ROOM_DESCRIPTION_LENGTH, MAX_ROOM_NAME_LENGTH } from '../rooms/room-event.js'
import { addressSchema, base64UrlSchema, cidSchema, idSchema, messageRecordSchema, timestampSchema } from './records.js'
import { inviteLinkSchema } from './room-key-records.js'

// No control characters, nor bidi overrides that could disguise a name.
const VISIBLE = /^[^\p{Cc}\u202a-\u202e\u2066-\u2069]*$/u

export const roomNameSchema = z
  .string()
  .min(1)
  .max(MAX_ROOM_NAME_LENGTH)
  .regex(VISIBLE, 'expected no control characters')
  .refine((name) => name.trim() === name, 'expected no leading or trailing spaces')

export const roomDescriptionSchema = z
  .string()
  .max(MAX_ROOM_DESCRIPTION_LENGTH)
  .regex(/^(?:[^\p{Cc}\u202a-\u202e\u2066-\u2069]|\n)*$/u, 'expected no control characters but newlines')

export const roleNameSchema = z.string().max(32).regex(ROLE_NAME, 'expected a role name: lower case, digits, - and _')

export const permissionSchema = z.string().refine(isPermission, 'expected a DMTP permission')

const membersSchema = z
  .array(addressSchema)
  .min(1)
  .max(MAX_EVENT_MEMBERS)
  .refine((members) => new Set(members).size === members.length, 'expected each member once')

const eventBase = {
  v: z.literal(1),
  id: idSchema,
  room: idSchema,
  actor: addressSchema,
  actorKey: cidSchema,
  at: timestampSchema,
  basis: z.number().int().nonnegative().max(MAX_CURSOR_VALUE),
  signature: base64UrlSchema({ bytes: 64 }),
}
const event = <T extends string, S extends z.ZodRawShape>(type: T, shape: S) =>
  z.strictObject({ ...eventBase, type: z.literal(type), ...shape })

const membersOrAll = { members: membersSchema.optional(), all: z.literal(true).optional() }
/** Each of these names its members or `all`, exactly one of the two (an event naming neither is no event). */
const MEMBERS_OR_ALL: ReadonlySet<string> = new Set(['kick', 'unmute', 'mute', 'ban'])

function namesMembersOrAll(value: object): boolean {
  const { members, all } = value as { members?: unknown; all?: unknown }
  return (all === true) !== (members !== undefined)
}

const untilSchema = timestampSchema.nullable()

export const roomEventSchema = z
  .discriminatedUnion('type', [
    event('create', {
      roomType: z.enum(['public', 'private']),
      name: roomNameSchema,
      description: roomDescriptionSchema,
      announce: z.boolean(),
      avatar: cidSchema.nullable(),
    }),
    // The invite link the join or request uses (docs/private-groups.md §6), if any.
    event('join', { link: inviteLinkSchema.optional() }),
    event('request', { link: inviteLinkSchema.optional() }),
    event('leave', {}),
    event('delete', {}),
    event('e2ee_on', { plain: z.boolean() }),
    event('e2ee_off', {}),
    event('invite', { members: membersSchema, until: untilSchema.optional() }),
    event('approve', { members: membersSchema }),
    event('reject', { members: membersSchema }),
    event('unban', { members: membersSchema }),
    event('kick', membersOrAll),
    event('unmute', membersOrAll),
    event('mute', { ...membersOrAll, until: untilSchema }),
    event('ban', { ...membersOrAll, until: untilSchema, removeMessages: z.boolean() }),
    event('set_role', { members: membersSchema, role: roleNameSchema }),
    event('define_role', {
      role: roleNameSchema,
      permissions: z
        .array(permissionSchema)
        .max(32)
        .refine((list) => new Set(list).size === list.length, 'expected each permission once'),
    }),
    event('delete_role', { role: roleNameSchema }),
    event('update', {
      name: roomNameSchema.optional(),
      description: roomDescriptionSchema.optional(),
      avatar: cidSchema.nullable().optional(),
      announce: z.boolean().optional(),
    }),
  ])
  .refine((value) => !MEMBERS_OR_ALL.has(value.type) || namesMembersOrAll(value), {
    message: 'expected either members or all',
    path: ['members'],
  })
  .refine(
    (value) =>
      value.type !== 'update' ||
      value.name !== undefined ||
      value.description !== undefined ||
      value.avatar !== undefined ||
      value.announce !== undefined,
    { message: 'an update changes at least one setting', path: ['type'] },
  )

export const logEntrySchema = z
  .strictObject({
    v: z.literal(1),
    room: idSchema,
    seq: z.number().int().positive().max(MAX_CURSOR_VALUE),
    index: z.number().int().positive().max(MAX_CURSOR_VALUE),
    prev: cidSchema.nullable(),
    event: roomEventSchema,
  })
  .refine((entry) => entry.event.room === entry.room, {
    message: "expected the event of the entry's room",
    path: ['event', 'room'],
  })

/** A membership-log entry as the server returns it. */
export const logRecordSchema = z.strictObject({
  cid: cidSchema,
  /** Position in its room (the entry's `seq`). */
  seq: z.number().int().positive(),
  receivedAt: timestampSchema,
  entry: logEntrySchema,
})

/** One position of a room's sequence: a message, or a membership-log entry. */
export const roomRecordSchema = z.union([messageRecordSchema, logRecordSchema])

export type LogRecord = z.infer<typeof logRecordSchema>
export type RoomRecord = z.infer<typeof roomRecordSchema>
