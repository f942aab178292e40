/**
 * Groups through the CLI: `dmtp group …` (create, search, join, list, info, members, roles,
 * moderation, log, leave, delete) and messages in a room (`send --room`, `react`, `edit`,
 * `recall`, `pin`, `read --room`, `read --follow`), with --json asserted and the error codes
 * scripts rely on.
 */
import { randomBytes } from 'node:crypto'
import { toBase64Url } from '@dmtp/protocol'
import { getAddress } from 'viem'
import { describe, expect, test } from 'vitest'
import { CLIENT_DIALECTS, json, newUser, setUp, TestServer, type User } from './_util.js'

/** Each step runs the built dmtp (a process start, about a second, more on a busy host). */
const TIMEOUT = 240_000

/** A well-formed room id that no room has. */
const UNKNOWN_ROOM = toBase64Url(randomBytes(16))

/** Runs a --json command that must succeed, and parses what it printed. */
async function ok<T = any>(user: User, args: string[]): Promise<T> {
  const result = await user.run([...args, '--json'])
  expect(result, `dmtp ${args.join(' ')}`).toMatchObject({ code: 0, stderr: '' })
  return json<T>(result.stdout)
}

/** Runs a --json command that must fail with exit 1, and parses its error. */
async function fails(user: User, args: string[]): Promise<{ code: string; message: string }> {
  const result = await user.run([...args, '--json'])
  expect(result, `dmtp ${args.join(' ')}`).toMatchObject({ code: 1, stdout: '' })
  return json(result.stderr).error
}

/** A public room made by `owner` and joined by `members`. */
async function publicRoom(owner: User, members: User[], name = 'DMTP builders'): Promise<string> {
  const { room } = await ok(owner, ['group', 'create', '--name', name, '--type', 'public'])
  for (const member of members) expect(await ok(member, ['group', 'join', '--room', room])).toEqual({ room, status: 'member' })
  return room
}

