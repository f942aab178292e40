/**
 * The zod schemas of rooms (`schemas/room-records.ts`, `schemas/records.ts`, `schemas/rooms-api.ts`):
 * every room event type strict, `members` or `all` (exactly one), the limits of names,
 * descriptions, role names and member lists; log entries and records; signed envelopes and the
 * rule that an action names its message; message records carrying content exactly when signed.
 */
import {
  envelopeSchema,
  logEntrySchema,
  logQuerySchema,
  logRecordSchema,
  MAX_EVENT_MEMBERS,
  MAX_ROOM_DESCRIPTION_LENGTH,
  MAX_ROOM_NAME_LENGTH,
  membersQuerySchema,
  messageRecordSchema,
  openRoomRequestSchema,
  PERMISSIONS,
  ROOM_EVENT_TYPES,
  type RoomEvent,
  type RoomEventBody,
  roleNameSchema,
  roomEventSchema,
  roomRecordSchema,
  signedEnvelopeSchema,
  toBlock,
} from '@dmtp/protocol'
import { nodeCryptoBackend } from '@dmtp/protocol/node'
import { beforeAll, describe, expect, test } from 'vitest'
import { makeEnvelope, makeRoomActor, makeRoomEvent, makeSignedEnvelope, type RoomActor } from './_util.js'

const A = '0x00000000000000000000000000000000000A11cE'
const B = '0x0000000000000000000000000000000000000B0b'
const addresses = (count: number) => Array.from({ length: count }, (_, n) => `0x${String(n + 1).padStart(40, '0')}`)
const UNTIL = '2026-06-01T13:00:00.000Z'
const AVATAR = toBlock({ avatar: 1 }).cid

/** One valid body of every event type (both forms where `all` may stand for the members). */
const BODIES: RoomEventBody[] = [
  { type: 'create', roomType: 'public', name: 'Crew', description: '', announce: false, avatar: null },
  { type: 'join' },
  { type: 'request' },
  { type: 'leave' },
  { type: 'delete' },
  { type: 'invite', members: [A, B] },
  { type: 'approve', members: [A] },
  { type: 'reject', members: [A] },
  { type: 'unban', members: [A] },
  { type: 'kick', members: [A] },
  { type: 'kick', all: true },
  { type: 'unmute', members: [A] },
  { type: 'unmute', all: true },
  { type: 'mute', members: [A], until: UNTIL },
  { type: 'mute', all: true, until: null },
  { type: 'ban', members: [A], until: null, removeMessages: true },
  { type: 'ban', all: true, until: UNTIL, removeMessages: false },
  { type: 'set_role', members: [A], role: 'sub-admin' },
  { type: 'define_role', role: 'mod', permissions: ['kick', 'mute'] },
  { type: 'delete_role', role: 'mod' },
  { type: 'update', name: 'New' },
  { type: 'e2ee_on', plain: false },
  { type: 'e2ee_off' },
]

let actor: RoomActor
let events: RoomEvent[]
const room = 'cm9vbS1zY2hlbWEtdGVzdA'
beforeAll(async () => {
  actor = await makeRoomActor(nodeCryptoBackend)
  events = await Promise.all(BODIES.map((body) => makeRoomEvent(body, { actor, room, basis: 3 })))
})

const eventOf = (type: string) => events.find((event) => event.type === type) as RoomEvent
const accepts = (value: unknown) => roomEventSchema.safeParse(value).success
/** The event of `body`'s type with `body`'s fields instead of its own (signature kept: the schema does not check it). */
const withBody = (body: Record<string, unknown>) => {
  const base = eventOf(body.type as string)
  const { type: _type, members: _members, all: _all, ...rest } = base as RoomEvent & { members?: unknown; all?: unknown }
  return { ...rest, ...body }
}

