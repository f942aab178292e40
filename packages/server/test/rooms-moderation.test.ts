/**
 * What moderation and leaving do to a group over time: ownership passing on when the last Owner
 * leaves, the room ending with its last member, mutes and bans that lift by themselves, and
 * recalls (one message, or every message of a banned member) that take the words out of history
 * and the block store while the signed envelopes stay.
 */
import { envelopeBlock, envelopeType, FOREVER, type MessageContent, toBlock } from '@dmtp/protocol'
import { nodeCryptoBackend as crypto } from '@dmtp/protocol/node'
import { afterAll, beforeAll, describe, expect, test } from 'vitest'
import type { PendingMessage } from '../src/services/rooms/room-writer.js'
import { type GroupWallet, groupWallets, keyring, replayLog, rolesOf, type SealOptions, unlimited } from './_rooms.js'
import { DIALECTS, TestClock, TestServer } from './_util.js'

describe.each(DIALECTS)('room moderation (%s)', (dialect) => {
  let server: TestServer
  let clock: TestClock
  let wallets: GroupWallet[]

  beforeAll(async () => {
    clock = new TestClock()
    server = await TestServer.create({ dialect, clock, configure: unlimited })
    wallets = await groupWallets(server, 6, () => clock.now())
  })
  afterAll(async () => {
    await server[Symbol.asyncDispose]()
  })

  /** A public room of `owner`, joined by `members` in that order. */
  async function roomOf(owner: GroupWallet, members: GroupWallet[], options: { type?: 'public' | 'private' } = {}) {
    const room = await owner.createRoom({ type: options.type ?? 'public', name: 'Moderated' })
    if (options.type === 'private') await owner.must(room, { type: 'invite', members: members.map((m) => m.address) })
    for (const member of members) await member.must(room, { type: 'join' })
    return room
  }

  async function ipfs(cid: string): Promise<number> {
    return (await fetch(`${server.url}/ipfs/${cid}`)).status
  }

  describe('ownership', () => {
    test('default: when the last owner leaves, the longest-standing admin becomes owner', async () => {
      const [owner, first, older, newer, last] = wallets as [GroupWallet, GroupWallet, GroupWallet, GroupWallet, GroupWallet]
      const room = await roomOf(owner, [first, older, newer, last])
      // Promoted in the other order: seniority counts from joining, not from promotion.
      await owner.must(room, { type: 'set_role', members: [newer.address], role: 'admin' })
      await owner.must(room, { type: 'set_role', members: [older.address], role: 'admin' })
      await owner.must(room, { type: 'leave' })
      expect(await rolesOf(first, room)).toEqual({
        [first.address]: 'member',
        [older.address]: 'owner',
        [newer.address]: 'admin',
        [last.address]: 'member',
      })
      expect((await older.room(room)).body.membership).toMatchObject({ status: 'member', role: 'owner' })
      // The new owner holds everything: it can delete roles and the room (it does not, here).
      expect((await older.act(room, { type: 'define_role', role: 'heir', permissions: ['delete_room'] })).status).toBe(200)
      await older.must(room, { type: 'leave' })
      expect((await rolesOf(first, room))[newer.address]).toBe('owner')
      // A client replaying the served log reaches the same owners.
      const { state, problems } = await replayLog(room, await first.log(room), keyring(wallets))
      expect(problems).toEqual([])
      expect(state.member(newer.address).role).toBe('owner')
      expect(state.member(first.address).role).toBe('member')
    })

    test('behavior: without admins the longest-standing member becomes owner', async () => {
      const [owner, first, second] = wallets as [GroupWallet, GroupWallet, GroupWallet]
      const room = await roomOf(owner, [first, second])
      await owner.must(room, { type: 'leave' })
      expect(await rolesOf(second, room)).toEqual({ [first.address]: 'owner', [second.address]: 'member' })
    })

    test('behavior: a member who leaves and joins again loses its seniority', async () => {
      const [owner, first, second] = wallets as [GroupWallet, GroupWallet, GroupWallet]
      const room = await roomOf(owner, [first, second])
      await first.must(room, { type: 'leave' })
      await first.must(room, { type: 'join' })
      await owner.must(room, { type: 'leave' })
      expect(await rolesOf(second, room)).toEqual({ [first.address]: 'member', [second.address]: 'owner' })
    })

    test('behavior: while another owner stays, nobody is promoted', async () => {
      const [owner, coOwner, admin] = wallets as [GroupWallet, GroupWallet, GroupWallet]
      const room = await roomOf(owner, [admin, coOwner])
      await owner.must(room, { type: 'set_role', members: [admin.address], role: 'admin' })
      await owner.must(room, { type: 'set_role', members: [coOwner.address], role: 'owner' })
      await owner.must(room, { type: 'leave' })
      expect(await rolesOf(admin, room)).toEqual({ [admin.address]: 'admin', [coOwner.address]: 'owner' })
    })

    test('behavior: the last member leaving deletes the room; joining it then is room_not_found', async () => {
      const [owner, member, outsider] = wallets as [GroupWallet, GroupWallet, GroupWallet]
      const room = await roomOf(owner, [member])
      await owner.must(room, { type: 'leave' })
      expect((await member.room(room)).body.membership.role).toBe('owner')
      await member.must(room, { type: 'leave' })
      for (const wallet of [owner, member, outsider]) {
        const join = await wallet.act(room, { type: 'join' })
        expect(join.status).toBe(404)
        expect(join.body.error.code).toBe('room_not_found')
        expect((await wallet.room(room)).status).toBe(404)
      }
      expect((await outsider.say(room, 'anyone?')).body.error.code).toBe('room_not_found')
      const listed = await owner.get('/v1/rooms')
      expect(listed.body.rooms.map((r: { room: { id: string } }) => r.room.id)).not.toContain(room)
    })
    // An approve of several members gives them one `joinedSeq`: the lower-case address breaks the tie, on both sides.
    test('behavior: members approved together: server and replay agree on the successor', async () => {
      const [owner, x, y] = wallets as [GroupWallet, GroupWallet, GroupWallet]
      const [low, high] = [x, y].sort((a, b) => (a.address < b.address ? -1 : 1)) as [GroupWallet, GroupWallet]
      const room = await owner.createRoom({ type: 'private', name: 'Tie' })
      await high.must(room, { type: 'request' })
      await low.must(room, { type: 'request' })
      await owner.must(room, { type: 'approve', members: [high.address, low.address] })
      await owner.must(room, { type: 'leave' })
      const { state } = await replayLog(room, await low.log(room), keyring(wallets))
      const roles = await rolesOf(low, room)
      expect({ [low.address]: state.member(low.address).role, [high.address]: state.member(high.address).role }).toEqual(roles)
    })
  })

  describe('actions on all', () => {
    test('default: they reach exactly the members the actor may act on, as a replay of the log says', async () => {
      const [owner, admin, subAdmin, moderator, first, second] = wallets as GroupWallet[] as [
        GroupWallet,
        GroupWallet,
        GroupWallet,
        GroupWallet,
        GroupWallet,
        GroupWallet,
      ]
      const room = await roomOf(owner, [admin, subAdmin, moderator, first, second])
      await owner.must(room, { type: 'set_role', members: [admin.address], role: 'admin' })
      await owner.must(room, { type: 'set_role', members: [subAdmin.address], role: 'sub-admin' })
      await owner.must(room, { type: 'define_role', role: 'moderator', permissions: ['kick', 'mute'] })
      await owner.must(room, { type: 'set_role', members: [moderator.address], role: 'moderator' })
      const check = async () => {
        const { state, problems } = await replayLog(room, await owner.log(room), keyring(wallets))
        expect(problems).toEqual([])
        const served = (await owner.members(room)).map((m) => [m.address, m.role, m.mutedUntil])
        const replayed = state
          .entries()
          .filter(([, member]) => member.status === 'member')
          .map(([address, member]) => [
            address,
            member.role,
            member.mutedUntil && member.mutedUntil > clock.now().toISOString() ? member.mutedUntil : null,
          ])
        expect(new Set(served)).toEqual(new Set(replayed))
        return Object.fromEntries(served.map(([address, role, muted]) => [address, muted ? `${role} muted` : role]))
      }
      // An admin mutes everyone below it who lacks `mute`: the members (sub-admin and moderator hold it).
      await admin.must(room, { type: 'mute', all: true, until: null })
      expect(await check()).toEqual({
        [owner.address]: 'owner',
        [admin.address]: 'admin',
        [subAdmin.address]: 'sub-admin',
        [moderator.address]: 'moderator',
        [first.address]: 'member muted',
        [second.address]: 'member muted',
      })
      expect((await first.say(room, 'hm')).body.error.code).toBe('muted')
      await subAdmin.must(room, { type: 'unmute', all: true })
      await owner.must(room, { type: 'delete_role', role: 'moderator' })
      // The moderator role is gone: its holder is a member, and is kicked with the rest.
      await admin.must(room, { type: 'kick', all: true })
      expect(await check()).toEqual({ [owner.address]: 'owner', [admin.address]: 'admin' })
      await first.must(room, { type: 'join' })
      await owner.must(room, { type: 'ban', all: true, until: null, removeMessages: false })
      expect(await check()).toEqual({ [owner.address]: 'owner', [admin.address]: 'admin' })
      expect((await owner.members(room, 'banned')).map((m) => m.address)).toEqual([first.address])
      expect((await first.act(room, { type: 'join' })).body.error.code).toBe('banned')
      expect((await second.act(room, { type: 'join' })).status).toBe(200)
    })
  })

  describe('members lists', () => {
    test('behavior: the banned list pages by seniority and counts every ban, not the page', async () => {
      const [owner, ...others] = wallets as [GroupWallet, ...GroupWallet[]]
      const room = await roomOf(owner, others.slice(0, 3))
      for (const wallet of others.slice(0, 3)) {
        await owner.must(room, { type: 'ban', members: [wallet.address], until: null, removeMessages: false })
      }
      const first = await owner.get(`/v1/rooms/${room}/members?status=banned&limit=2`)
      expect(first.body.members).toHaveLength(2)
      expect(first.body.total).toBe(3)
      expect(first.body.next).not.toBeNull()
      const second = await owner.get(
        `/v1/rooms/${room}/members?status=banned&limit=2&after=${encodeURIComponent(first.body.next)}`,
      )
      expect(second.body.members).toHaveLength(1)
      expect(second.body.total).toBe(3)
      const listed = [...first.body.members, ...second.body.members].map((m: { address: string }) => m.address).sort()
      expect(listed).toEqual(
        others
          .slice(0, 3)
          .map((w) => w.address)
          .sort(),
      )
    })
  })

  describe('expiry', () => {
    test('default: a mute with an end lifts at that time', async () => {
      const [owner, member] = wallets as [GroupWallet, GroupWallet]
      const room = await roomOf(owner, [member])
      const until = new Date(clock.now().getTime() + 60_000).toISOString()
      await owner.must(room, { type: 'mute', members: [member.address], until })
      expect((await member.room(room)).body.membership.mutedUntil).toBe(until)
      const refused = await member.say(room, 'let me speak')
      expect(refused.status).toBe(403)
      expect(refused.body.error.code).toBe('muted')
      clock.advance(30_000)
      expect((await member.say(room, 'now?')).body.error.code).toBe('muted')
      clock.advance(31_000)
      expect((await member.say(room, 'thank you')).status).toBe(200)
      expect((await member.room(room)).body.membership.mutedUntil).toBeNull()
    })

    test('behavior: a mute without an end lasts until an unmute', async () => {
      const [owner, member] = wallets as [GroupWallet, GroupWallet]
      const room = await roomOf(owner, [member])
      await owner.must(room, { type: 'mute', members: [member.address], until: null })
      expect((await member.room(room)).body.membership.mutedUntil).toBe(FOREVER)
      clock.advance(24 * 3600_000)
      expect((await member.say(room, 'still?')).body.error.code).toBe('muted')
      await owner.must(room, { type: 'unmute', members: [member.address] })
      expect((await member.say(room, 'free')).status).toBe(200)
    })

    test('behavior: a ban with an end lifts at that time: the address can join again', async () => {
      const [owner, member] = wallets as [GroupWallet, GroupWallet]
      const room = await roomOf(owner, [member])
      const until = new Date(clock.now().getTime() + 60_000).toISOString()
      await owner.must(room, { type: 'ban', members: [member.address], until, removeMessages: false })
      const refused = await member.act(room, { type: 'join' })
      expect(refused.status).toBe(403)
      expect(refused.body.error.code).toBe('banned')
      expect((await member.say(room, 'hello?')).body.error.code).toBe('banned')
      expect((await owner.members(room, 'banned')).map((m) => m.address)).toEqual([member.address])
      clock.advance(61_000)
      expect(await owner.members(room, 'banned')).toEqual([])
      expect((await member.act(room, { type: 'join' })).status).toBe(200)
      expect((await member.say(room, 'back')).status).toBe(200)
    })

    test('behavior: a ban with an end in a private room: invitable again once it lifted', async () => {
      const [owner, member] = wallets as [GroupWallet, GroupWallet]
      const room = await roomOf(owner, [member], { type: 'private' })
      const until = new Date(clock.now().getTime() + 60_000).toISOString()
      await owner.must(room, { type: 'ban', members: [member.address], until, removeMessages: false })
      expect((await owner.act(room, { type: 'invite', members: [member.address] })).body.error.code).toBe('banned')
      clock.advance(61_000)
      await owner.must(room, { type: 'invite', members: [member.address] })
      expect((await member.act(room, { type: 'join' })).status).toBe(200)
    })
  })

  describe('recall', () => {
    test('default: a recalled public message has no content in history nor in the block store; its envelope stays', async () => {
      const [owner, member, reader] = wallets as [GroupWallet, GroupWallet, GroupWallet]
      const room = await roomOf(owner, [member, reader])
      const sent = await member.say(room, 'words to take back')
      const kept = await member.say(room, 'words to keep')
      // A sync puts the content blocks in the block store, where a recall must reach them.
      await server.ctx.anchoring.syncNow()
      const records = await reader.history(room)
      const record = records.find((r) => r.envelope?.id === sent.body.id)
      const keptRecord = records.find((r) => r.envelope?.id === kept.body.id)
      expect(record.content).toEqual({ type: 'text', text: 'words to take back' })
      expect(await ipfs(record.envelope.content)).toBe(200)
      expect((await member.plain(room, 'recall', sent.body.id)).status).toBe(200)
      await server.ctx.sweeper.sweep()
      const after = await reader.history(room)
      expect(after.find((r) => r.envelope?.id === sent.body.id)).toEqual({ ...record, content: null })
      expect(after.find((r) => r.envelope?.id === kept.body.id)).toEqual(keptRecord)
      expect(await ipfs(record.envelope.content)).toBe(404)
      expect(await ipfs(record.cid)).toBe(200)
      expect(await ipfs(keptRecord.envelope.content)).toBe(200)
      const rows = await server.ctx.database.db.selectFrom('messages').select('content').where('room_id', '=', room).execute()
      expect(rows.filter((row) => row.content?.includes('take back'))).toEqual([])
    })

    test('behavior: a recall takes the words of the message’s edits too', async () => {
      const [owner, member, reader] = wallets as [GroupWallet, GroupWallet, GroupWallet]
      const room = await roomOf(owner, [member, reader])
      const sent = await member.said(room, 'first draft')
      const edit = await member.edit(room, sent, 'second draft')
      expect(edit.status).toBe(200)
      await server.ctx.anchoring.syncNow()
      const editRecord = (await reader.history(room)).find((r) => r.envelope?.id === edit.body.id)
      expect(await ipfs(editRecord.envelope.content)).toBe(200)
      // A moderator's recall (recall_others) does the same as the author's.
      await owner.plain(room, 'recall', sent)
      await server.ctx.sweeper.sweep()
      const records = await reader.history(room)
      expect(records.find((r) => r.envelope?.id === sent).content).toBeNull()
      expect(records.find((r) => r.envelope?.id === edit.body.id).content).toBeNull()
      expect(await ipfs(editRecord.envelope.content)).toBe(404)
      expect(await ipfs(editRecord.cid)).toBe(200)
    })

    test('behavior: a ban with removeMessages recalls every message of the banned member', async () => {
      const [owner, banned, other] = wallets as [GroupWallet, GroupWallet, GroupWallet]
      const room = await roomOf(owner, [banned, other])
      const theirs = [await banned.said(room, 'spam one'), await banned.said(room, 'spam two')]
      const edited = await banned.edit(room, theirs[0] as string, 'spam one, edited')
      const mine = await other.said(room, 'not spam')
      await server.ctx.anchoring.syncNow()
      const before = await other.history(room)
      const contentOf = (id: string) => before.find((r) => r.envelope?.id === id).envelope.content as string
      await owner.must(room, { type: 'ban', members: [banned.address], until: null, removeMessages: true })
      await server.ctx.sweeper.sweep()
      const records = await other.history(room)
      for (const id of [...theirs, edited.body.id]) {
        expect(records.find((r) => r.envelope?.id === id).content, id).toBeNull()
        expect(await ipfs(contentOf(id))).toBe(404)
      }
      expect(records.find((r) => r.envelope?.id === mine).content).toEqual({ type: 'text', text: 'not spam' })
      expect(await ipfs(contentOf(mine))).toBe(200)
      // The ban is in the log as signed; a replaying client knows whose messages it removed.
      const { state, problems } = await replayLog(room, await other.log(room), keyring(wallets))
      expect(problems).toEqual([])
      expect(state.recalls.map((recall) => recall.sender)).toEqual([banned.address])
    })

    test('behavior: a recall committed with its message and a log entry still takes the words', async () => {
      const [owner, member, joiner] = wallets as [GroupWallet, GroupWallet, GroupWallet]
      const room = await roomOf(owner, [member])
      // Straight to the writer, in one tick: all three go in one transaction, in this order.
      const message = await pending(member, room, { type: 'text', text: 'gone in a moment' })
      const join = await joiner.signEvent(room, { type: 'join' })
      const recall = await pending(member, room, { type: 'none' }, { type: 'recall', ref: message.id })
      const { writer } = server.ctx
      await Promise.all([writer.write(message), writer.append(join), writer.write(recall)])
      await server.ctx.sweeper.sweep()
      const record = (await owner.history(room)).find((r) => r.envelope?.id === message.id)
      expect(record.content).toBeNull()
      const row = await server.ctx.database.db
        .selectFrom('messages')
        .select(['content', 'recalled_by'])
        .where('id', '=', message.id)
        .executeTakeFirstOrThrow()
      expect(row).toEqual({ content: null, recalled_by: recall.id })
      const deletions = await server.ctx.database.db
        .selectFrom('block_deletions')
        .select('cid')
        .where('cid', '=', message.content?.cid as string)
        .execute()
      expect(deletions).toHaveLength(1)
    })
  })

  /** A signed message as the writer takes it, after the checks the message service makes. */
  async function pending(
    wallet: GroupWallet,
    room: string,
    content: MessageContent,
    options: SealOptions = {},
  ): Promise<PendingMessage> {
    const { envelope } = await wallet.sealSigned(room, content, options)
    const block = envelopeBlock(envelope, crypto.sha256)
    const contentBlock = toBlock(content, crypto.sha256)
    return {
      id: envelope.id,
      roomId: room,
      sender: wallet.address,
      receiver: null,
      timestamp: envelope.timestamp,
      type: envelopeType(envelope),
      ref: envelope.ref ?? null,
      cid: block.cid,
      envelope: block.text,
      content: { text: contentBlock.text, cid: contentBlock.cid },
      e2ee: false,
      epoch: null,
      text: content.type === 'text' ? content.text : undefined,
    }
  }
})
