/**
 * Moderation and private groups through the CLI: roles, kick, mute, ban, leave, the log, invites,
 * and the error codes scripts rely on (join requests and E2EE: groups-private.test.ts).
 */
import { describe, expect, test } from 'vitest'
import { fails, ok, publicRoom, TIMEOUT, UNKNOWN_ROOM } from './_groups.js'
import { CLIENT_DIALECTS, json, newUser, setUp, TestServer } from './_util.js'

describe.each(CLIENT_DIALECTS)('dmtp group (%s)', (dialect) => {
  test('behavior: moderation: a member cannot kick (forbidden), roles, mute --for lifts, a ban refuses a join', {
    timeout: TIMEOUT,
  }, async () => {
    await using server = await TestServer.create({ dialect })
    const [alice, bob, carol] = [newUser(server), newUser(server), newUser(server)]
    await setUp(server, alice, bob, carol)
    const room = await publicRoom(alice, [bob, carol])

    const kick = await bob.run(['group', 'kick', '--room', room, '--member', carol.address, '--json'])
    expect(kick).toMatchObject({ code: 1, stdout: '' })
    expect(kick.stderr).toMatchInlineSnapshot(`
      "{"error":{"code":"forbidden","message":"This needs the \\"kick\\" permission, which your role does not have."}}
      "
    `)
    expect(await ok(alice, ['group', 'role', '--room', room, '--member', bob.address, '--role', 'sub-admin'])).toEqual({
      room,
      members: [bob.address],
      role: 'sub-admin',
    })

    // A sub-admin may mute; for a while (long enough for the steps below on a busy host).
    const muted = await ok(bob, ['group', 'mute', '--room', room, '--member', carol.address, '--for', '30s'])
    expect(muted).toEqual({ room, action: 'mute', members: [carol.address], until: expect.any(String) })
    expect(Date.parse(muted.until) - Date.now()).toBeGreaterThan(0)
    const refused = await fails(carol, ['send', '--room', room, 'can I talk?'])
    expect(refused).toEqual({ code: 'muted', message: `You are muted in this room until ${muted.until}.` })
    const members = await ok(alice, ['group', 'members', '--room', room])
    expect(members.find((m: { address: string }) => m.address === carol.address)).toMatchObject({ mutedUntil: muted.until })
    await new Promise((resolve) => setTimeout(resolve, Math.max(0, Date.parse(muted.until) - Date.now() + 500)))
    expect(await ok(carol, ['send', '--room', room, 'back again'])).toMatchObject({ room })

    expect(await ok(alice, ['group', 'ban', '--room', room, '--member', carol.address])).toEqual({
      room,
      action: 'ban',
      members: [carol.address],
      until: null,
    })
    expect(await fails(carol, ['group', 'join', '--room', room])).toEqual({
      code: 'banned',
      message: 'You are banned from this room.',
    })
    expect(await ok(alice, ['group', 'members', '--room', room, '--status', 'banned'])).toEqual([
      expect.objectContaining({ address: carol.address, banned: true, bannedUntil: null }),
    ])
    expect(await ok(alice, ['group', 'unban', '--room', room, '--all'])).toEqual({
      room,
      action: 'unban',
      members: [carol.address],
    })
    expect(await ok(carol, ['group', 'join', '--room', room])).toEqual({ room, status: 'member' })
  })

  test('behavior: kick --all, leave, and the log of it all', { timeout: TIMEOUT }, async () => {
    await using server = await TestServer.create({ dialect })
    const [alice, bob, carol] = [newUser(server), newUser(server), newUser(server)]
    await setUp(server, alice, bob, carol)
    const room = await publicRoom(alice, [bob, carol])
    expect(await ok(alice, ['group', 'role', '--room', room, '--member', bob.address, '--role', 'admin'])).toMatchObject({
      role: 'admin',
    })
    // Everyone the owner outranks who cannot kick: carol, not the admin.
    expect(await ok(alice, ['group', 'kick', '--room', room, '--all'])).toEqual({ room, action: 'kick', members: 'all' })
    expect((await ok(alice, ['group', 'members', '--room', room])).map((m: { address: string }) => m.address)).toEqual([
      alice.address,
      bob.address,
    ])
    expect(await ok(bob, ['group', 'leave', '--room', room])).toEqual({ room, left: true })
    expect(await ok(bob, ['group', 'list'])).toEqual([])
    const log = await ok(alice, ['group', 'log', '--room', room])
    expect(log.map(({ type, actor, subject }: Record<string, unknown>) => [type, actor, subject])).toEqual([
      ['create', alice.address, null],
      ['join', bob.address, null],
      ['join', carol.address, null],
      ['set_role', alice.address, [bob.address]],
      ['kick', alice.address, 'all'],
      ['leave', bob.address, null],
    ])
    expect(log.every((entry: { verified: boolean }) => entry.verified)).toBe(true)
  })

  test('behavior: a private group is hidden until you are invited; invite, join, delete', { timeout: TIMEOUT }, async () => {
    await using server = await TestServer.create({ dialect })
    const [alice, bob] = [newUser(server), newUser(server)]
    await setUp(server, alice, bob)
    const created = await ok(alice, ['group', 'create', '--name', 'core team', '--type', 'private'])
    const { room } = created
    expect(created).toEqual({ room, type: 'private', name: 'core team', description: '', announce: false, e2ee: true, epoch: 1 })
    expect(await fails(bob, ['group', 'info', '--room', room])).toEqual({ code: 'room_not_found', message: 'No such room.' })
    expect(await ok(bob, ['group', 'search', 'core'])).toEqual([])

    expect(await ok(alice, ['group', 'invite', '--room', room, '--member', bob.address])).toEqual({
      room,
      members: [bob.address],
      until: expect.stringMatching(/^\d{4}-/),
    })
    expect(await ok(bob, ['group', 'list', '--invited'])).toEqual([
      { room, type: 'private', name: 'core team', unread: 0, role: null, members: 1, until: expect.stringMatching(/^\d{4}-/) },
    ])
    expect(await ok(bob, ['group', 'join', '--room', room])).toEqual({ room, status: 'member' })
    await ok(bob, ['send', '--room', room, 'hi team'])
    const sent = await alice.run(['send', '--room', room, 'welcome'])
    expect(sent.stdout).toMatch(/ to "core team" \(private group, end-to-end encrypted\)\n$/)
    expect((await ok(alice, ['read', '--room', room])).map((m: { text: string }) => m.text)).toEqual(['hi team', 'welcome'])

    expect(await ok(bob, ['group', 'leave', '--room', room])).toEqual({ room, left: true })
    expect(await fails(bob, ['read', '--room', room])).toMatchObject({ code: 'room_not_found' })
    expect(await ok(alice, ['group', 'delete', '--room', room])).toEqual({ room, deleted: true })
    for (const user of [alice, bob]) {
      expect(await fails(user, ['group', 'info', '--room', room])).toMatchObject({ code: 'room_not_found' })
    }
  })

  test('behavior: unknown rooms are room_not_found; bad ids invalid_request; --all with --member a usage error', {
    timeout: TIMEOUT,
  }, async () => {
    await using server = await TestServer.create({ dialect })
    const alice = newUser(server)
    await setUp(server, alice)
    for (const args of [
      ['group', 'info', '--room', UNKNOWN_ROOM],
      ['group', 'join', '--room', UNKNOWN_ROOM],
      ['send', '--room', UNKNOWN_ROOM, 'hello?'],
      ['read', '--room', UNKNOWN_ROOM],
    ]) {
      expect(await fails(alice, args)).toEqual({ code: 'room_not_found', message: 'No such room.' })
    }
    expect(await fails(alice, ['group', 'members', '--room', 'not-a-room'])).toEqual({
      code: 'invalid_request',
      message: '"not-a-room" is not a DMTP id (22 base64url characters).',
    })

    const both = await alice.run(['group', 'mute', '--room', UNKNOWN_ROOM, '--member', alice.address, '--all', '--json'])
    expect(both).toMatchObject({ code: 2, stdout: '' })
    expect(both.stderr).toMatchInlineSnapshot(`
      "{"error":{"code":"usage","message":"option '--member <address>' cannot be used with option '--all'"}}
      "
    `)
    const neither = await alice.run(['group', 'ban', '--room', UNKNOWN_ROOM, '--json'])
    expect(neither).toMatchObject({ code: 2, stdout: '' })
    expect(json(neither.stderr)).toEqual({
      error: { code: 'usage', message: 'pass --member <address> (repeat for several) or --all' },
    })
    const duration = await alice.run(['group', 'mute', '--room', UNKNOWN_ROOM, '--all', '--for', '10 minutes'])
    expect(duration).toMatchObject({ code: 2, stdout: '' })
    expect(duration.stderr).toMatch(
      /^error: option '--for <duration>' argument '10 minutes' is invalid\. Expected a duration such as 30s, 10m, 2h or 7d\.\n/,
    )
    const target = await alice.run(['send', '--to', alice.address, '--room', UNKNOWN_ROOM, 'hi', '--json'])
    expect(target).toMatchObject({ code: 2, stdout: '' })
  })
})