describe('roomEventSchema', () => {
  test('default', () => {
    expect(new Set(events.map((event) => event.type))).toEqual(new Set(ROOM_EVENT_TYPES))
    for (const event of events) expect(roomEventSchema.parse(event), event.type).toEqual(event)
  })

  test('behavior: every type is strict: an unknown field, or a field of another type, is refused', () => {
    for (const event of events) {
      expect(accepts({ ...event, note: 'hi' }), `${event.type} + note`).toBe(false)
      for (const [field, value] of [
        ['members', [A]],
        ['all', true],
        ['until', null],
        ['role', 'mod'],
        ['name', 'x'],
        ['roomType', 'public'],
        ['removeMessages', false],
        ['permissions', []],
      ] as const) {
        if (field in event) continue
        // An update may carry a name; `all` is checked by its own test.
        if (event.type === 'update' && field === 'name') continue
        if (field === 'all' && ['kick', 'unmute', 'mute', 'ban'].includes(event.type)) continue
        if (field === 'members' && ['kick', 'unmute', 'mute', 'ban'].includes(event.type)) continue
        // An invite may end (`until`).
        if (field === 'until' && event.type === 'invite') continue
        expect(accepts({ ...event, [field]: value }), `${event.type} + ${field}`).toBe(false)
      }
    }
  })

  test('behavior: no field of the base may be missing, and the signature is 64 bytes', () => {
    for (const event of events) {
      for (const field of ['v', 'id', 'room', 'type', 'actor', 'actorKey', 'at', 'basis', 'signature']) {
        const { [field]: _dropped, ...rest } = event as Record<string, unknown>
        expect(accepts(rest), `${event.type} without ${field}`).toBe(false)
      }
      expect(accepts({ ...event, signature: event.signature.slice(0, 85) })).toBe(false)
    }
  })

  test('behavior: the base fields in their one form', () => {
    const join = eventOf('join')
    const refused: Record<string, unknown>[] = [
      { v: 2 },
      { id: 'short' },
      { room: `${room}A` },
      { actor: A.toLowerCase() },
      { actorKey: 'not-a-cid' },
      { at: '2026-06-01T12:00:00Z' },
      { at: '2026-02-30T12:00:00.000Z' },
      { basis: -1 },
      { basis: 1.5 },
      { basis: 2_147_483_648 },
      { type: 'promote' },
    ]
    for (const change of refused) expect(accepts({ ...join, ...change }), JSON.stringify(change)).toBe(false)
    expect(accepts({ ...join, basis: 0 })).toBe(true)
    expect(accepts({ ...join, basis: 2_147_483_647 })).toBe(true)
  })

  test('behavior: kick, unmute, mute and ban name their members or all, exactly one of the two', () => {
    for (const type of ['kick', 'unmute', 'mute', 'ban']) {
      const named = eventOf(type)
      const { members: _members, ...neither } = named as RoomEvent & { members?: string[] }
      expect(accepts(neither), `${type} with neither`).toBe(false)
      expect(accepts({ ...neither, all: true }), `${type} with all`).toBe(true)
      expect(accepts({ ...named, all: true }), `${type} with both`).toBe(false)
      expect(accepts({ ...neither, all: false }), `${type} with all: false`).toBe(false)
      expect(accepts({ ...neither, members: [] }), `${type} with no members`).toBe(false)
    }
  })

  test('behavior: member lists: 1 to MAX_EVENT_MEMBERS EIP-55 addresses, each once', () => {
    expect(MAX_EVENT_MEMBERS).toBe(100)
    for (const type of ['invite', 'approve', 'reject', 'unban', 'kick', 'unmute', 'mute', 'ban', 'set_role']) {
      const event = eventOf(type)
      expect(accepts({ ...event, members: addresses(100) }), `${type} of 100`).toBe(true)
      expect(accepts({ ...event, members: addresses(101) }), `${type} of 101`).toBe(false)
      expect(accepts({ ...event, members: [] }), `${type} of none`).toBe(false)
      expect(accepts({ ...event, members: [A, B, A] }), `${type} repeated`).toBe(false)
      expect(accepts({ ...event, members: [A.toLowerCase()] }), `${type} not checksummed`).toBe(false)
    }
  })

  test('behavior: a room name: 1 to 100 characters, visible, no spaces around', () => {
    expect(MAX_ROOM_NAME_LENGTH).toBe(100)
    for (const body of [eventOf('create'), eventOf('update')]) {
      for (const name of ['x', 'x'.repeat(100), 'Crew ⛵', 'a b', 'Ünïcode']) expect(accepts({ ...body, name }), name).toBe(true)
      for (const name of ['', 'x'.repeat(101), ' Crew', 'Crew ', 'Crew\n', 'a\tb', 'a\u0000b', 'evil\u202eman', '\u2066x']) {
        expect(accepts({ ...body, name }), JSON.stringify(name)).toBe(false)
      }
    }
  })

  test('behavior: a description: up to 1000 characters, newlines but no other control characters', () => {
    expect(MAX_ROOM_DESCRIPTION_LENGTH).toBe(1000)
    for (const body of [eventOf('create'), eventOf('update')]) {
      for (const description of ['', 'x'.repeat(1000), 'line one\nline two', ' padded ']) {
        expect(accepts({ ...body, description }), JSON.stringify(description)).toBe(true)
      }
      for (const description of [
        'x'.repeat(1001),
        'a\tb',
        'a\r\nb',
        'a\u0000b',
        'a\u007fb',
        'a\u0085b',
        'a\u202eb',
        'a\u2069b',
      ]) {
        expect(accepts({ ...body, description }), JSON.stringify(description)).toBe(false)
      }
    }
  })

  test('behavior: create: a public or private room, avatar a CID or null', () => {
    const create = eventOf('create')
    expect(accepts({ ...create, roomType: 'private', avatar: AVATAR, announce: true })).toBe(true)
    for (const roomType of ['p2p', 'limited', 'Public']) expect(accepts({ ...create, roomType })).toBe(false)
    expect(accepts({ ...create, avatar: 'https://example.org/a.png' })).toBe(false)
    expect(accepts({ ...create, announce: 'yes' })).toBe(false)
  })

  test('behavior: update: each setting optional, but at least one; avatar may be cleared', () => {
    const update = eventOf('update')
    const { name: _name, ...bare } = update as RoomEvent & { name?: string }
    for (const change of [{ description: 'd' }, { description: '' }, { avatar: null }, { avatar: AVATAR }, { announce: false }]) {
      expect(accepts({ ...bare, ...change }), JSON.stringify(change)).toBe(true)
    }
    // An update that changes nothing is no update (undefined settings are no settings).
    expect(accepts(bare)).toBe(false)
    expect(accepts({ ...bare, name: undefined, announce: undefined })).toBe(false)
    expect(roomEventSchema.safeParse(bare).error?.issues.map(({ path, message }) => ({ path, message }))).toEqual([
      { path: ['type'], message: 'an update changes at least one setting' },
    ])
  })

  test('behavior: mute and ban carry until (a time, or null) and ban says whether messages go too', () => {
    for (const type of ['mute', 'ban']) {
      const event = eventOf(type) as Record<string, unknown>
      const { until: _until, ...untimed } = event
      expect(accepts(untimed), `${type} without until`).toBe(false)
      expect(accepts({ ...event, until: '2026-06-01' }), `${type} with a date`).toBe(false)
    }
    const { removeMessages: _removeMessages, ...ban } = eventOf('ban') as Record<string, unknown>
    expect(accepts(ban)).toBe(false)
  })

  test('behavior: role names: lower case, digits, - and _, at most 32; permissions known, each once', () => {
    for (const role of ['mod', 'mod-2', 'a_b', '0', 'x'.repeat(32), 'constructor']) {
      expect(roleNameSchema.safeParse(role).success, role).toBe(true)
      expect(accepts(withBody({ type: 'define_role', role, permissions: [] })), role).toBe(true)
      expect(accepts(withBody({ type: 'delete_role', role })), role).toBe(true)
    }
    for (const role of ['', 'x'.repeat(33), 'Mod', '-mod', '_mod', 'mod role', 'mød', '__proto__']) {
      expect(roleNameSchema.safeParse(role).success, role).toBe(false)
      expect(accepts(withBody({ type: 'define_role', role, permissions: [] })), role).toBe(false)
      expect(accepts(withBody({ type: 'delete_role', role })), role).toBe(false)
    }
    expect(accepts(withBody({ type: 'define_role', role: 'all', permissions: [...PERMISSIONS] }))).toBe(true)
    expect(accepts(withBody({ type: 'define_role', role: 'x', permissions: ['kick', 'kick'] }))).toBe(false)
    expect(accepts(withBody({ type: 'define_role', role: 'x', permissions: ['fly'] }))).toBe(false)
    expect(accepts(withBody({ type: 'define_role', role: 'x', permissions: 'kick' }))).toBe(false)
    // set_role names a role by a role name (built-in ones included); the rules refuse one the room lacks.
    for (const role of ['owner', 'admin', 'sub-admin', 'member', 'mod', 'x'.repeat(32)]) {
      expect(accepts(withBody({ type: 'set_role', members: [A], role })), role).toBe(true)
    }
    for (const role of ['', 'x'.repeat(33), 'Admin', 'Owner', 'sub admin', '-mod', '_mod', 'mød', '__proto__', 'mod\n']) {
      expect(accepts(withBody({ type: 'set_role', members: [A], role })), JSON.stringify(role)).toBe(false)
    }
  })
})

