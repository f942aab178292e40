/**
 * `dmtp read --follow` in a group, and `dmtp group members` over many pages.
 */
import { getAddress } from 'viem'
import { describe, expect, test } from 'vitest'
import { ok, publicRoom, TIMEOUT } from './_groups.js'
import { CLIENT_DIALECTS, json, newUser, setUp, TestServer } from './_util.js'

describe.each(CLIENT_DIALECTS)('dmtp group (%s)', (dialect) => {
  test('behavior: read --follow prints a group message, a reaction and a membership change live', {
    timeout: TIMEOUT,
  }, async () => {
    await using server = await TestServer.create({ dialect })
    const [alice, bob] = [newUser(server), newUser(server)]
    await setUp(server, alice, bob)
    const room = await publicRoom(alice, [bob])

    const follow = bob.start(['read', '--follow'])
    const followRoom = bob.start(['read', '--room', room, '--follow', '--json'])
    await follow.waitFor('stderr', /following new messages/)
    await followRoom.waitFor('stderr', /following new messages/)
    const live = await ok(alice, ['send', '--room', room, 'live in the room'])
    await follow.waitFor(
      'stdout',
      new RegExp(
        `${live.id} ${alice.address} → "DMTP builders" \\(public room, not end-to-end encrypted\\): live in the room\\n`,
      ),
    )
    await ok(alice, ['react', '--room', room, '--id', live.id, '👍'])
    await follow.waitFor('stdout', new RegExp(`${alice.address} reacted 👍 to ${live.id} in "DMTP builders"\\n`))
    await ok(alice, ['group', 'mute', '--room', room, '--member', bob.address, '--for', '1h'])
    await follow.waitFor('stdout', /"DMTP builders": 0x\w{4}…\w{4} muted 0x\w{4}…\w{4} until \S+\n/)
    await followRoom.waitFor('stdout', /"type":"system"/)
    expect(await follow.stop('SIGINT')).toBe(0)
    expect(await followRoom.stop('SIGINT')).toBe(0)

    const lines = followRoom.stdout.trim().split('\n').map(json)
    expect(lines.map((line) => [line.type, line.text ?? line.emoji])).toEqual([
      ['message', 'live in the room'],
      ['react', '👍'],
      ['system', expect.stringMatching(/ muted /)],
    ])
    expect(lines[1]).toMatchObject({ sender: alice.address, target: live.id })
    expect(lines[2]).toMatchObject({ event: { type: 'mute', members: [bob.address] } })

    // The inbox is every position as stored, membership changes and actions too.
    const inbox = await ok(bob, ['read'])
    // From bob's join on: the room's earlier positions were never his.
    expect(inbox.map((entry: { type: string }) => entry.type)).toEqual(['system', 'message', 'react', 'system'])
    expect(inbox[0]).toMatchObject({ sender: bob.address, event: { type: 'join' } })
    expect(inbox.every((entry: { status: string }) => entry.status === 'ok')).toBe(true)
    expect((await ok(bob, ['read', '--limit', '2'])).map((entry: { type: string }) => entry.type)).toEqual(['react', 'system'])
  })

  test('behavior: group members lists every member, page after page', { timeout: TIMEOUT }, async () => {
    await using server = await TestServer.create({ dialect })
    const alice = newUser(server)
    await setUp(server, alice)
    const room = await publicRoom(alice, [])
    // Members the server shows without the log entries that would make them members (a server
    // that invents members): more than a page of them, each listed, none verified.
    const invented = Array.from({ length: 600 }, (_, i) => getAddress(`0x${(i + 1).toString(16).padStart(40, '0')}`))
    await server.ctx.database.db
      .insertInto('room_members')
      .values(
        invented.map((address, i) => ({
          room_id: room,
          address,
          status: 'member' as const,
          role: 'member',
          joined_seq: 10 + i,
          joined_pos: 0,
          left_pos: null,
          muted_until: null,
          banned: 0,
          banned_until: null,
          read_seq: 0,
        })),
      )
      .execute()
    const members = await ok(alice, ['group', 'members', '--room', room])
    expect(members).toHaveLength(601)
    expect(members[0]).toMatchObject({ address: alice.address, role: 'owner', verified: true })
    expect(members.slice(1).map((m: { address: string }) => m.address)).toEqual(invented)
    expect(members.slice(1).every((m: { verified: boolean }) => !m.verified)).toBe(true)
  })
})
