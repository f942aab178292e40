// @vitest-environment node
/**
 * The room hooks end to end, each wallet its own provider, against a real server: a public group
 * found, joined and talked in live (replies, mentions, reactions, edits, pins, recalls over the
 * stream), read markers, members paged and refetched on membership events, moderation arriving
 * over the stream (a mute that refuses sends, a kick that ends the room for the kicked), and the
 * same message actions in a 1:1 room.
 */
import './_dom.js'
import { act } from '@testing-library/react'
import { describe, expect, test } from 'vitest'
import { type App, connect, DIALECTS, lines, renderApp, sdkUser, TestServer, until, wallet } from './_util.js'

const summary = (app: App, room: string) => app.result.current.rooms.rooms.find((entry) => entry.room.id === room)

describe.each(DIALECTS)('rooms (%s)', (dialect) => {
  test('default: a public group created, found, joined; messages and their actions live both ways', async () => {
    await using server = await TestServer.create({ dialect })
    const aliceWallet = wallet(server.url, { strict: true })
    const bobWallet = wallet(server.url)
    const alice = renderApp(aliceWallet)
    const bob = renderApp(bobWallet)
    await connect(alice)
    await connect(bob)

    const { room } = await act(() =>
      alice.result.current.rooms.create({ type: 'public', name: 'DMTP builders', description: 'all about DMTP' }),
    )
    await until(() => summary(alice, room.id) !== undefined)
    expect(summary(alice, room.id)).toMatchObject({
      room: { type: 'public', name: 'DMTP builders', memberCount: 1 },
      membership: { status: 'member', role: 'owner' },
      peer: null,
      unread: 0,
    })
    alice.rerender({ peer: room.id })
    await until(() => lines(alice).length === 1 && alice.result.current.room.room !== null)
    expect(lines(alice)).toEqual([expect.stringMatching(/^system: 0x.{4}….{4} created the public room "DMTP builders"$/)])
    expect(alice.result.current.room).toMatchObject({ id: room.id, role: 'owner', verified: true, muted: false, removed: null })
    expect(alice.result.current.room.can('kick', 'member')).toBe(true)

    // Bob finds it by its description and joins; both see the join as a system line.
    bob.rerender({ peer: undefined, search: 'about dmtp' })
    await until(() => bob.result.current.search.rooms.length === 1)
    expect(bob.result.current.search.rooms[0]).toMatchObject({ id: room.id, name: 'DMTP builders', memberCount: 1 })
    expect(await act(() => bob.result.current.rooms.join(room.id))).toMatchObject({ status: 'member' })
    await until(() => summary(bob, room.id) !== undefined)
    bob.rerender({ peer: room.id })
    await until(() => lines(bob).length === 2)
    expect(lines(bob)[1]).toMatch(/^system: 0x.{4}….{4} joined$/)
    await until(() => lines(alice).length === 2 && alice.result.current.members.members.length === 2)
    expect(alice.result.current.room.room?.memberCount).toBe(2)
    expect(bob.result.current.room).toMatchObject({ role: 'member', verified: true })
    expect(bob.result.current.room.can('send')).toBe(true)
    expect(bob.result.current.room.can('kick')).toBe(false)

    // A message: at once for the sender, live for the other, unread until read.
    const hello = await act(() => alice.result.current.chat.send('hello builders'))
    expect(hello).toMatchObject({ room: room.id, e2ee: false, notice: expect.stringContaining('not end-to-end encrypted') })
    expect(lines(alice).at(-1)).toBe('hello builders')
    await until(() => lines(bob).at(-1) === 'hello builders')
    await until(() => summary(bob, room.id)?.unread === 1)
    expect(bob.result.current.rooms.unread).toBe(1)
    expect(summary(bob, room.id)?.lastMessage).toMatchObject({ text: 'hello builders', sender: aliceWallet.address })
    await act(() => bob.result.current.chat.markRead())
    expect(summary(bob, room.id)?.unread).toBe(0)
    await act(() => bob.result.current.rooms.refresh())
    expect(summary(bob, room.id)?.unread).toBe(0)

    // A reply that mentions alice.
    const reply = await act(() => bob.result.current.chat.send('thanks!', { replyTo: hello.id, mentions: [aliceWallet.address] }))
    await until(() => lines(alice).at(-1) === 'thanks!')
    expect(alice.result.current.chat.timeline.at(-1)).toMatchObject({
      replyTo: { id: hello.id, sender: aliceWallet.address, text: 'hello builders' },
      mentionsMe: true,
      mentions: [aliceWallet.address],
    })
    expect(bob.result.current.chat.timeline.at(-1)?.mentionsMe).toBe(false)

    // Reactions, counted per emoji; `*` marks the viewer's own.
    await act(() => alice.result.current.chat.react(reply.id, '👍'))
    expect(lines(alice).at(-1)).toBe('thanks! 👍1*')
    await until(() => lines(bob).at(-1) === 'thanks! 👍1')
    await act(() => bob.result.current.chat.react(reply.id, '👍'))
    await until(() => lines(alice).at(-1) === 'thanks! 👍2*')
    await act(() => bob.result.current.chat.react(reply.id, '👍', { remove: true }))
    await until(() => lines(alice).at(-1) === 'thanks! 👍1*')

    // An edit and a pin, live.
    await act(() => alice.result.current.chat.edit(hello.id, 'hello, builders'))
    await act(() => alice.result.current.chat.pin(hello.id))
    await until(() => lines(bob)[2] === 'hello, builders (edited) (pinned)')

    // A recall: gone for everyone.
    const oops = await act(() => bob.result.current.chat.send('oops, wrong room'))
    await until(() => lines(alice).at(-1) === 'oops, wrong room')
    await act(() => bob.result.current.chat.recall(oops.id))
    await until(() => lines(alice).at(-1) === '(recalled)')
    await until(() => lines(bob).at(-1) === '(recalled)')
    expect(lines(alice).slice(2)).toEqual(['hello, builders (edited) (pinned)', 'thanks! 👍1*', '(recalled)'])
    // Every position is held, actions too; the timeline folds them.
    await until(() => alice.result.current.chat.messages.length === 11)
    expect(alice.result.current.chat.messages.map((m) => m.type)).toEqual([
      'system',
      'system',
      'message',
      'message',
      'react',
      'react',
      'unreact',
      'edit',
      'pin',
      'message',
      'recall',
    ])

    // A fresh view (a wallet that has not joined: public rooms are readable) folds the same timeline from history.
    const carol = renderApp(wallet(server.url), room.id)
    await connect(carol)
    await until(() => lines(carol).length === 5)
    expect(lines(carol)).toEqual([lines(bob)[0], lines(bob)[1], 'hello, builders (edited) (pinned)', 'thanks! 👍1', '(recalled)'])
    alice.unmount()
    bob.unmount()
    carol.unmount()
  }, 60_000)

  test('behavior: moderation over the stream: a mute refuses sends, a kick ends the room for the kicked', async () => {
    await using server = await TestServer.create({ dialect })
    const aliceWallet = wallet(server.url)
    const bobWallet = wallet(server.url)
    const alice = renderApp(aliceWallet)
    await connect(alice)
    const { room } = await act(() => alice.result.current.rooms.create({ type: 'public', name: 'moderated' }))
    const carol = await sdkUser(server.url)
    await carol.rooms.join(room.id)
    alice.rerender({ peer: room.id })
    const bob = renderApp(bobWallet)
    await connect(bob)
    await act(() => bob.result.current.rooms.join(room.id))
    bob.rerender({ peer: room.id })
    await until(() => lines(bob).length === 3 && bob.result.current.room.role === 'member')

    await act(() => alice.result.current.room.mute([bobWallet.address], { forMs: 60 * 60_000 }))
    await until(() => bob.result.current.room.muted)
    expect(lines(bob).at(-1)).toMatch(/^system: .* muted 0x.{4}….{4} until 20\d\d-/)
    expect(bob.result.current.room.membership?.mutedUntil).toEqual(expect.any(String))
    await act(() => expect(bob.result.current.chat.send('can I talk?')).rejects.toMatchObject({ code: 'muted' }))
    await until(() => alice.result.current.members.members.some((m) => m.address === bobWallet.address && m.mutedUntil !== null))
    await act(() => alice.result.current.room.unmute([bobWallet.address]))
    await until(() => !bob.result.current.room.muted)
    await act(() => bob.result.current.chat.send('thanks for unmuting me'))

    await act(() => alice.result.current.room.kick([bobWallet.address]))
    await until(() => bob.result.current.room.removed !== null)
    expect(bob.result.current.room.removed).toMatchObject({ type: 'kick', by: aliceWallet.address })
    expect(bob.result.current.room).toMatchObject({ role: null, membership: { status: 'none' } })
    expect(bob.result.current.room.can('send')).toBe(false)
    expect(lines(bob).at(-1)).toMatch(/^system: .* removed 0x.{4}….{4}$/)
    await until(() => summary(bob, room.id) === undefined)
    await until(() => alice.result.current.members.members.length === 2)

    // Nothing more from the room reaches the kicked wallet.
    const before = lines(bob)
    await carol.send(room.id, 'bob is gone')
    await until(() => lines(alice).at(-1) === 'bob is gone')
    await new Promise((resolve) => setTimeout(resolve, 300))
    expect(lines(bob)).toEqual(before)
    await act(() => expect(bob.result.current.chat.send('let me back')).rejects.toMatchObject({ code: 'not_member' }))
    alice.unmount()
    bob.unmount()
  }, 60_000)

  test('behavior: useMembers pages and refetches on role changes; useRoom says what each role may do', async () => {
    await using server = await TestServer.create({ dialect })
    const aliceWallet = wallet(server.url)
    const bobWallet = wallet(server.url)
    const alice = renderApp(aliceWallet, undefined, { membersPageSize: 2 })
    await connect(alice)
    const { room } = await act(() => alice.result.current.rooms.create({ type: 'public', name: 'roles', announce: true }))
    const bob = renderApp(bobWallet, room.id)
    await connect(bob)
    await act(() => bob.result.current.room.join())
    const carol = await sdkUser(server.url)
    await carol.rooms.join(room.id)
    alice.rerender({ peer: room.id })
    await until(() => alice.result.current.members.members.length === 2 && !alice.result.current.members.isLoading)
    expect(alice.result.current.members).toMatchObject({ total: 3, hasMore: true })
    await act(() => alice.result.current.members.loadMore())
    expect(alice.result.current.members.members.map((m) => [m.address, m.role, m.verified])).toEqual([
      [aliceWallet.address, 'owner', true],
      [bobWallet.address, 'member', true],
      [carol.address, 'member', true],
    ])
    expect(alice.result.current.members.hasMore).toBe(false)

    // Announcement-only: a Member reads and reacts, but does not post.
    await until(() => bob.result.current.room.role === 'member')
    expect(bob.result.current.room.permissions).toEqual(['react', 'invite'])
    expect(bob.result.current.room.can('send')).toBe(false)

    await act(() => alice.result.current.room.setRole([bobWallet.address], 'sub-admin'))
    // Every loaded page is refetched: the role shows, the list keeps its three members.
    await until(() => alice.result.current.members.members[1]?.role === 'sub-admin')
    expect(alice.result.current.members.members).toHaveLength(3)
    await until(() => bob.result.current.room.role === 'sub-admin')
    expect(lines(bob).at(-1)).toMatch(/^system: .* made 0x.{4}….{4} a Sub Admin$/)
    const can = bob.result.current.room.can
    expect([can('send'), can('mute', 'member'), can('mute', 'owner'), can('mute', 'sub-admin'), can('kick', 'member')]).toEqual([
      true,
      true,
      false,
      false,
      false,
    ])
    expect(alice.result.current.room.can('set_role', 'sub-admin')).toBe(true)
    await expect(carol.send(room.id, 'members cannot post here')).rejects.toMatchObject({ code: 'forbidden' })
    alice.unmount()
    bob.unmount()
  }, 60_000)

  test('behavior: a 1:1 room through the same hooks: replies, reactions, edits and recalls', async () => {
    await using server = await TestServer.create({ dialect })
    const aliceWallet = wallet(server.url)
    const bobWallet = wallet(server.url)
    const alice = renderApp(aliceWallet, bobWallet.address)
    const bob = renderApp(bobWallet, aliceWallet.address)
    await connect(alice)
    await connect(bob)
    await until(() => alice.result.current.room.room !== null && alice.result.current.chat.room !== null)
    expect(alice.result.current.room).toMatchObject({ room: { type: 'p2p' }, verified: true, role: 'member' })
    expect(alice.result.current.room.permissions).toEqual(['send', 'send_links', 'react', 'pin'])
    expect(alice.result.current.room.can('kick')).toBe(false)
    const room = alice.result.current.chat.room as string

    const hello = await act(() => alice.result.current.chat.send('hello bob'))
    expect(hello).toMatchObject({ room, e2ee: true })
    await until(() => lines(bob).at(-1) === 'hello bob')
    const answer = await act(() => bob.result.current.chat.send('hi alice', { replyTo: hello.id }))
    await until(() => lines(alice).at(-1) === 'hi alice')
    expect(alice.result.current.chat.timeline.at(-1)).toMatchObject({ replyTo: { id: hello.id, text: 'hello bob' }, e2ee: true })
    await act(() => alice.result.current.chat.recall(hello.id))
    await until(() => lines(bob).join('|') === '(recalled)|hi alice')
    await act(() => alice.result.current.chat.react(answer.id, '❤️'))
    const again = await act(() => alice.result.current.chat.send('hello again'))
    await act(() => alice.result.current.chat.edit(again.id, 'hello again, bob'))
    await until(() => lines(bob).join('|') === '(recalled)|hi alice ❤️1|hello again, bob (edited)')
    await until(() => summary(bob, room)?.lastMessage?.text === 'hello again, bob')
    expect(summary(bob, room)).toMatchObject({ peer: aliceWallet.address, unread: 1 })
    // The room list and the conversation list agree on the 1:1 room.
    expect(bob.result.current.conversations.conversations.map((c) => c.room)).toEqual([room])
    alice.unmount()
    bob.unmount()
  }, 60_000)
})