describe('logEntrySchema', () => {
  const entryOf = (event: RoomEvent) => ({ v: 1, room, seq: 7, index: 3, prev: toBlock({ entry: 2 }).cid, event })

  test('default', () => {
    for (const event of events) expect(logEntrySchema.parse(entryOf(event))).toEqual(entryOf(event))
    expect(logEntrySchema.safeParse({ ...entryOf(eventOf('create')), index: 1, seq: 1, prev: null }).success).toBe(true)
  })

  test('behavior: strict, with positions from 1 to 2^31 - 1 and a valid event', () => {
    const entry = entryOf(eventOf('join'))
    const refused: Record<string, unknown>[] = [
      { v: 2 },
      { seq: 0 },
      { index: 0 },
      { seq: 2_147_483_648 },
      { index: 1.5 },
      { prev: 'x' },
      { room: 'x' },
      { note: 'hi' },
      { event: { ...entry.event, note: 'hi' } },
      { event: { ...eventOf('kick'), members: undefined } },
    ]
    for (const change of refused)
      expect(logEntrySchema.safeParse({ ...entry, ...change }).success, JSON.stringify(change)).toBe(false)
    const { prev: _prev, ...noPrev } = entry
    expect(logEntrySchema.safeParse(noPrev).success).toBe(false)
  })

  test("behavior: the event is of the entry's room", () => {
    const join = eventOf('join')
    const elsewhere = 'b3RoZXItcm9vbS1zY2hlbQ'
    expect(logEntrySchema.safeParse({ ...entryOf(join), room: elsewhere }).success).toBe(false)
    expect(logEntrySchema.safeParse(entryOf({ ...join, room: elsewhere })).success).toBe(false)
    expect(logEntrySchema.safeParse({ ...entryOf({ ...join, room: elsewhere }), room: elsewhere }).success).toBe(true)
    const error = logEntrySchema.safeParse({ ...entryOf(join), room: elsewhere }).error
    expect(error?.issues.map(({ path, message }) => ({ path, message }))).toEqual([
      { path: ['event', 'room'], message: "expected the event of the entry's room" },
    ])
  })
})

