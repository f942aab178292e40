/**
 * Invite links of private groups (POST/GET/DELETE /v1/rooms/:room/links, and joins carrying a
 * link): a registered link lets a stranger join (or, with approval, ask to), counted once per
 * use in the transaction of the join. Every attack is refused with its code and changes nothing:
 * a tampered, foreign, expired, revoked, used-up or unregistered link, one issued by a member
 * without `invite` or registered by another wallet, a banned wallet, a replayed join.
 */
import { type InviteLink, signInviteLink, toBase64Url } from '@dmtp/protocol'
import { nodeCryptoBackend as crypto } from '@dmtp/protocol/node'
import { afterAll, beforeAll, describe, expect, test } from 'vitest'
import { type GroupWallet, groupWallets, keyring, replayLog, unlimited } from './_rooms.js'
import { DIALECTS, snapshotDb, TestClock, TestServer } from './_util.js'
import { api, flipChar } from './_wallet.js'

describe.each(DIALECTS)('room links (%s)', (dialect) => {
  const clock = new TestClock()
  const now = () => clock.now()
  let server: TestServer
  beforeAll(async () => {
    server = await TestServer.create({ dialect, clock, configure: unlimited })
  })
  afterAll(async () => {
    await server[Symbol.asyncDispose]()
  })

  const wallets = (count: number) => groupWallets(server, count, now)
  const inMinutes = (minutes: number) => new Date(now().getTime() + minutes * 60_000).toISOString()

  /** A private room of `owner` with `members` invited and joined. */
  async function privateRoom(owner: GroupWallet, members: GroupWallet[] = []) {
    const room = await owner.createRoom({ type: 'private' })
    for (const member of members) {
      await owner.must(room, { type: 'invite', members: [member.address] })
      await member.must(room, { type: 'join' })
    }
    return room
  }

  /** A link signed by `issuer` for `room`, at the room's log head. */
  async function signLink(issuer: GroupWallet, room: string, more: Partial<InviteLink> = {}): Promise<InviteLink> {
    const head = (await issuer.room(room)).body.room?.logHead?.cid
    const { signature: _signature, ...fields } = {
      v: 1 as const,
      id: toBase64Url(crypto.randomBytes(16)),
      room,
      issuer: issuer.address,
      issuerKey: issuer.bundleCid,
      logHead: head,
      at: now().toISOString(),
      expiresAt: null,
      maxUses: null,
      approval: false,
      signature: '',
      ...more,
    }
    return signInviteLink(crypto, { link: fields, signingKey: issuer.keys.ed25519.secretKey })
  }

  const register = (wallet: GroupWallet, room: string, link: unknown) =>
    api(server.url, 'POST', `/v1/rooms/${room}/links`, { token: wallet.token, body: { link } })
  const list = (wallet: GroupWallet, room: string) => api(server.url, 'GET', `/v1/rooms/${room}/links`, { token: wallet.token })
  const revoke = (wallet: GroupWallet, room: string, id: string) =>
    api(server.url, 'DELETE', `/v1/rooms/${room}/links/${id}`, { token: wallet.token })

  /** A link signed and registered by `issuer`. */
  async function issued(issuer: GroupWallet, room: string, more: Partial<InviteLink> = {}): Promise<InviteLink> {
    const link = await signLink(issuer, room, more)
    const response = await register(issuer, room, link)
    if (response.status !== 200) throw new Error(`register failed: ${response.text}`)
    return link
  }

  /** Runs `attempt` and checks that it changed nothing in the database. */
  async function refused(attempt: () => Promise<{ status: number; body: any }>) {
    const before = await snapshotDb(server)
    const response = await attempt()
    expect(await snapshotDb(server)).toEqual(before)
    return { status: response.status, code: response.body?.error?.code, message: response.body?.error?.message }
  }

  const usesOf = async (wallet: GroupWallet, room: string, id: string) =>
    (await list(wallet, room)).body.links.find((link: InviteLink) => link.id === id)?.uses

  test('default: a stranger joins by link; the use is counted; every client verifies the link in the log', async () => {
    const [alice, bob, stranger] = await wallets(3)
    const room = await privateRoom(alice, [bob])
    const link = await signLink(alice, room, { maxUses: 5, expiresAt: inMinutes(60) })
    const registered = await register(alice, room, link)
    expect(registered).toMatchObject({ status: 200, body: { link: { ...link, uses: 0, revoked: false } } })
    // Registering the same link again returns it; another link under its id is a conflict.
    expect(await register(alice, room, link)).toMatchObject({ status: 200, body: { link: { id: link.id, uses: 0 } } })
    const other = await signLink(alice, room, { id: link.id, maxUses: 6 })
    expect(await refused(() => register(alice, room, other))).toMatchObject({ status: 409, code: 'conflict' })

    const joined = await stranger.act(room, { type: 'join', link })
    expect(joined).toMatchObject({ status: 200, body: { membership: { status: 'member', role: 'member' } } })
    expect(joined.body.entry.entry.event.link).toEqual(link)
    expect(await usesOf(alice, room, link.id)).toBe(1)
    expect((await bob.members(room)).map((member) => member.address)).toContain(stranger.address)

    const { state, problems } = await replayLog(room, await bob.log(room), keyring([alice, bob, stranger]))
    expect(problems).toEqual([])
    expect(state.member(stranger.address).status).toBe('member')
    // A client holding the log refuses a link its issuer did not sign.
    const log = await bob.log(room)
    const last = log.at(-1) as (typeof log)[number]
    const forged = { ...last, entry: { ...last.entry, event: { ...last.entry.event, link: { ...link, maxUses: 500 } } } }
    const replayed = await replayLog(room, [...log.slice(0, -1), forged as typeof last], keyring([alice, bob, stranger]))
    expect(replayed.problems).toContainEqual({
      index: last.entry.index,
      type: 'join',
      problem: 'invite link signature does not verify',
    })
  })

  test('behavior: a link with approval files a request, which an approver approves', async () => {
    const [alice, stranger] = await wallets(2)
    const room = await privateRoom(alice)
    const link = await issued(alice, room, { approval: true })
    expect(await refused(() => stranger.act(room, { type: 'join', link }))).toEqual({
      status: 403,
      code: 'forbidden',
      message: 'This invite link needs approval: ask to join with it.',
    })
    const asked = await stranger.act(room, { type: 'request', link })
    expect(asked).toMatchObject({ status: 200, body: { membership: { status: 'requested' } } })
    expect(await usesOf(alice, room, link.id)).toBe(1)
    await alice.must(room, { type: 'approve', members: [stranger.address] })
    expect((await stranger.room(room)).body.membership.status).toBe('member')
  })

  test('security: a tampered link, a link for another room, an unregistered link are refused', async () => {
    const [alice, stranger] = await wallets(2)
    const [room, otherRoom] = [await privateRoom(alice), await privateRoom(alice)]
    const link = await issued(alice, room, { maxUses: 1 })
    expect(await refused(() => stranger.act(room, { type: 'join', link: { ...link, maxUses: 100 } }))).toMatchObject({
      status: 400,
      code: 'invalid_signature',
    })
    expect(
      await refused(() => stranger.act(room, { type: 'join', link: { ...link, signature: flipChar(link.signature, 5) } })),
    ).toMatchObject({ status: 400, code: 'invalid_signature' })
    const foreign = await issued(alice, otherRoom)
    expect(await refused(() => stranger.act(room, { type: 'join', link: foreign }))).toEqual({
      status: 400,
      code: 'invalid_request',
      message: 'This invite link is for another room.',
    })
    const unregistered = await signLink(alice, room)
    expect(await refused(() => stranger.act(room, { type: 'join', link: unregistered }))).toMatchObject({
      status: 404,
      code: 'link_not_found',
    })
    expect(await usesOf(alice, room, link.id)).toBe(0)
  })

  test('security: an expired or revoked link lets no one in', async () => {
    const [alice, bob, stranger] = await wallets(3)
    const room = await privateRoom(alice, [bob])
    const expiring = await issued(alice, room, { expiresAt: inMinutes(2) })
    clock.advance(3 * 60_000)
    expect(await refused(() => stranger.act(room, { type: 'join', link: expiring }))).toMatchObject({
      status: 410,
      code: 'link_expired',
    })
    const late = await signLink(alice, room, { at: inMinutes(-3), expiresAt: inMinutes(-1) })
    expect(await refused(() => register(alice, room, late))).toMatchObject({ status: 410, code: 'link_expired' })

    const link = await issued(alice, room)
    // Bob (a Member, who holds `invite`) revokes alice's link; again changes nothing.
    const revoked = await revoke(bob, room, link.id)
    expect(revoked).toMatchObject({ status: 200, body: { link: { id: link.id, revoked: true } } })
    expect(await refused(() => revoke(alice, room, link.id))).toMatchObject({ status: 200 })
    expect(await refused(() => stranger.act(room, { type: 'join', link }))).toMatchObject({ status: 410, code: 'link_revoked' })
    expect(await refused(() => revoke(stranger, room, link.id))).toMatchObject({ status: 404, code: 'room_not_found' })
    expect(await refused(() => revoke(alice, room, toBase64Url(crypto.randomBytes(16))))).toMatchObject({
      status: 404,
      code: 'link_not_found',
    })
  })

  test('security: a link of one use lets in one wallet, even when two use it at once', async () => {
    const [alice, first, second, third, fourth] = await wallets(5)
    const room = await privateRoom(alice)
    const link = await issued(alice, room, { maxUses: 1 })
    expect((await first.act(room, { type: 'join', link })).status).toBe(200)
    expect(await refused(() => second.act(room, { type: 'join', link }))).toEqual({
      status: 410,
      code: 'link_used_up',
      message: 'This invite link is used up (1 of 1 uses).',
    })
    const race = await issued(alice, room, { maxUses: 1 })
    const [a, b] = await Promise.all([
      third.act(room, { type: 'join', link: race }),
      fourth.act(room, { type: 'join', link: race }),
    ])
    expect([a.status, b.status].sort()).toEqual([200, 410])
    expect([a, b].find((response) => response.status === 410)?.body.error.code).toBe('link_used_up')
    expect(await usesOf(alice, room, race.id)).toBe(1)
    const members = (await alice.members(room)).map((member) => member.address)
    expect(members.filter((address) => address === third.address || address === fourth.address)).toHaveLength(1)
  })

  test('security: only a member holding invite issues links, and only its issuer registers one', async () => {
    const [alice, bob, quiet, stranger] = await wallets(4)
    const room = await privateRoom(alice, [bob, quiet])
    // Bob signed a link while a Member (who holds invite); then loses invite: his link lets no one in.
    const bobs = await issued(bob, room)
    await alice.must(room, { type: 'define_role', role: 'quiet', permissions: ['send'] })
    await alice.must(room, { type: 'set_role', members: [bob.address, quiet.address], role: 'quiet' })
    expect(await refused(() => stranger.act(room, { type: 'join', link: bobs }))).toEqual({
      status: 403,
      code: 'forbidden',
      message: 'The issuer of this invite link no longer holds the "invite" permission.',
    })
    expect(await refused(async () => register(quiet, room, await signLink(quiet, room)))).toMatchObject({
      status: 403,
      code: 'forbidden',
    })
    expect(await refused(() => list(quiet, room))).toMatchObject({ status: 403, code: 'forbidden' })
    expect(await refused(() => list(stranger, room))).toMatchObject({ status: 404, code: 'room_not_found' })
    // Bob may still revoke his own link.
    expect((await revoke(bob, room, bobs.id)).body.link).toMatchObject({ revoked: true })
    // Alice's link, registered by bob or a stranger: refused.
    const alices = await signLink(alice, room)
    expect(await refused(() => register(bob, room, alices))).toMatchObject({ status: 403, code: 'sender_mismatch' })
    expect(await refused(() => register(stranger, room, alices))).toMatchObject({ status: 403, code: 'sender_mismatch' })
    // Her own link, but for a log head this room does not have, or under another key.
    expect(
      await refused(async () => register(alice, room, await signLink(alice, room, { logHead: bobs.issuerKey }))),
    ).toMatchObject({ status: 400, code: 'invalid_request' })
    expect(
      await refused(async () => register(alice, room, await signLink(alice, room, { issuerKey: bob.bundleCid }))),
    ).toMatchObject({ status: 409, code: 'stale_key' })
    expect(await refused(() => register(alice, room, { ...alices, approval: true }))).toMatchObject({
      status: 400,
      code: 'invalid_signature',
    })
  })

  test('security: a banned wallet cannot use a link; a replayed join changes nothing', async () => {
    const [alice, stranger, other] = await wallets(3)
    const room = await privateRoom(alice)
    const link = await issued(alice, room)
    await alice.must(room, { type: 'ban', members: [other.address], until: null, removeMessages: false })
    expect(await refused(() => other.act(room, { type: 'join', link }))).toMatchObject({ status: 403, code: 'banned' })

    const join = await stranger.signEvent(room, { type: 'join', link })
    expect((await stranger.postEvent(room, join)).status).toBe(200)
    await alice.must(room, { type: 'kick', members: [stranger.address] })
    // The same signed join again is answered with its first entry: the kick stands, no use is counted.
    const replayed = await refused(() => stranger.postEvent(room, join))
    expect(replayed.status).toBe(200)
    expect((await stranger.room(room)).status).toBe(404)
    expect(await usesOf(alice, room, link.id)).toBe(1)
    // Someone else's signed join is not theirs to post.
    expect(await refused(() => other.postEvent(room, join))).toMatchObject({ status: 403, code: 'sender_mismatch' })
  })
})
