/**
 * Rooms end to end with real clients: a public room created, found, joined, read and moderated;
 * replies, reactions, edits, recalls and pins folded into a timeline; the same actions in a 1:1
 * room; the live stream merging rooms.
 */
import { describe, expect, test } from 'vitest'
import { foldMessages } from '../src/index.js'
import { collect, DIALECTS, messagesOf, newClient, TestServer } from './_util.js'

describe.each(DIALECTS)('rooms (%s)', (dialect) => {
  test('default: create, search, join, send, read, fold', async () => {
    await using server = await TestServer.create({ dialect })
    const alice = newClient(server.url)
    const bob = newClient(server.url)
    await alice.setup()
    await bob.setup()
    const aliceAddress = (await alice.getWallet()).address
    const bobAddress = (await bob.getWallet()).address

    const { room, membership } = await alice.rooms.create({
      type: 'public',
      name: 'DMTP builders',
      description: 'all about DMTP',
    })
    expect(room).toMatchObject({ type: 'public', name: 'DMTP builders', memberCount: 1 })
    expect(membership).toMatchObject({ status: 'member', role: 'owner' })
    const first = await alice.send(room.id, 'welcome, everyone')
    expect(first).toMatchObject({ room: room.id, e2ee: false })

    const found = await bob.rooms.search({ text: 'builders' })
    expect(found.rooms.map((r) => r.id)).toContain(room.id)
    expect(await bob.rooms.join(room.id)).toMatchObject({ status: 'member' })
    const reply = await bob.send(room.id, 'thanks!', { replyTo: first.id, mentions: [aliceAddress] })
    await alice.react(room.id, reply.id, '👍')
    await bob.react(room.id, reply.id, '👍')
    await bob.react(room.id, first.id, '🎉')
    await bob.react(room.id, first.id, '🎉', { remove: true })
    await alice.edit(room.id, first.id, 'welcome, everyone (edited)')
    await alice.pin(room.id, first.id)
    const oops = await bob.send(room.id, 'oops')
    await bob.recall(room.id, oops.id)

    const page = await bob.messages(room.id, { limit: 100 })
    // The recalled message's words are gone from the server: withheld until the fold finds its recall.
    expect(page.messages.filter((m) => m.status !== 'ok').map((m) => [m.id, m.status])).toEqual([[oops.id, 'withheld']])
    const views = foldMessages(page.messages, { me: aliceAddress })
    const lines = views.map((v) => [
      v.type,
      v.text,
      v.reactions.map((r) => `${r.emoji}${r.count}`).join(','),
      v.edited,
      !!v.recalled,
      v.pinned,
    ])
    expect(lines).toEqual([
      ['system', expect.stringContaining('created the public room "DMTP builders"'), '', false, false, false],
      ['message', 'welcome, everyone (edited)', '', true, false, true],
      ['system', expect.stringContaining('joined'), '', false, false, false],
      ['message', 'thanks!', '👍2', false, false, false],
      ['message', null, '', false, true, false],
    ])
    const thanks = views[3]
    expect(thanks).toMatchObject({ mentionsMe: true, replyTo: { id: first.id, sender: aliceAddress } })
    const [mine] = (await alice.rooms.list()).filter((entry) => entry.room.id === room.id)
    expect(mine).toMatchObject({ unread: 1, membership: { role: 'owner' } })
    expect(await bob.rooms.get(room.id)).toMatchObject({ verified: true, membership: { role: 'member' } })
    const members = await alice.rooms.members(room.id)
    expect(members.members.map((m) => [m.address, m.role, m.verified])).toEqual([
      [aliceAddress, 'owner', true],
      [bobAddress, 'member', true],
    ])
  })

  test('behavior: moderation reaches the stream; a kicked member stops receiving the room', async () => {
    await using server = await TestServer.create({ dialect })
    const alice = newClient(server.url)
    const bob = newClient(server.url)
    await alice.setup()
    await bob.setup()
    const bobAddress = (await bob.getWallet()).address
    const { room } = await alice.rooms.create({ type: 'public', name: 'moderated' })
    await bob.rooms.join(room.id)
    const live = bob.stream({ cursor: 'latest' })
    await collect(live, (events) => events.some((e) => e.type === 'caught_up'))
    await alice.rooms.mute(room.id, [bobAddress], { forMs: 60_000 })
    await expect(bob.send(room.id, 'can I talk?')).rejects.toMatchObject({ code: 'muted' })
    await alice.rooms.kick(room.id, [bobAddress])
    const events = messagesOf(await collect(live, (e) => messagesOf(e).some((m) => m.event?.type === 'kick')))
    expect(events.map((m) => m.event?.type)).toEqual(['mute', 'kick'])
    await alice.send(room.id, 'bob is gone')
    await new Promise((resolve) => setTimeout(resolve, 300))
    live.close()
    const after = messagesOf(await collect(live, () => true))
    expect(after.filter((m) => m.text === 'bob is gone')).toEqual([])
  })

  test('behavior: replies, reactions, edits and recalls work in 1:1 rooms', async () => {
    await using server = await TestServer.create({ dialect })
    const alice = newClient(server.url)
    const bob = newClient(server.url)
    await alice.setup()
    await bob.setup()
    const bobAddress = (await bob.getWallet()).address
    const room = await alice.openDirect(bobAddress)
    const hello = await alice.send(bobAddress, 'hello')
    const answer = await bob.send(room, 'hi!', { replyTo: hello.id })
    await alice.react(room, answer.id, '❤️')
    await alice.edit(room, hello.id, 'hello bob')
    await expect(bob.edit(room, hello.id, 'not mine')).rejects.toMatchObject({ code: 'forbidden' })
    await alice.recall(room, hello.id)
    const views = foldMessages((await bob.messages(room)).messages, { me: bobAddress })
    expect(views.map((v) => [v.text, v.reactions.map((r) => r.emoji).join(), !!v.recalled, v.replyTo?.id ?? null])).toEqual([
      [null, '', true, null],
      ['hi!', '❤️', false, hello.id],
    ])
  })
})