describe('logRecordSchema', () => {
  test('default', () => {
    const entry = { v: 1, room, seq: 7, index: 3, prev: null, event: eventOf('join') }
    const record = { cid: toBlock(entry).cid, seq: 7, receivedAt: '2026-06-01T12:00:00.000Z', entry }
    expect(logRecordSchema.parse(record)).toEqual(record)
    expect(roomRecordSchema.parse(record)).toEqual(record)
    expect(logRecordSchema.safeParse({ ...record, extra: 1 }).success).toBe(false)
  })
})

describe('signedEnvelopeSchema', () => {
  test('default', async () => {
    const { envelope } = await makeSignedEnvelope(nodeCryptoBackend)
    expect(signedEnvelopeSchema.parse(envelope)).toEqual(envelope)
    expect(envelopeSchema.parse(envelope)).toEqual(envelope)
  })

  test('behavior: an action names the message it acts on (ref); a reply is a message with a ref', async () => {
    const ref = 'cmVmZXJlbmNlZC1tc2ctMQ'
    const { envelope } = await makeSignedEnvelope(nodeCryptoBackend)
    for (const schema of [signedEnvelopeSchema, envelopeSchema]) {
      for (const type of ['edit', 'react', 'unreact', 'recall', 'pin', 'unpin']) {
        expect(schema.safeParse({ ...envelope, type, ref }).success, `${type} with ref`).toBe(true)
        expect(schema.safeParse({ ...envelope, type }).success, `${type} without ref`).toBe(false)
      }
      expect(schema.safeParse({ ...envelope, ref }).success).toBe(true)
      expect(schema.safeParse({ ...envelope, type: 'message', ref }).success).toBe(false)
      expect(schema.safeParse({ ...envelope, type: 'forward', ref }).success).toBe(false)
      expect(schema.safeParse({ ...envelope, ref: 'short' }).success).toBe(false)
    }
    const error = signedEnvelopeSchema.safeParse({ ...envelope, type: 'pin' }).error
    expect(error?.issues.map(({ path, message }) => ({ path, message }))).toEqual([
      { path: ['ref'], message: 'an action names the message it acts on (ref)' },
    ])
  })

  test('behavior: strict; the pair fields and a batch proof do not belong', async () => {
    const { envelope } = await makeSignedEnvelope(nodeCryptoBackend)
    for (const extra of [{ receiver: envelope.sender }, { messages: 'AAAA' }, { proof: [] }, { note: 'hi' }]) {
      expect(signedEnvelopeSchema.safeParse({ ...envelope, ...extra }).success, JSON.stringify(extra)).toBe(false)
      expect(envelopeSchema.safeParse({ ...envelope, ...extra }).success, JSON.stringify(extra)).toBe(false)
    }
    for (const field of ['logHead', 'content', 'senderKey', 'timestamp', 'signature']) {
      const { [field]: _dropped, ...rest } = envelope as Record<string, unknown>
      expect(signedEnvelopeSchema.safeParse(rest).success, field).toBe(false)
    }
  })
})

