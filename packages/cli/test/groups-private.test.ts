/**
 * Private groups with end-to-end encryption through the CLI: `group create --type private`
 * (E2EE from the first message), `invite` / `accept`, `send` and `read` (each message marked),
 * `info --json` with "e2ee" and "epoch", `group rotate`, `group e2ee on|off` by permission, and
 * `send --plain` where the group allows it.
 */
import { describe, expect, test } from 'vitest'
import { fails, ok, TIMEOUT } from './_groups.js'
import { CLIENT_DIALECTS, newUser, setUp, TestServer } from './_util.js'

describe.each(CLIENT_DIALECTS)('dmtp group, private (%s)', (dialect) => {
  test('default: create, invite, accept, send, read, info, rotate, e2ee off', { timeout: TIMEOUT }, async () => {
    await using server = await TestServer.create({ dialect })
    const [alice, bob] = [newUser(server), newUser(server)]
    await setUp(server, alice, bob)
    const created = await ok(alice, ['group', 'create', '--name', 'core team', '--type', 'private'])
    const { room } = created
    expect(created).toMatchObject({ type: 'private', e2ee: true, epoch: 1 })
    const before = Date.now()
    const invited = await ok(alice, ['group', 'invite', '--room', room, '--member', bob.address, '--expires', '2h'])
    const lapse = Date.parse(invited.until) - before
    expect(lapse).toBeGreaterThan(2 * 3_600_000 - 60_000)
    expect(lapse).toBeLessThanOrEqual(2 * 3_600_000 + 60_000)
    expect(await ok(bob, ['group', 'list', '--invited'])).toMatchObject([{ room, until: invited.until }])
    expect(await ok(bob, ['group', 'accept', '--room', room])).toEqual({ room, status: 'member' })

    const sent = await bob.run(['send', '--room', room, 'the plan'])
    expect(sent.stdout).toMatch(/ to "core team" \(private group, end-to-end encrypted\)\n$/)
    expect(await fails(bob, ['send', '--room', room, '--plain', 'in the clear'])).toMatchObject({ code: 'e2ee_required' })
    const read = await ok(alice, ['read', '--room', room])
    expect(read.map((m: { text: string; e2ee: boolean }) => [m.text, m.e2ee])).toEqual([['the plan', true]])

    // bob's join made the room due; his send rotated to epoch 2.
    expect(await ok(alice, ['group', 'info', '--room', room])).toMatchObject({ e2ee: true, plain: false, epoch: 2, due: null })
    expect(await ok(bob, ['group', 'rotate', '--room', room])).toEqual({ room, epoch: 3 })
    const info = await alice.run(['group', 'info', '--room', room])
    expect(info.stdout).toContain('private group, end-to-end encrypted')
    expect(info.stdout).toContain('key          epoch 3')

    expect(await fails(bob, ['group', 'e2ee', 'off', '--room', room])).toMatchObject({ code: 'forbidden' })
    expect(await ok(alice, ['group', 'e2ee', 'off', '--room', room])).toEqual({ room, e2ee: false, plain: false, epoch: 3 })
    await ok(bob, ['send', '--room', room, 'now in the clear'])
    const after = await ok(alice, ['read', '--room', room])
    expect(after.map((m: { text: string; e2ee: boolean }) => [m.text, m.e2ee])).toEqual([
      ['the plan', true],
      ['now in the clear', false],
    ])
    expect(await ok(alice, ['group', 'e2ee', 'on', '--room', room, '--plain'])).toEqual({
      room,
      e2ee: true,
      plain: true,
      epoch: 4,
    })
    expect(await ok(bob, ['send', '--room', room, '--plain', 'marked plaintext'])).toMatchObject({ e2ee: false })
  })

  test('behavior: asking to join is "requested"; approve lets the wallet in and it reads from a new key', {
    timeout: TIMEOUT,
  }, async () => {
    await using server = await TestServer.create({ dialect })
    const [alice, bob] = [newUser(server), newUser(server)]
    await setUp(server, alice, bob)
    const { room } = await ok(alice, ['group', 'create', '--name', 'core team', '--type', 'private'])
    await ok(alice, ['send', '--room', room, 'before bob'])
    expect(await ok(bob, ['group', 'join', '--room', room])).toEqual({ room, status: 'requested' })
    const requests = await ok(alice, ['group', 'members', '--room', room, '--status', 'requested'])
    expect(requests.map((m: { address: string }) => m.address)).toEqual([bob.address])
    await ok(alice, ['group', 'approve', '--room', room, '--member', bob.address])
    await ok(alice, ['send', '--room', room, 'welcome bob'])
    const read = await ok(bob, ['read', '--room', room])
    // History is "none": the message before bob joined is under a key he was never given.
    expect(read.map((m: { text: string | null; status: string }) => [m.text, m.status])).toEqual([
      [null, 'undecryptable'],
      ['welcome bob', 'ok'],
    ])
  })
})
