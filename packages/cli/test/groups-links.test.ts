/**
 * Invite links through the CLI: `group link create` prints the `dmtp-invite:` text (JSON with
 * --json), `group link join` joins with it (or asks to, with --approval), `group link list` shows
 * uses, `group link revoke` ends it; used-up, revoked and tampered links are refused with their codes.
 */
import { inviteLinkText, parseInviteLink } from '@dmtp/protocol'
import { describe, expect, test } from 'vitest'
import { fails, ok, TIMEOUT } from './_groups.js'
import { CLIENT_DIALECTS, newUser, setUp, TestServer } from './_util.js'

describe.each(CLIENT_DIALECTS)('dmtp group link (%s)', (dialect) => {
  test('default: create, join, list, revoke', { timeout: TIMEOUT }, async () => {
    await using server = await TestServer.create({ dialect })
    const [alice, bob, carol] = [newUser(server), newUser(server), newUser(server)]
    await setUp(server, alice, bob, carol)
    const { room } = await ok(alice, ['group', 'create', '--name', 'core team', '--type', 'private'])

    const printed = await alice.run(['group', 'link', 'create', room, '--max-uses', '1', '--expires', '1d'])
    expect(printed).toMatchObject({ code: 0, stderr: '' })
    const text = printed.stdout.trim()
    expect(text).toMatch(/^dmtp-invite:[A-Za-z0-9_-]+$/)
    const link = parseInviteLink(text)
    expect(link).toMatchObject({ room, issuer: alice.address, maxUses: 1, approval: false })
    expect(Date.parse(link.expiresAt as string) - Date.parse(link.at)).toBe(86_400_000)

    const joined = await bob.run(['group', 'link', 'join', text])
    expect(joined).toMatchObject({ code: 0, stdout: `Joined ${room}\n` })
    expect(await fails(carol, ['group', 'link', 'join', text])).toMatchObject({ code: 'link_used_up' })
    const [listed] = await ok(alice, ['group', 'link', 'list', room])
    expect(listed).toEqual({
      id: link.id,
      issuer: alice.address,
      uses: 1,
      maxUses: 1,
      expiresAt: link.expiresAt,
      approval: false,
      revoked: false,
      text,
    })

    const open = await ok(alice, ['group', 'link', 'create', room, '--expires', 'never'])
    expect(open).toMatchObject({ room, expiresAt: null, maxUses: null, approval: false })
    expect(await ok(alice, ['group', 'link', 'revoke', room, open.id])).toEqual({ room, id: open.id, revoked: true })
    expect(await fails(carol, ['group', 'link', 'join', open.text])).toMatchObject({ code: 'link_revoked' })
    const human = await alice.run(['group', 'link', 'list', room])
    expect(human.stdout).toContain(`${open.id}  0/∞ uses  revoked`)
  })

  test('behavior: a link with --approval asks to join; a tampered one is refused before anything is sent', {
    timeout: TIMEOUT,
  }, async () => {
    await using server = await TestServer.create({ dialect })
    const [alice, bob] = [newUser(server), newUser(server)]
    await setUp(server, alice, bob)
    const { room } = await ok(alice, ['group', 'create', '--name', 'core team', '--type', 'private'])
    const { text } = await ok(alice, ['group', 'link', 'create', room, '--approval'])
    const tampered = inviteLinkText({ ...parseInviteLink(text), approval: false })
    expect(await fails(bob, ['group', 'link', 'join', tampered])).toMatchObject({ code: 'invalid_signature' })
    expect(await fails(bob, ['group', 'link', 'join', 'https://example.org/join'])).toMatchObject({ code: 'invalid_request' })
    expect(await ok(bob, ['group', 'link', 'join', text])).toEqual({ room, status: 'requested' })
    await ok(alice, ['group', 'approve', '--room', room, '--member', bob.address])
    expect(await ok(bob, ['group', 'info', '--room', room])).toMatchObject({ e2ee: true })
  })
})