describe.each(CLIENT_DIALECTS)('dmtp group (%s)', (dialect) => {
  test('default: create, search, join, list, info, members, log', { timeout: TIMEOUT }, async () => {
    await using server = await TestServer.create({ dialect })
    const [alice, bob] = [newUser(server), newUser(server)]
    await setUp(server, alice, bob)

    const created = await ok(alice, [
      'group',
      'create',
      '--name',
      'DMTP builders',
      '--type',
      'public',
      '--description',
      'all about DMTP',
    ])
    const { room } = created
    expect(created).toEqual({
      room: expect.stringMatching(/^[\w-]{22}$/),
      type: 'public',
      name: 'DMTP builders',
      description: 'all about DMTP',
      announce: false,
    })
    expect(await ok(bob, ['group', 'search', 'builders'])).toEqual([
      { room, name: 'DMTP builders', description: 'all about DMTP', members: 1, announce: false },
    ])
    expect((await bob.run(['group', 'search', 'builders'])).stdout).toBe(`${room}  "DMTP builders"  1 member  all about DMTP\n`)
    expect(await ok(bob, ['group', 'search', 'no such words'])).toEqual([])

    expect(await ok(bob, ['group', 'join', '--room', room])).toEqual({ room, status: 'member' })
    // Joining again changes nothing.
    expect(await ok(bob, ['group', 'join', '--room', room])).toEqual({ room, status: 'member' })

    expect(await ok(bob, ['group', 'list'])).toEqual([
      { room, type: 'public', name: 'DMTP builders', unread: 0, role: 'member', members: 2 },
    ])
    expect(await ok(bob, ['group', 'info', '--room', room])).toEqual({
      room,
      type: 'public',
      name: 'DMTP builders',
      description: 'all about DMTP',
      announce: false,
      members: 2,
      role: 'member',
      status: 'member',
      mutedUntil: null,
      customRoles: {},
      verified: true,
      problems: [],
    })
    const info = await alice.run(['group', 'info', '--room', room])
    expect(info).toMatchObject({ code: 0, stderr: '' })
    expect(info.stdout).toBe(
      [
        `"DMTP builders" ${room}`,
        '  type         public room, not end-to-end encrypted',
        '  description  all about DMTP',
        '  members      2',
        '  you          owner',
        '  log          verified',
        '',
      ].join('\n'),
    )

    expect(await ok(bob, ['group', 'members', '--room', room])).toEqual([
      {
        address: alice.address,
        role: 'owner',
        mutedUntil: null,
        banned: false,
        bannedUntil: null,
        status: 'member',
        verified: true,
      },
      {
        address: bob.address,
        role: 'member',
        mutedUntil: null,
        banned: false,
        bannedUntil: null,
        status: 'member',
        verified: true,
      },
    ])

    const log = await ok(bob, ['group', 'log', '--room', room])
    expect(
      log.map(({ type, actor, subject, verified }: Record<string, unknown>) => ({ type, actor, subject, verified })),
    ).toEqual([
      { type: 'create', actor: alice.address, subject: null, verified: true },
      { type: 'join', actor: bob.address, subject: null, verified: true },
    ])
    expect(log[0]).toMatchObject({
      at: expect.any(String),
      seq: 1,
      problem: null,
      event: { type: 'create', name: 'DMTP builders' },
    })
    const humanLog = await bob.run(['group', 'log', '--room', room])
    expect(humanLog.stdout.split('\n')).toEqual([
      expect.stringMatching(/^✓ \[\S+\] 0x\w{4}…\w{4} created the public room "DMTP builders"$/),
      expect.stringMatching(/^✓ \[\S+\] 0x\w{4}…\w{4} joined$/),
      '',
    ])
  })

  test('behavior: messages in a room: replies, reactions, edits, recalls and pins, folded by read --room', {
    timeout: TIMEOUT,
  }, async () => {
    await using server = await TestServer.create({ dialect })
    const [alice, bob] = [newUser(server), newUser(server)]
    await setUp(server, alice, bob)
    const room = await publicRoom(alice, [bob])

    const welcome = await ok(alice, ['send', '--room', room, 'welcome'])
    expect(welcome).toEqual({ id: expect.stringMatching(/^[\w-]{22}$/), room, e2ee: false })
    const reply = await bob.run(['send', '--room', room, '--reply-to', welcome.id, '--mention', alice.address, 'thanks!'])
    expect(reply).toMatchObject({ code: 0, stderr: '' })
    expect(reply.stdout).toMatch(/^Sent ([\w-]{22}) to "DMTP builders" \(public room, not end-to-end encrypted\)\n$/)
    const replyId = /^Sent ([\w-]{22})/.exec(reply.stdout)?.[1]
    expect(await ok(bob, ['react', '--room', room, '--id', welcome.id, '👍'])).toEqual({
      id: expect.any(String),
      room,
      target: welcome.id,
      emoji: '👍',
      removed: false,
    })
    expect(await ok(alice, ['edit', '--room', room, '--id', welcome.id, 'welcome,', 'everyone'])).toEqual({
      id: expect.any(String),
      room,
      target: welcome.id,
    })
    const oops = await ok(bob, ['send', '--room', room, 'oops'])
    expect(await ok(bob, ['recall', '--room', room, '--id', oops.id])).toEqual({ id: expect.any(String), room, target: oops.id })
    expect(await ok(alice, ['pin', '--room', room, '--id', welcome.id])).toEqual({
      id: expect.any(String),
      room,
      target: welcome.id,
      pinned: true,
    })
    expect(await fails(bob, ['edit', '--room', room, '--id', welcome.id, 'not mine'])).toEqual({
      code: 'forbidden',
      message: 'Only its author can edit a message.',
    })

    const [before] = await ok(alice, ['group', 'list'])
    expect(before.unread).toBeGreaterThan(0)
    const views = await ok(alice, ['read', '--room', room])
    const base = { room, receiver: null, e2ee: false, status: 'ok', type: 'message', pinned: false, edited: false, mentions: [] }
    expect(views).toEqual([
      {
        ...base,
        id: welcome.id,
        sender: alice.address,
        text: 'welcome, everyone',
        timestamp: expect.any(String),
        replyTo: null,
        reactions: [{ emoji: '👍', count: 1, mine: false }],
        edited: true,
        recalled: false,
        pinned: true,
      },
      {
        ...base,
        id: replyId,
        sender: bob.address,
        text: 'thanks!',
        timestamp: expect.any(String),
        replyTo: welcome.id,
        mentions: [alice.address],
        reactions: [],
        recalled: false,
      },
      {
        ...base,
        id: oops.id,
        sender: bob.address,
        text: null,
        timestamp: expect.any(String),
        replyTo: null,
        reactions: [],
        recalled: bob.address,
      },
    ])
    // Reading the room moved the read marker.
    expect((await ok(alice, ['group', 'list']))[0]).toMatchObject({ room, unread: 0 })
    expect((await ok(alice, ['read', '--room', room, '--limit', '1'])).map((view: { id: string }) => view.id)).toEqual([oops.id])

    const human = await alice.run(['read', '--room', room])
    expect(human).toMatchObject({ code: 0, stderr: '' })
    expect(human.stdout.split('\n')).toEqual([
      '"DMTP builders" (public room, not end-to-end encrypted; 2 members; you are owner)',
      expect.stringMatching(/^\[\S+\] — 0x\w{4}…\w{4} created the public room "DMTP builders"$/),
      expect.stringMatching(/^\[\S+\] — 0x\w{4}…\w{4} joined$/),
      expect.stringMatching(
        new RegExp(`^\\[\\S+\\] ${welcome.id} ${alice.address}: welcome, everyone \\(edited\\) \\(pinned\\) \\[👍 1\\]$`),
      ),
      expect.stringMatching(new RegExp(`^\\[\\S+\\] ${replyId} ${bob.address} \\(reply to ${welcome.id}\\): thanks!$`)),
      expect.stringMatching(new RegExp(`^\\[\\S+\\] ${oops.id} ${bob.address}: \\(recalled\\)$`)),
      '',
    ])
  })

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
    expect(created).toEqual({ room, type: 'private', name: 'core team', description: '', announce: false })
    expect(await fails(bob, ['group', 'info', '--room', room])).toEqual({ code: 'room_not_found', message: 'No such room.' })
    expect(await ok(bob, ['group', 'search', 'core'])).toEqual([])

    expect(await ok(alice, ['group', 'invite', '--room', room, '--member', bob.address])).toEqual({
      room,
      members: [bob.address],
    })
    expect(await ok(bob, ['group', 'list', '--invited'])).toEqual([
      { room, type: 'private', name: 'core team', unread: 0, role: null, members: 1 },
    ])
    expect(await ok(bob, ['group', 'join', '--room', room])).toEqual({ room, status: 'member' })
    await ok(bob, ['send', '--room', room, 'hi team'])
    const sent = await alice.run(['send', '--room', room, 'welcome'])
    expect(sent.stdout).toMatch(/ to "core team" \(private group, not end-to-end encrypted\)\n$/)
    expect((await ok(alice, ['read', '--room', room])).map((m: { text: string }) => m.text)).toEqual(['hi team', 'welcome'])

    expect(await ok(bob, ['group', 'leave', '--room', room])).toEqual({ room, left: true })
    expect(await fails(bob, ['read', '--room', room])).toMatchObject({ code: 'room_not_found' })
    expect(await ok(alice, ['group', 'delete', '--room', room])).toEqual({ room, deleted: true })
    for (const user of [alice, bob]) {
      expect(await fails(user, ['group', 'info', '--room', room])).toMatchObject({ code: 'room_not_found' })
    }
  })

  // @TODO The SDK's joinRoom cannot ask to join a private group yet: postRoomEvent first fetches
  // the room's description, which the server hides from those not invited (room_not_found).
  test.todo('behavior: asking to join a private group is "requested"; approve lets the wallet in')

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