describe('envelopeSchema', () => {
  test('behavior: a pair envelope: p2p actions name their message; relayed and migrated carry none', async () => {
    const ref = 'cmVmZXJlbmNlZC1tc2ctMQ'
    const envelope = await makeEnvelope(nodeCryptoBackend)
    expect(envelopeSchema.safeParse({ ...envelope, type: 'react', ref }).success).toBe(true)
    expect(envelopeSchema.safeParse({ ...envelope, ref }).success).toBe(true)
    expect(envelopeSchema.safeParse({ ...envelope, type: 'react' }).success).toBe(false)
    const relayed = { ...envelope, suite: 'dmtp-relay-v1' }
    expect(envelopeSchema.safeParse(relayed).success).toBe(true)
    expect(envelopeSchema.safeParse({ ...relayed, type: 'react', ref }).success).toBe(false)
    expect(envelopeSchema.safeParse({ ...relayed, ref }).success).toBe(false)
    const migrated = { ...envelope, suite: 'dmtp-migrated-v1', replaces: toBlock({ relayed: 1 }).cid }
    expect(envelopeSchema.safeParse(migrated).success).toBe(true)
    expect(envelopeSchema.safeParse({ ...migrated, type: 'react', ref }).success).toBe(false)
  })
})

describe('messageRecordSchema', () => {
  const record = (envelope: unknown, more: Record<string, unknown> = {}) => ({
    cid: toBlock(envelope).cid,
    seq: 4,
    e2ee: false,
    receivedAt: '2026-06-01T12:00:00.000Z',
    envelope,
    ...more,
  })

  test('default', async () => {
    const { envelope } = await makeSignedEnvelope(nodeCryptoBackend)
    const signed = record(envelope, { content: { type: 'text', text: 'gm' } })
    expect(messageRecordSchema.parse(signed)).toEqual(signed)
    expect(roomRecordSchema.parse(signed)).toEqual(signed)
  })

  test('behavior: content is present exactly for the signed suite (null once recalled)', async () => {
    const { envelope } = await makeSignedEnvelope(nodeCryptoBackend)
    const pair = await makeEnvelope(nodeCryptoBackend)
    expect(messageRecordSchema.safeParse(record(envelope, { content: null })).success).toBe(true)
    expect(messageRecordSchema.safeParse(record(envelope)).success).toBe(false)
    expect(messageRecordSchema.safeParse(record(envelope, { content: { type: 'text', text: '' } })).success).toBe(false)
    expect(messageRecordSchema.safeParse(record(pair, { e2ee: true })).success).toBe(true)
    expect(messageRecordSchema.safeParse(record(pair, { e2ee: true, content: null })).success).toBe(false)
    expect(messageRecordSchema.safeParse(record(pair, { e2ee: true, content: { type: 'text', text: 'gm' } })).success).toBe(false)
    expect(roomRecordSchema.safeParse(record(pair, { e2ee: true, content: null })).success).toBe(false)
  })
})

