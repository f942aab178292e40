/**
 * Who gets into a group: public rooms are found by search, joined by anyone, and read whole
 * (including what was said before one joined); private rooms are invisible to outsiders and
 * joined only by invitation or an approved request; a banned address gets into neither.
 */
import { afterAll, beforeAll, describe, expect, test } from 'vitest'
import { type GroupWallet, groupWallets, randomId, unlimited } from './_rooms.js'
import { DIALECTS, snapshotDb, TestServer } from './_util.js'

describe.each(DIALECTS)('room access (%s)', (dialect) => {
  let server: TestServer
  let wallets: GroupWallet[]

  beforeAll(async () => {
    server = await TestServer.create({ dialect, configure: unlimited })
    wallets = await groupWallets(server, 5)
  })
  afterAll(async () => {
    await server[Symbol.asyncDispose]()
  })

  describe('public rooms', () => {
    test('default: anyone finds them by name or description, largest first, paged, with member counts', async () => {
      const [owner, a, b, c, searcher] = wallets as [GroupWallet, GroupWallet, GroupWallet, GroupWallet, GroupWallet]
      const word = `w${randomId()
        .replace(/[^a-z]/g, '')
        .slice(0, 8)}`
      const big = await owner.createRoom({ name: `The ${word} club` })
      const small = await owner.createRoom({ name: 'Quiet corner', description: `All about ${word.toUpperCase()}.` })
      const hidden = await owner.createRoom({ type: 'private', name: `Secret ${word}` })
      const gone = await owner.createRoom({ name: `Old ${word}` })
      const unrelated = await owner.createRoom({ name: 'Something else' })
      for (const wallet of [a, b, c]) await wallet.must(big, { type: 'join' })
      await a.must(small, { type: 'join' })
      await owner.must(gone, { type: 'delete' })
      const search = async (query: string) => {
        const response = await searcher.get(`/v1/rooms/search?${query}`)
        expect(response.status, response.text).toBe(200)
        return response.body as { rooms: { id: string; memberCount: number; name: string }[]; next: number | null }
      }
      const all = await search(`q=${word.toUpperCase()}`)
      expect(all.rooms.map((room) => [room.id, room.memberCount])).toEqual([
        [big, 4],
        [small, 2],
      ])
      expect(all.next).toBeNull()
      expect((await search(`q=${word}`)).rooms.map((room) => room.id)).toEqual([big, small])
      const first = await search(`q=${word}&limit=1`)
      expect(first.rooms.map((room) => room.id)).toEqual([big])
      expect(first.next).toBe(1)
      const second = await search(`q=${word}&limit=1&cursor=${first.next}`)
      expect(second.rooms.map((room) => room.id)).toEqual([small])
      const third = await search(`q=${word}&limit=1&cursor=${second.next ?? 2}`)
      expect(third.rooms).toEqual([])
      expect(third.next).toBeNull()
      // LIKE wildcards are searched for as themselves.
      expect((await search(`q=${word.slice(0, -1)}_`)).rooms).toEqual([])
      expect((await search(`q=${encodeURIComponent('%')}`)).rooms).toEqual([])
      // Without a query: every public room, largest first.
      const everything = (await search('limit=100')).rooms.map((room) => room.id)
      expect(everything).toEqual(expect.arrayContaining([big, small, unrelated]))
      expect(everything).not.toContain(hidden)
      expect(everything).not.toContain(gone)
      expect(everything.indexOf(big)).toBeLessThan(everything.indexOf(small))
    })

    test('behavior: anyone joins, reads the whole history, from before they joined, and sends', async () => {
      const [owner, early, newcomer] = wallets as [GroupWallet, GroupWallet, GroupWallet]
      const room = await owner.createRoom({ name: 'Open house' })
      await early.must(room, { type: 'join' })
      const said = [await owner.said(room, 'welcome'), await early.said(room, 'thanks')]
      // Readable before joining, too.
      const before = await newcomer.history(room)
      expect(before.filter((r) => r.envelope).map((r) => r.content.text)).toEqual(['welcome', 'thanks'])
      expect((await newcomer.room(room)).body.membership.status).toBe('none')
      expect((await newcomer.log(room)).map((r) => r.entry.event.type)).toEqual(['create', 'join'])
      await newcomer.must(room, { type: 'join' })
      const records = await newcomer.history(room)
      expect(records.map((r) => r.envelope?.id ?? r.entry.event.type)).toEqual(['create', 'join', ...said, 'join'])
      // The log pages by room position (`after` is a seq): what came after the greeting.
      const log = await newcomer.get(`/v1/rooms/${room}/log?after=3`)
      expect(log.body.entries.map((r: { seq: number }) => r.seq)).toEqual([5])
      expect(log.body.head).toBe(3)
      expect((await newcomer.say(room, 'hello all')).status).toBe(200)
      expect((await newcomer.members(room)).map((m) => m.address)).toEqual([owner.address, early.address, newcomer.address])
    })

    test('behavior: a banned address cannot join again', async () => {
      const [owner, banned] = wallets as [GroupWallet, GroupWallet]
      const room = await owner.createRoom({ name: 'No trolls' })
      await banned.must(room, { type: 'join' })
      await owner.must(room, { type: 'ban', members: [banned.address], until: null, removeMessages: false })
      const before = await snapshotDb(server)
      const join = await banned.act(room, { type: 'join' })
      expect(join.status).toBe(403)
      expect(join.body.error.code).toBe('banned')
      expect(await snapshotDb(server)).toEqual(before)
      await owner.must(room, { type: 'unban', members: [banned.address] })
      expect((await banned.act(room, { type: 'join' })).status).toBe(200)
    })
  })

  describe('private rooms', () => {
    test('default: outsiders do not see it and cannot join; request then approve makes a member', async () => {
      const [owner, member, asker] = wallets as [GroupWallet, GroupWallet, GroupWallet]
      const room = await owner.createRoom({ type: 'private', name: 'Inner circle' })
      await owner.must(room, { type: 'invite', members: [member.address] })
      await member.must(room, { type: 'join' })
      const said = await owner.said(room, 'members only')
      for (const path of [
        `/v1/rooms/${room}`,
        `/v1/rooms/${room}/messages`,
        `/v1/rooms/${room}/log`,
        `/v1/rooms/${room}/members`,
      ]) {
        const response = await asker.get(path)
        expect({ path, status: response.status, code: response.body.error?.code }).toEqual({
          path,
          status: 404,
          code: 'room_not_found',
        })
      }
      const before = await snapshotDb(server)
      const join = await asker.act(room, { type: 'join' })
      expect(join.status).toBe(403)
      expect(join.body.error.code).toBe('forbidden')
      expect(await snapshotDb(server)).toEqual(before)
      const requested = await asker.act(room, { type: 'request' })
      expect(requested.status).toBe(200)
      expect(requested.body.membership).toMatchObject({ status: 'requested', role: null })
      expect((await asker.say(room, 'let me in')).body.error.code).toBe('not_member')
      expect((await asker.get(`/v1/rooms/${room}/messages`)).status).toBe(404)
      expect((await owner.members(room, 'requested')).map((m) => m.address)).toEqual([asker.address])
      await owner.must(room, { type: 'approve', members: [asker.address] })
      expect((await asker.room(room)).body.membership).toMatchObject({ status: 'member', role: 'member' })
      expect((await asker.history(room)).some((r) => r.envelope?.id === said)).toBe(true)
      expect((await asker.say(room, 'glad to be here')).status).toBe(200)
    })

    test('behavior: invite then join makes a member; the invitation shows in the room list', async () => {
      const [owner, invitee] = wallets as [GroupWallet, GroupWallet]
      const room = await owner.createRoom({ type: 'private', name: 'By invitation' })
      await owner.must(room, { type: 'invite', members: [invitee.address] })
      const listed = (await invitee.get('/v1/rooms')).body.rooms.find((r: { room: { id: string } }) => r.room.id === room)
      expect(listed.membership.status).toBe('invited')
      expect((await invitee.room(room)).body.membership.status).toBe('invited')
      await invitee.must(room, { type: 'join' })
      expect((await invitee.room(room)).body.membership).toMatchObject({ status: 'member', role: 'member' })
      expect((await invitee.say(room, 'thanks for the invite')).status).toBe(200)
    })

    test('behavior: a rejected request, or a member who left, must ask again', async () => {
      const [owner, asker, leaver] = wallets as [GroupWallet, GroupWallet, GroupWallet]
      const room = await owner.createRoom({ type: 'private', name: 'Selective' })
      await asker.must(room, { type: 'request' })
      await owner.must(room, { type: 'reject', members: [asker.address] })
      expect((await asker.act(room, { type: 'join' })).body.error.code).toBe('forbidden')
      expect(await owner.members(room, 'requested')).toEqual([])
      await owner.must(room, { type: 'invite', members: [leaver.address] })
      await leaver.must(room, { type: 'join' })
      await leaver.must(room, { type: 'leave' })
      expect((await leaver.act(room, { type: 'join' })).body.error.code).toBe('forbidden')
      expect((await leaver.act(room, { type: 'request' })).status).toBe(200)
    })

    test('behavior: a banned address cannot be invited, ask, or join again', async () => {
      const [owner, banned] = wallets as [GroupWallet, GroupWallet]
      const room = await owner.createRoom({ type: 'private', name: 'Strict' })
      await owner.must(room, { type: 'invite', members: [banned.address] })
      await banned.must(room, { type: 'join' })
      await owner.must(room, { type: 'ban', members: [banned.address], until: null, removeMessages: false })
      const before = await snapshotDb(server)
      const attempts = [
        ['invite', await owner.act(room, { type: 'invite', members: [banned.address] })],
        ['join', await banned.act(room, { type: 'join' })],
        ['request', await banned.act(room, { type: 'request' })],
      ] as const
      for (const [what, response] of attempts) {
        expect({ what, status: response.status, code: response.body.error?.code }).toEqual({ what, status: 403, code: 'banned' })
      }
      expect(await snapshotDb(server)).toEqual(before)
      expect((await banned.get(`/v1/rooms/${room}/messages`)).status).toBe(404)
    })
  })
})
