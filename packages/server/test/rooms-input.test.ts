/**
 * Bad input to the rooms API: unknown and deleted rooms, every text field past its limit, events
 * that contradict themselves or the room, and actions on messages that are not there. Each gets a
 * clear 4xx with a stable code and changes nothing in the database.
 */
import {
  MAX_EMOJI_LENGTH,
  MAX_EVENT_MEMBERS,
  MAX_MENTIONS,
  MAX_ROOM_DESCRIPTION_LENGTH,
  MAX_ROOM_NAME_LENGTH,
  MAX_TEXT_LENGTH,
} from '@dmtp/protocol'
import { generatePrivateKey, privateKeyToAccount } from 'viem/accounts'
import { afterAll, beforeAll, describe, expect, test } from 'vitest'
import { type GroupWallet, groupWallets, randomId, unlimited } from './_rooms.js'
import { DIALECTS, snapshotDb, TestServer } from './_util.js'
import { type ApiResponse, api } from './_wallet.js'

type Case = [what: string, call: () => Promise<ApiResponse>, status: number, code: string]

const addresses = (count: number) => Array.from({ length: count }, () => privateKeyToAccount(generatePrivateKey()).address)

describe.each(DIALECTS)('rooms input (%s)', (dialect) => {
  let server: TestServer
  let owner: GroupWallet
  let member: GroupWallet
  let outsider: GroupWallet
  let room: string
  let message: string

  beforeAll(async () => {
    server = await TestServer.create({ dialect, configure: unlimited })
    ;[owner, member, outsider] = (await groupWallets(server, 3)) as [GroupWallet, GroupWallet, GroupWallet]
    room = await owner.createRoom({ name: 'Inputs' })
    await member.must(room, { type: 'join' })
    message = await member.said(room, 'a message to act on')
  })
  afterAll(async () => {
    await server[Symbol.asyncDispose]()
  })

  /** Runs every case; each must answer as listed and leave the database as it was. */
  async function expectRefused(cases: Case[]): Promise<void> {
    for (const [what, call, status, code] of cases) {
      const before = await snapshotDb(server)
      const response = await call()
      expect({ what, status: response.status, code: response.body?.error?.code }).toEqual({ what, status, code })
      expect(typeof response.body.error.message, what).toBe('string')
      expect(await snapshotDb(server), `${what} changed the database`).toEqual(before)
    }
  }

  test('behavior: an unknown room is room_not_found everywhere', async () => {
    const unknown = randomId()
    await expectRefused([
      ['GET room', () => owner.room(unknown), 404, 'room_not_found'],
      ['GET log', () => owner.get(`/v1/rooms/${unknown}/log`), 404, 'room_not_found'],
      ['GET members', () => owner.get(`/v1/rooms/${unknown}/members`), 404, 'room_not_found'],
      ['GET messages', () => owner.get(`/v1/rooms/${unknown}/messages`), 404, 'room_not_found'],
      [
        'POST read',
        () => api(owner.baseUrl, 'POST', `/v1/rooms/${unknown}/read`, { token: owner.token, body: { seq: 1 } }),
        404,
        'room_not_found',
      ],
      ['join', () => outsider.act(unknown, { type: 'join' }), 404, 'room_not_found'],
      ['invite', () => owner.act(unknown, { type: 'invite', members: [outsider.address] }), 404, 'room_not_found'],
      ['send', () => member.say(unknown, 'hello?'), 404, 'room_not_found'],
      ['malformed room id', () => owner.room('not a room id'), 400, 'validation_failed'],
    ])
  })

  test('behavior: a deleted room is room_not_found, to join, read and post', async () => {
    const gone = await owner.createRoom({ name: 'Short-lived' })
    await member.must(gone, { type: 'join' })
    await owner.must(gone, { type: 'delete' })
    await expectRefused([
      ['join', () => outsider.act(gone, { type: 'join' }), 404, 'room_not_found'],
      ['send', () => member.say(gone, 'still here?'), 404, 'room_not_found'],
      ['leave', () => member.act(gone, { type: 'leave' }), 404, 'room_not_found'],
      ['GET room', () => member.room(gone), 404, 'room_not_found'],
      ['GET messages', () => member.get(`/v1/rooms/${gone}/messages`), 404, 'room_not_found'],
    ])
  })

  test('behavior: every text field past its limit is validation_failed', async () => {
    const long = (n: number) => 'x'.repeat(n)
    const create = (fields: Record<string, unknown>) => async () =>
      owner.postCreate({ ...(await owner.createEvent()), ...fields })
    // Limits are checked before the signature: the fields may be changed after signing.
    const event = (body: Record<string, unknown>) => async () => {
      const signed = await owner.signEvent(room, { type: 'leave' })
      const { type: _type, ...base } = signed
      return owner.postEvent(room, { ...base, ...body })
    }
    const content = (value: unknown, type?: 'react') => async () => {
      const { envelope } = await member.sealSigned(room, { type: 'none' }, type ? { type, ref: message } : {})
      return member.postSigned(envelope, value)
    }
    await expectRefused([
      ['room name too long', create({ name: long(MAX_ROOM_NAME_LENGTH + 1) }), 400, 'validation_failed'],
      ['room name empty', create({ name: '' }), 400, 'validation_failed'],
      ['room name with a control character', create({ name: 'bad\u0007name' }), 400, 'validation_failed'],
      ['room name with a bidi override', create({ name: 'abc\u202edef' }), 400, 'validation_failed'],
      ['room name with outer spaces', create({ name: ' padded ' }), 400, 'validation_failed'],
      ['description too long', create({ description: long(MAX_ROOM_DESCRIPTION_LENGTH + 1) }), 400, 'validation_failed'],
      ['room type limited', create({ roomType: 'limited' }), 400, 'validation_failed'],
      ['update: name too long', event({ type: 'update', name: long(MAX_ROOM_NAME_LENGTH + 1) }), 400, 'validation_failed'],
      [
        'update: description too long',
        event({ type: 'update', description: long(MAX_ROOM_DESCRIPTION_LENGTH + 1) }),
        400,
        'validation_failed',
      ],
      ['define_role: name too long', event({ type: 'define_role', role: long(33), permissions: [] }), 400, 'validation_failed'],
      [
        'define_role: name in capitals',
        event({ type: 'define_role', role: 'Moderator', permissions: [] }),
        400,
        'validation_failed',
      ],
      [
        'define_role: unknown permission',
        event({ type: 'define_role', role: 'mod', permissions: ['fly'] }),
        400,
        'validation_failed',
      ],
      [
        'define_role: a permission twice',
        event({ type: 'define_role', role: 'mod', permissions: ['kick', 'kick'] }),
        400,
        'validation_failed',
      ],
      ['delete_role: name too long', event({ type: 'delete_role', role: long(33) }), 400, 'validation_failed'],
      [
        'set_role: role too long',
        event({ type: 'set_role', members: [member.address], role: long(33) }),
        400,
        'validation_failed',
      ],
      ['too many members', event({ type: 'invite', members: addresses(MAX_EVENT_MEMBERS + 1) }), 400, 'validation_failed'],
      ['a member twice', event({ type: 'invite', members: [outsider.address, outsider.address] }), 400, 'validation_failed'],
      ['no members', event({ type: 'invite', members: [] }), 400, 'validation_failed'],
      ['not an address', event({ type: 'invite', members: ['0x1234'] }), 400, 'validation_failed'],
      ['unknown event type', event({ type: 'promote', members: [member.address] }), 400, 'validation_failed'],
      ['unknown event field', event({ type: 'leave', reason: 'bye' }), 400, 'validation_failed'],
      ['text too long', content({ type: 'text', text: long(MAX_TEXT_LENGTH + 1) }), 400, 'validation_failed'],
      [
        'text too long in UTF-16 units',
        content({ type: 'text', text: '🙂'.repeat(MAX_TEXT_LENGTH / 2 + 1) }),
        400,
        'validation_failed',
      ],
      ['text empty', content({ type: 'text', text: '' }), 400, 'validation_failed'],
      [
        'too many mentions',
        content({ type: 'text', text: 'hi all', mentions: addresses(MAX_MENTIONS + 1) }),
        400,
        'validation_failed',
      ],
      ['a mention that is no address', content({ type: 'text', text: 'hi', mentions: ['bob'] }), 400, 'validation_failed'],
      [
        'emoji too long in UTF-16 units',
        content({ type: 'reaction', emoji: '🙂'.repeat(MAX_EMOJI_LENGTH / 2 + 1) }, 'react'),
        400,
        'validation_failed',
      ],
      [
        'emoji too long in code points',
        content({ type: 'reaction', emoji: '🙂'.repeat(MAX_EMOJI_LENGTH + 1) }, 'react'),
        400,
        'validation_failed',
      ],
      ['emoji with a space', content({ type: 'reaction', emoji: '🙂 🙂' }, 'react'), 400, 'validation_failed'],
      ['emoji empty', content({ type: 'reaction', emoji: '' }, 'react'), 400, 'validation_failed'],
      ['search text too long', () => owner.get(`/v1/rooms/search?q=${long(101)}`), 400, 'validation_failed'],
      ['search page too large', () => owner.get('/v1/rooms/search?limit=101'), 400, 'validation_failed'],
      ['members page too large', () => owner.get(`/v1/rooms/${room}/members?limit=501`), 400, 'validation_failed'],
      ['members of an unknown status', () => owner.get(`/v1/rooms/${room}/members?status=owner`), 400, 'validation_failed'],
    ])
  })

  test('behavior: events that contradict the room or themselves are refused', async () => {
    const other = await owner.createRoom({ name: 'Other' })
    const pair = await owner.openRoom(member.address)
    const existing = await owner.createEvent({ name: 'Taken' })
    expect((await owner.postCreate(existing)).status).toBe(200)
    await expectRefused([
      [
        'set_role to an unknown role',
        () => owner.act(room, { type: 'set_role', members: [member.address], role: 'ghost' }),
        400,
        'invalid_request',
      ],
      [
        'set_role of oneself',
        () => owner.act(room, { type: 'set_role', members: [owner.address], role: 'member' }),
        400,
        'invalid_request',
      ],
      [
        'set_role of a non-member',
        () => owner.act(room, { type: 'set_role', members: [outsider.address], role: 'admin' }),
        409,
        'conflict',
      ],
      [
        'define a built-in role',
        () => owner.act(room, { type: 'define_role', role: 'admin', permissions: ['send'] }),
        400,
        'invalid_request',
      ],
      ['delete an unknown role', () => owner.act(room, { type: 'delete_role', role: 'ghost' }), 400, 'invalid_request'],
      [
        'a role granting more than the granter holds',
        () => member.act(room, { type: 'define_role', role: 'boss', permissions: ['delete_room'] }),
        403,
        'forbidden',
      ],
      [
        'an event naming another room than the path',
        async () => owner.postEvent(room, await owner.signEvent(other, { type: 'update', name: 'X' })),
        400,
        'invalid_request',
      ],
      [
        'create for an id that exists',
        async () =>
          owner.postCreate(
            await owner.signEvent(existing.room, {
              type: 'create',
              roomType: 'public',
              name: 'Again',
              description: '',
              announce: false,
              avatar: null,
            }),
          ),
        409,
        'conflict',
      ],
      [
        'create posted as an event of an existing room',
        async () =>
          owner.postEvent(
            room,
            await owner.signEvent(room, {
              type: 'create',
              roomType: 'public',
              name: 'Again',
              description: '',
              announce: false,
              avatar: null,
            }),
          ),
        409,
        'conflict',
      ],
      ['create with a basis', async () => owner.postCreate(await owner.createEvent({}, { basis: 3 })), 400, 'invalid_request'],
      [
        'create as another event',
        async () => owner.postCreate(await owner.signEvent(randomId(), { type: 'join' })),
        400,
        'invalid_request',
      ],
      [
        'members and all',
        () => owner.act(room, { type: 'kick', members: [member.address], all: true }),
        400,
        'validation_failed',
      ],
      ['neither members nor all', () => owner.act(room, { type: 'mute', until: null }), 400, 'validation_failed'],
      ['kick oneself', () => owner.act(room, { type: 'kick', members: [owner.address] }), 400, 'invalid_request'],
      ['kick a non-member', () => owner.act(room, { type: 'kick', members: [outsider.address] }), 409, 'conflict'],
      ['unmute one not muted', () => owner.act(room, { type: 'unmute', members: [member.address] }), 409, 'conflict'],
      ['unban one not banned', () => owner.act(room, { type: 'unban', members: [member.address] }), 409, 'conflict'],
      ['invite a member', () => owner.act(room, { type: 'invite', members: [member.address] }), 409, 'conflict'],
      ['approve one who did not ask', () => owner.act(room, { type: 'approve', members: [outsider.address] }), 409, 'conflict'],
      ['request to join a public room', () => outsider.act(room, { type: 'request' }), 400, 'invalid_request'],
      ['leave a room one is not in', () => outsider.act(room, { type: 'leave' }), 403, 'not_member'],
      ['an update that changes nothing', () => owner.act(room, { type: 'update' }), 400, 'validation_failed'],
      [
        'a mute that ended already',
        () => owner.act(room, { type: 'mute', members: [member.address], until: new Date(Date.now() - 1000).toISOString() }),
        400,
        'invalid_request',
      ],
      [
        'a ban that ended already',
        () =>
          owner.act(room, {
            type: 'ban',
            members: [member.address],
            until: new Date(Date.now() - 1000).toISOString(),
            removeMessages: false,
          }),
        400,
        'invalid_request',
      ],
      [
        'a ban of all that removes messages',
        () => owner.act(room, { type: 'ban', all: true, until: null, removeMessages: true }),
        400,
        'invalid_request',
      ],
      ['an event in a 1:1 room', () => owner.act(pair, { type: 'invite', members: [outsider.address] }), 400, 'invalid_request'],
      [
        'a signed room message in a 1:1 room',
        async () => {
          const content = { type: 'text' as const, text: 'hi' }
          return owner.postSigned((await owner.sealSigned(pair, content)).envelope, content)
        },
        400,
        'invalid_envelope',
      ],
      [
        'a basis beyond the room',
        () => owner.act(room, { type: 'update', name: 'Later' }, { basis: 1_000_000 }),
        400,
        'invalid_request',
      ],
    ])
  })

  test('behavior: actions on messages that are not there, or of the wrong kind, are refused', async () => {
    const other = await owner.createRoom({ name: 'Other messages' })
    await member.must(other, { type: 'join' })
    const elsewhere = await member.said(other, 'in the other room')
    const recalled = await member.said(room, 'soon recalled')
    expect((await member.plain(room, 'recall', recalled)).status).toBe(200)
    const react = await member.react(room, message)
    await expectRefused([
      ['react to an unknown message', () => member.react(room, randomId()), 400, 'invalid_request'],
      ['react to a message of another room', () => member.react(room, elsewhere), 400, 'invalid_request'],
      ['react to a reaction', () => member.react(room, react.body.id), 400, 'invalid_request'],
      ['edit a recalled message', () => member.edit(room, recalled, 'back'), 409, 'conflict'],
      ['recall a recalled message', () => member.plain(room, 'recall', recalled), 409, 'conflict'],
      ['edit a message of another member', () => owner.edit(room, message, 'my words now'), 403, 'forbidden'],
      [
        'a reaction carrying text',
        async () => {
          const content = { type: 'text' as const, text: '👍' }
          return member.postSigned((await member.sealSigned(room, content, { type: 'react', ref: message })).envelope, content)
        },
        400,
        'invalid_envelope',
      ],
      [
        'an action without ref',
        async () => {
          const content = { type: 'none' as const }
          const { envelope } = await member.sealSigned(room, content)
          return member.postSigned({ ...envelope, type: 'pin' }, content)
        },
        400,
        'validation_failed',
      ],
      [
        'a message without its content',
        async () => member.postSigned((await member.sealSigned(room, { type: 'text', text: 'hi' })).envelope, undefined),
        400,
        'invalid_envelope',
      ],
      [
        'a log head of another room',
        async () => {
          const head = (await owner.room(other)).body.room.logHead.cid
          const content = { type: 'text' as const, text: 'hi' }
          return member.postSigned((await member.sealSigned(room, content, { logHead: head })).envelope, content)
        },
        400,
        'invalid_envelope',
      ],
    ])
  })

  test('behavior: the same create posted again is a retry: answered, nothing stored', async () => {
    const event = await owner.createEvent({ name: 'Retried' })
    const first = await owner.postCreate(event)
    const before = await snapshotDb(server)
    const again = await owner.postCreate(event)
    expect(again.status).toBe(200)
    expect(again.body.room).toEqual(first.body.room)
    expect(await snapshotDb(server)).toEqual(before)
    // Posted by another wallet, it is someone else's: refused.
    expect((await outsider.postCreate(event)).body.error.code).toBe('sender_mismatch')
  })

  test('behavior: joining twice changes nothing and is no error', async () => {
    const before = await snapshotDb(server)
    const again = await member.act(room, { type: 'join' })
    expect(again.status).toBe(200)
    expect(again.body).toMatchObject({ entry: null, membership: { status: 'member', role: 'member' } })
    expect(await snapshotDb(server)).toEqual(before)
  })
})