describe('openRoomRequestSchema', () => {
  test('behavior: a peer (any case), or a signed create event', () => {
    expect(openRoomRequestSchema.parse({ peer: A.toLowerCase() })).toEqual({ peer: A })
    expect(openRoomRequestSchema.parse({ event: eventOf('create') })).toEqual({ event: eventOf('create') })
    expect(openRoomRequestSchema.safeParse({ peer: A, event: eventOf('create') }).success).toBe(false)
    expect(openRoomRequestSchema.safeParse({}).success).toBe(false)
  })
})

describe('membersQuerySchema', () => {
  test('behavior: defaults, statuses and the cursor form', () => {
    expect(membersQuerySchema.parse({})).toEqual({ status: 'member', limit: 100 })
    expect(membersQuerySchema.parse({ status: 'banned', after: `12~${A}`, limit: '500' })).toEqual({
      status: 'banned',
      after: `12~${A}`,
      limit: 500,
    })
    for (const query of [{ status: 'none' }, { after: A }, { after: `x~${A}` }, { limit: '501' }, { limit: '0' }]) {
      expect(membersQuerySchema.safeParse(query).success, JSON.stringify(query)).toBe(false)
    }
  })
})

describe('logQuerySchema', () => {
  test('behavior: defaults and bounds', () => {
    expect(logQuerySchema.parse({})).toEqual({ after: 0, limit: 500 })
    expect(logQuerySchema.parse({ after: '2147483647', limit: '1000' })).toEqual({ after: 2_147_483_647, limit: 1000 })
    for (const query of [{ after: '-1' }, { after: '2147483648' }, { limit: '1001' }, { other: 1 }]) {
      expect(logQuerySchema.safeParse(query).success, JSON.stringify(query)).toBe(false)
    }
  })
})
