/**
 * Invite links of private groups, end to end with real clients on a real server
 * (docs/private-groups.md §6, §8): a member makes a link, a stranger joins with its text and reads
 * the room once it rotates; a link with approval files a request; links are listed with their
 * uses and revoked; a tampered, used-up or revoked link lets no one in, and a bad text sends nothing.
 */
import { ApiError, inviteLinkText, parseInviteLink, RecordExpiredError, SignatureInvalidError } from '@dmtp/protocol'
import { describe, expect, test } from 'vitest'
import { DIALECTS, newClient, TestServer } from './_util.js'

type Client = ReturnType<typeof newClient>

const addressOf = async (client: Client) => (await client.getWallet()).address

const refusal = (promise: Promise<unknown>) =>
  promise.then(
    () => undefined,
    (error: unknown) => (error instanceof ApiError ? error.code : (error as Error).name),
  )

async function texts(client: Client, room: string) {
  const page = await client.messages(room, { limit: 100 })
  return page.messages.filter((m) => m.type === 'message').map((m) => [m.text, m.status])
}

describe.each(DIALECTS)('invite links (%s)', (dialect) => {
  test('default: a stranger joins by link and, once the room rotates, holds its key and reads it', async () => {
    await using server = await TestServer.create({ dialect })
    const [alice, bob] = [newClient(server.url), newClient(server.url)]
    for (const client of [alice, bob]) await client.setup()
    const { room } = await alice.rooms.create({ type: 'private', name: 'core team' })
    await alice.send(room.id, 'before bob')
    const { link, text } = await alice.rooms.createLink(room.id, { maxUses: 3 })
    expect(text.startsWith('dmtp-invite:')).toBe(true)
    expect(parseInviteLink(text)).toEqual(link)
    expect(link).toMatchObject({ room: room.id, issuer: await addressOf(alice), maxUses: 3, approval: false })
    // Seven days unless told otherwise.
    expect(Date.parse(link.expiresAt as string) - Date.parse(link.at)).toBe(7 * 24 * 60 * 60 * 1000)

    const joined = await bob.rooms.joinByLink(text)
    expect(joined).toMatchObject({ room: room.id, status: 'member', membership: { status: 'member' } })
    expect(joined.encryption).toMatchObject({ e2ee: true, due: 'join' })
    // The next message rotates first: bob gets that epoch's key, and none from before he joined.
    await alice.send(room.id, 'welcome bob')
    const keys = await bob.rooms.keys(room.id)
    expect(keys.epochs).toEqual([keys.encryption.epoch])
    expect(keys.encryption.epoch).toBeGreaterThan(1)
    expect(await texts(bob, room.id)).toEqual([
      [null, 'undecryptable'],
      ['welcome bob', 'ok'],
    ])
    await bob.send(room.id, 'thanks')
    expect((await texts(alice, room.id)).at(-1)).toEqual(['thanks', 'ok'])
    // Bob's client replays the log with his join by link in it.
    expect((await bob.rooms.log(room.id)).problems).toEqual([])

    const [listed] = await alice.rooms.links(room.id)
    expect(listed).toMatchObject({ id: link.id, uses: 1, revoked: false, text })
  })

  test('behavior: a link with approval files a request, which a member with accept_join_request approves', async () => {
    await using server = await TestServer.create({ dialect })
    const [alice, carol] = [newClient(server.url), newClient(server.url)]
    for (const client of [alice, carol]) await client.setup()
    const { room } = await alice.rooms.create({ type: 'private', name: 'by request' })
    const { text } = await alice.rooms.createLink(room.id, { approval: true, expiresIn: null })
    expect(parseInviteLink(text)).toMatchObject({ approval: true, expiresAt: null })
    expect(await carol.rooms.joinByLink(text)).toMatchObject({ status: 'requested', encryption: null })
    const requests = await alice.rooms.members(room.id, { status: 'requested' })
    expect(requests.members.map((member) => member.address)).toEqual([await addressOf(carol)])
    await alice.rooms.approve(room.id, [await addressOf(carol)])
    expect((await carol.rooms.get(room.id)).membership.status).toBe('member')
  })

  test('security: a tampered, used-up, revoked or expired link lets no one in; a bad text sends nothing', async () => {
    await using server = await TestServer.create({ dialect })
    const [alice, bob, carol, dave] = [newClient(server.url), newClient(server.url), newClient(server.url), newClient(server.url)]
    for (const client of [alice, bob, carol, dave]) await client.setup()
    const { room } = await alice.rooms.create({ type: 'private', name: 'closed' })
    const events = async () => (await alice.rooms.log(room.id)).events.length

    const once = await alice.rooms.createLink(room.id, { maxUses: 1 })
    const before = await events()
    // Tampered: the client refuses it before sending anything.
    const tampered = inviteLinkText({ ...once.link, maxUses: 9 })
    expect(await refusal(bob.rooms.joinByLink(tampered))).toBe(SignatureInvalidError.name)
    expect(await refusal(bob.rooms.joinByLink('https://example.org/join'))).toBe('TypeError')
    expect(await events()).toBe(before)

    expect((await bob.rooms.joinByLink(once.text)).status).toBe('member')
    expect(await refusal(carol.rooms.joinByLink(once.text))).toBe('link_used_up')

    const open = await alice.rooms.createLink(room.id)
    expect(await alice.rooms.revokeLink(room.id, open.link.id)).toMatchObject({ id: open.link.id, revoked: true })
    expect(await refusal(carol.rooms.joinByLink(open.text))).toBe('link_revoked')

    const brief = await alice.rooms.createLink(room.id, { expiresIn: 1 })
    await new Promise((resolve) => setTimeout(resolve, 1_100))
    expect(await refusal(dave.rooms.joinByLink(brief.text))).toBe(RecordExpiredError.name)

    // Bob, a Member, holds `invite` by default; once a role without it is his, he issues no links.
    await alice.rooms.defineRole(room.id, 'quiet', ['send'])
    await alice.rooms.setRole(room.id, [await addressOf(bob)], 'quiet')
    expect(await refusal(bob.rooms.createLink(room.id))).toBe('forbidden')
    expect(await refusal(bob.rooms.links(room.id))).toBe('forbidden')
    expect((await alice.rooms.members(room.id)).members.map((member) => member.address)).not.toContain(await addressOf(carol))
  })

  test('behavior: parameters out of range are refused before anything is signed', async () => {
    await using server = await TestServer.create({ dialect })
    const alice = newClient(server.url)
    await alice.setup()
    const { room } = await alice.rooms.create({ type: 'private', name: 'limits' })
    expect(await refusal(alice.rooms.createLink(room.id, { maxUses: 0 }))).toBe('RangeError')
    expect(await refusal(alice.rooms.createLink(room.id, { expiresIn: -5 }))).toBe('RangeError')
    expect(await refusal(alice.rooms.createLink(room.id, { expiresAt: new Date(Date.now() - 1000) }))).toBe('RangeError')
    expect(await refusal(alice.rooms.createLink(room.id, { expiresIn: 60, expiresAt: new Date(Date.now() + 60_000) }))).toBe(
      'TypeError',
    )
    expect(await alice.rooms.links(room.id)).toEqual([])
  })
})
