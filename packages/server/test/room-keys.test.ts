/**
 * Room keys of private groups (POST/GET /v1/rooms/:room/keys): the server holds no key, but it
 * refuses every rotation it can prove wrong (forged or replayed intent, a page to a non-member or
 * missing a member, a wrap not under the signed root, a page by another key, a stale log head, a
 * room without E2EE, oversized or malformed bodies) and stores nothing when it does; a member
 * fetches only its own wraps, and a non-member none.
 */
import {
  createKeyDistribution,
  createRoomKey,
  GROUP_SUITE,
  type KeyDistribution,
  openKeyDelivery,
  type RotationIntent,
  sealGroupEnvelope,
  signRotationIntent,
  toBase64Url,
  type WrapParty,
} from '@dmtp/protocol'
import { nodeCryptoBackend as crypto } from '@dmtp/protocol/node'
import { afterAll, beforeAll, describe, expect, test } from 'vitest'
import { type GroupWallet, groupWallets, unlimited } from './_rooms.js'
import { DIALECTS, snapshotDb, TestServer } from './_util.js'
import { api, flipChar } from './_wallet.js'

const party = (wallet: GroupWallet): WrapParty => ({
  address: wallet.address,
  keyCid: wallet.bundleCid,
  publicKey: wallet.keys.x25519.publicKey,
})

