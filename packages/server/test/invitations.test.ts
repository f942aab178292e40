/**
 * Invitations (docs/private-groups.md §6): an `invite` may name `until`, after which the invitee
 * can no longer join by it; the invitee alone is told, live (an `invitation` frame carrying the
 * signed entry) and in its room list until the invitation lapses. Joining by a lapsed invitation
 * is `410 invitation_expired` and changes nothing; an invitation ending in the past is refused.
 */
import type { ServerFrame } from '@dmtp/protocol'
import { afterAll, beforeAll, describe, expect, test } from 'vitest'
import { type GroupWallet, groupWallets, unlimited } from './_rooms.js'
import { DIALECTS, snapshotDb, TestClock, TestServer } from './_util.js'
import { api, TestStream } from './_wallet.js'

const HOUR = 3_600_000

describe.each(DIALECTS)('invitations (%s)', (dialect) => {
  const clock = new TestClock()
  let server: TestServer
  beforeAll(async () => {
    server = await TestServer.create({ dialect, clock, configure: unlimited })
  })
  afterAll(async () => {
    await server[Symbol.asyncDispose]()
  })

  const wallets = async (count: number) => groupWallets(server, count, () => clock.now())
  const inHours = (hours: number) => new Date(clock.now().getTime() + hours * HOUR).toISOString()
  const myRooms = async (wallet: GroupWallet) =>
    (await api(server.url, 'GET', '/v1/rooms', { token: wallet.token })).body.rooms as {
      room: { id: string }
      membership: { status: string; invitedUntil: string | null }
    }[]

  test('default: only the invitee is told, live, with the signed entry; it joins before the end', async () => {
    const [owner, member, invitee, stranger] = (await wallets(4)) as [GroupWallet, GroupWallet, GroupWallet, GroupWallet]
    const room = await owner.createRoom({ type: 'private' })
    await owner.must(room, { type: 'invite', members: [member.address] })
    await member.must(room, { type: 'join' })
    await using inviteeStream = await TestStream.connect(server.wsUrl, invitee.token)
    await using strangerStream = await TestStream.connect(server.wsUrl, stranger.token)
    await using memberStream = await TestStream.connect(server.wsUrl, member.token)

    const until = inHours(24)
    const invited = await owner.must(room, { type: 'invite', members: [invitee.address], until })
    const frame = (await inviteeStream.next((f) => f.type === 'invitation')) as Extract<ServerFrame, { type: 'invitation' }>
    expect(frame.room).toBe(room)
    expect(frame.record.cid).toBe(invited.body.entry.cid)
    expect(frame.record.entry.event).toMatchObject({ type: 'invite', actor: owner.address, members: [invitee.address], until })

    // A member sees the entry in the room (the log is the room's), as a position, not as an invitation.
    await memberStream.next((f) => f.type === 'message' && 'entry' in f.message && f.message.cid === invited.body.entry.cid)
    await new Promise((resolve) => setTimeout(resolve, 200))
    expect(memberStream.frames.some((f) => f.type === 'invitation')).toBe(false)
    expect(strangerStream.frames.some((f) => f.type === 'invitation')).toBe(false)

    const listed = (await myRooms(invitee)).find((entry) => entry.room.id === room)
    expect(listed?.membership).toMatchObject({ status: 'invited', invitedUntil: until })
    await invitee.must(room, { type: 'join' })
    expect((await invitee.room(room)).body.membership).toMatchObject({ status: 'member', invitedUntil: null })
  })

  test('behavior: a lapsed invitation is gone from the list, and joining by it is 410 invitation_expired', async () => {
    const [owner, invitee] = (await wallets(2)) as [GroupWallet, GroupWallet]
    const room = await owner.createRoom({ type: 'private' })
    await owner.must(room, { type: 'invite', members: [invitee.address], until: inHours(1) })
    clock.advance(2 * HOUR)
    try {
      expect((await myRooms(invitee)).some((entry) => entry.room.id === room)).toBe(false)
      expect((await invitee.room(room)).body.membership).toMatchObject({ status: 'none', invitedUntil: null })
      const members = await api(server.url, 'GET', `/v1/rooms/${room}/members?status=invited`, { token: owner.token })
      expect(members.body.members).toEqual([])

      const before = await snapshotDb(server)
      const refused = await invitee.act(room, { type: 'join' })
      expect(refused.status).toBe(410)
      expect(refused.body.error.code).toBe('invitation_expired')
      expect(await snapshotDb(server)).toEqual(before)

      // Invited again, it may join.
      await owner.must(room, { type: 'invite', members: [invitee.address], until: inHours(1) })
      await invitee.must(room, { type: 'join' })
    } finally {
      clock.advance(-2 * HOUR)
    }
  })

  test('behavior: after a lapse the invitee may ask to join instead', async () => {
    const [owner, invitee] = (await wallets(2)) as [GroupWallet, GroupWallet]
    const room = await owner.createRoom({ type: 'private' })
    await owner.must(room, { type: 'invite', members: [invitee.address], until: inHours(1) })
    expect((await invitee.act(room, { type: 'request' })).body.error.code).toBe('conflict')
    clock.advance(2 * HOUR)
    try {
      await invitee.must(room, { type: 'request' })
      expect((await invitee.room(room)).body.membership).toMatchObject({ status: 'requested', invitedUntil: null })
    } finally {
      clock.advance(-2 * HOUR)
    }
  })

  test('behavior: an invitation ending in the past, or a malformed end, is refused and changes nothing', async () => {
    const [owner, invitee] = (await wallets(2)) as [GroupWallet, GroupWallet]
    const room = await owner.createRoom({ type: 'private' })
    const before = await snapshotDb(server)
    const past = await owner.act(room, { type: 'invite', members: [invitee.address], until: inHours(-1) })
    expect({ status: past.status, code: past.body.error.code }).toEqual({ status: 400, code: 'invalid_request' })
    const malformed = await owner.act(room, { type: 'invite', members: [invitee.address], until: 'tomorrow' } as never)
    expect(malformed.status).toBe(400)
    expect(await snapshotDb(server)).toEqual(before)
  })
})
