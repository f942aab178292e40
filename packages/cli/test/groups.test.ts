/**
 * Groups through the CLI: `dmtp group …` (create, search, join, list, info, members, log) and
 * messages in a room (`send --room`, `react`, `edit`, `recall`, `pin`, `read --room`), with --json
 * asserted. Moderation and private groups: groups-moderation.test.ts; live reads and long member
 * lists: groups-follow.test.ts (split so CI runs them side by side).
 */
import { describe, expect, test } from 'vitest'
import { fails, ok, publicRoom, TIMEOUT } from './_groups.js'
import { CLIENT_DIALECTS, newUser, setUp, TestServer } from './_util.js'

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
      e2ee: false,
      epoch: null,
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
      e2ee: null,
      plain: null,
      epoch: null,
      due: null,
      verified: true,
      problems: [],
      fork: null,
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
})