describe.each(DIALECTS)('room keys (%s)', (dialect) => {
  let server: TestServer
  beforeAll(async () => {
    server = await TestServer.create({ dialect, configure: unlimited })
  })
  afterAll(async () => {
    await server[Symbol.asyncDispose]()
  })

  /** A private room of `owner` with `members` invited and joined, E2EE on. */
  async function encryptedRoom(owner: GroupWallet, members: GroupWallet[]) {
    const room = await owner.createRoom({ type: 'private' })
    for (const member of members) {
      await owner.must(room, { type: 'invite', members: [member.address] })
      await member.must(room, { type: 'join' })
    }
    await owner.must(room, { type: 'e2ee_on', plain: false })
    return room
  }

  /** A rotation by `actor` from `fromEpoch`, its key wrapped to `recipients`, at the room's head. */
  async function rotation(
    actor: GroupWallet,
    room: string,
    { fromEpoch = 0, recipients, members }: { fromEpoch?: number; recipients: GroupWallet[]; members?: string[] },
  ): Promise<{ intent: RotationIntent; pages: KeyDistribution[] }> {
    const { logHead } = (await actor.room(room)).body.room
    const head = { cid: logHead.cid as string, index: logHead.index as number }
    const roomKey = await createRoomKey(crypto, { room, epoch: fromEpoch + 1 })
    const pages = await createKeyDistribution(crypto, {
      roomKey,
      distributor: { ...party(actor), secretKey: actor.keys.x25519.secretKey, signingKey: actor.keys.ed25519.secretKey },
      recipients: recipients.map(party),
      members: new Set(members ?? recipients.map((wallet) => wallet.address)),
      logHead: head,
    })
    const intent = await signRotationIntent(crypto, {
      intent: {
        v: 1,
        room,
        fromEpoch,
        toEpoch: fromEpoch + 1,
        keyId: roomKey.keyId,
        actor: actor.address,
        actorKey: actor.bundleCid,
        logHead: head.cid,
        logIndex: head.index,
        at: new Date().toISOString(),
      },
      signingKey: actor.keys.ed25519.secretKey,
    })
    return { intent, pages }
  }

  const upload = (wallet: GroupWallet, room: string, body: unknown) =>
    api(server.url, 'POST', `/v1/rooms/${room}/keys`, { token: wallet.token, body })

  /** Uploads as `wallet` and checks that it changed nothing in the database. */
  async function refused(wallet: GroupWallet, room: string, body: unknown) {
    const before = await snapshotDb(server)
    const response = await upload(wallet, room, body)
    expect(await snapshotDb(server)).toEqual(before)
    return { status: response.status, code: response.body.error?.code, problem: response.body.error?.details?.problem }
  }

  test('default: a rotation is stored; each member opens its own wrap; a non-member gets nothing', async () => {
    const [alice, bob, carol, outsider] = await groupWallets(server, 4)
    const room = await encryptedRoom(alice, [bob, carol])
    const body = await rotation(alice, room, { recipients: [alice, bob, carol] })
    const response = await upload(alice, room, body)
    expect(response.status).toBe(200)
    expect(response.body.encryption).toEqual({ e2ee: true, plain: false, epoch: 1, keyId: body.intent.keyId, due: null })
    for (const member of [alice, bob, carol]) {
      const keys = await api(server.url, 'GET', `/v1/rooms/${room}/keys`, { token: member.token })
      expect(keys.status).toBe(200)
      expect(keys.body.deliveries).toHaveLength(1)
      const [delivery] = keys.body.deliveries
      expect(delivery.recipient.recipient).toBe(member.address)
      const roomKey = await openKeyDelivery(crypto, {
        delivery,
        distributor: { ed25519: alice.keys.ed25519.publicKey, x25519: alice.keys.x25519.publicKey },
        recipient: { ...party(member), secretKey: member.keys.x25519.secretKey },
        members: new Set([alice.address, bob.address, carol.address]),
        logHead: { cid: body.intent.logHead, index: body.intent.logIndex },
      })
      expect(roomKey.keyId).toBe(body.intent.keyId)
    }
    const peek = await api(server.url, 'GET', `/v1/rooms/${room}/keys`, { token: outsider.token })
    expect(peek).toMatchObject({ status: 404, body: { error: { code: 'room_not_found' } } })
  })

  test('security: a replayed or racing rotation is epoch_conflict; a forged intent or another actor is refused', async () => {
    const [alice, bob] = await groupWallets(server, 2)
    const room = await encryptedRoom(alice, [bob])
    const first = await rotation(alice, room, { recipients: [alice, bob] })
    const racing = await rotation(bob, room, { recipients: [alice, bob] })
    expect((await upload(alice, room, first)).status).toBe(200)
    expect(await refused(alice, room, first)).toMatchObject({ status: 409, code: 'epoch_conflict' })
    expect(await refused(bob, room, racing)).toMatchObject({ status: 409, code: 'epoch_conflict' })

    const next = await rotation(alice, room, { fromEpoch: 1, recipients: [alice, bob] })
    const forged = { ...next, intent: { ...next.intent, signature: flipChar(next.intent.signature, 5) } }
    expect(await refused(alice, room, forged)).toMatchObject({ status: 400, code: 'invalid_signature' })
    expect(await refused(bob, room, next)).toMatchObject({ status: 403, code: 'sender_mismatch' })
    const skipping = await rotation(alice, room, { fromEpoch: 2, recipients: [alice, bob] })
    expect(await refused(alice, room, skipping)).toMatchObject({ status: 409, code: 'epoch_conflict' })
  })

  test('security: pages must wrap to every member with keys, and to members only, under the signed root', async () => {
    const [alice, bob, carol, outsider] = await groupWallets(server, 4)
    const room = await encryptedRoom(alice, [bob, carol])
    const missing = await rotation(alice, room, { recipients: [alice, bob] })
    expect(await refused(alice, room, missing)).toMatchObject({
      status: 400,
      code: 'invalid_key_distribution',
      problem: 'incomplete',
    })

    const withOutsider = await rotation(alice, room, {
      recipients: [alice, bob, carol, outsider],
      members: [alice, bob, carol, outsider].map((wallet) => wallet.address),
    })
    expect(await refused(alice, room, withOutsider)).toMatchObject({ problem: 'recipient_not_member' })

    const good = await rotation(alice, room, { recipients: [alice, bob, carol] })
    const [page] = good.pages as [KeyDistribution]
    const tampered = [
      { ...page, recipients: page.recipients.map((wrap, i) => (i === 1 ? { ...wrap, wrap: flipChar(wrap.wrap, 3) } : wrap)) },
    ]
    expect(await refused(alice, room, { ...good, pages: tampered })).toMatchObject({ problem: 'root' })
    const resigned = [{ ...page, signature: flipChar(page.signature, 7) }]
    expect(await refused(alice, room, { ...good, pages: resigned })).toMatchObject({ problem: 'signature' })
    const otherKey = [{ ...page, keyId: good.intent.keyId.replace(/^./, (c) => (c === 'A' ? 'B' : 'A')) }]
    expect(await refused(alice, room, { ...good, pages: otherKey })).toMatchObject({ problem: 'intent' })
  })

  test('security: a stale log head, a room without E2EE, a stolen intent, oversized and malformed bodies are refused', async () => {
    const [alice, bob, carol, outsider] = await groupWallets(server, 4)
    const room = await encryptedRoom(alice, [bob])
    const stale = await rotation(alice, room, { recipients: [alice, bob] })
    await alice.must(room, { type: 'invite', members: [carol.address] })
    expect(await refused(alice, room, stale)).toMatchObject({ status: 409, code: 'log_head_moved' })
    // Someone else's intent, replayed by another wallet.
    expect(await refused(outsider, room, stale)).toMatchObject({ status: 403, code: 'sender_mismatch' })

    const plainRoom = await alice.createRoom({ type: 'private' })
    const off = await rotation(alice, plainRoom, { recipients: [alice] })
    expect(await refused(alice, plainRoom, off)).toMatchObject({ status: 409, code: 'e2ee_off' })
    const publicRoom = await alice.createRoom({ type: 'public' })
    expect(await refused(alice, publicRoom, await rotation(alice, publicRoom, { recipients: [alice] }))).toMatchObject({
      status: 400,
      code: 'invalid_request',
    })

    const fresh = await rotation(alice, room, { recipients: [alice, bob] })
    const tooMany = { ...fresh, pages: Array.from({ length: 33 }, () => fresh.pages[0]) }
    expect(await refused(alice, room, tooMany)).toMatchObject({ status: 400, code: 'validation_failed' })
    expect(await refused(alice, room, { ...fresh, extra: true })).toMatchObject({ status: 400, code: 'validation_failed' })
    expect(await refused(alice, room, { intent: fresh.intent, pages: [] })).toMatchObject({ code: 'validation_failed' })
    const huge = await api(server.url, 'POST', `/v1/rooms/${room}/keys`, {
      token: alice.token,
      rawBody: JSON.stringify({ ...fresh, pad: 'x'.repeat(9 * 1024 * 1024) }),
    })
    expect(huge).toMatchObject({ status: 413, body: { error: { code: 'body_too_large' } } })
  })

  test('security: an encrypted message in a room whose E2EE is off is e2ee_off; plaintext in one with it on is e2ee_required', async () => {
    const [alice, bob] = await groupWallets(server, 2)
    const room = await encryptedRoom(alice, [bob])
    expect(await alice.say(room, 'in the clear')).toMatchObject({ status: 400, body: { error: { code: 'e2ee_required' } } })
    const plainRoom = await alice.createRoom({ type: 'private' })
    const { logHead } = (await alice.room(plainRoom)).body.room
    const envelope = await sealGroupEnvelope(crypto, {
      header: {
        v: 1,
        suite: GROUP_SUITE,
        id: toBase64Url(crypto.randomBytes(16)),
        room: plainRoom,
        epoch: 1,
        sender: alice.address,
        senderKey: alice.bundleCid,
        timestamp: new Date().toISOString(),
        logHead: logHead.cid,
      },
      content: { type: 'text', text: 'sealed' },
      roomKey: await createRoomKey(crypto, { room: plainRoom, epoch: 1 }),
      signingKey: alice.keys.ed25519.secretKey,
    })
    const before = await snapshotDb(server)
    expect(await alice.post(envelope)).toMatchObject({ status: 409, body: { error: { code: 'e2ee_off' } } })
    expect(await snapshotDb(server)).toEqual(before)
  })
})
