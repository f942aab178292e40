/**
 * Sending (POST /v1/messages): the server cannot read a message, but it refuses every envelope
 * it can prove wrong (forged or altered signature, someone else's name, a room that is not the
 * sender's, stale keys, a far-off clock, a reused id) and stores nothing when it does.
 */
import { generateDmtpKeys, type P2PEnvelope } from '@dmtp/protocol'
import { nodeCryptoBackend as crypto } from '@dmtp/protocol/node'
import { afterAll, beforeAll, describe, expect, test } from 'vitest'
import { attack } from '../../sdk/test/hostile/attack.js'
import { DIALECTS, rowCounts, snapshotDb, TestServer } from './_util.js'
import { api, flipChar, TestWallet } from './_wallet.js'

describe.each(DIALECTS)('messages security (%s)', (dialect) => {
  let server: TestServer
  beforeAll(async () => {
    server = await TestServer.create({
      dialect,
      configure: (c) => {
        c.limits.requestsPerMinute = 100_000
      },
    })
  })
  afterAll(async () => {
    await server[Symbol.asyncDispose]()
  })

  async function pair() {
    const alice = await new TestWallet(server.url).setup()
    const bob = await new TestWallet(server.url).setup()
    return { alice, bob, room: await alice.openRoom(bob.address) }
  }

  /** POSTs an envelope as `wallet` and checks that it changed nothing in the database. */
  async function refused(wallet: TestWallet, envelope: unknown) {
    const before = await snapshotDb(server)
    const response = await wallet.post(envelope)
    expect(await snapshotDb(server)).toEqual(before)
    return response
  }

  test('default: a sealed message is stored and reaches the receiver', async () => {
    const { alice, bob, room } = await pair()
    const before = await rowCounts(server, ['messages', 'room_members', 'cids'])
    const envelope = await alice.seal(bob, 'hello', { room })
    const response = await alice.post(envelope)
    expect(response.status).toBe(200)
    expect(response.body).toEqual({
      id: envelope.id,
      room,
      cid: expect.any(String),
      seq: 1,
      receivedAt: expect.any(String),
      e2ee: true,
      receipt: expect.objectContaining({ key: server.ctx.serverKey.get().cid }),
    })
    // Stored once for the room (no row per member), at one stream position.
    expect(await rowCounts(server, ['messages', 'room_members', 'cids'])).toEqual({
      messages: before.messages + 1,
      room_members: before.room_members,
      cids: before.cids + 1,
    })
    const db = server.ctx.database.db
    const row = await db
      .selectFrom('messages')
      .select(['room_id', 'seq', 'pos', 'kind', 'sender', 'receiver', 'cid', 'e2ee'])
      .where('id', '=', envelope.id)
      .executeTakeFirstOrThrow()
    expect(row).toEqual({
      room_id: room,
      seq: 1,
      pos: expect.any(Number),
      kind: 'envelope',
      sender: alice.address,
      receiver: bob.address,
      cid: response.body.cid,
      e2ee: 1,
    })
    const roomRow = await db.selectFrom('rooms').select(['seq', 'last_pos']).where('id', '=', room).executeTakeFirstOrThrow()
    expect(roomRow).toEqual({ seq: 1, last_pos: row.pos })
    const inbox = await api(server.url, 'GET', '/v1/inbox', { token: bob.token })
    expect(inbox.body).toEqual({
      entries: [{ cursor: row.pos, message: expect.objectContaining({ envelope }) }],
      latest: row.pos,
    })
  })

  // Any field edited after signing: refused with invalid_signature, and nothing is stored.
  attack('an envelope edited on the way to the server', 'at once', async () => {
    const { alice, bob, room } = await pair()
    const envelope = await alice.seal(bob, 'hello', { room })
    const altered: Record<string, P2PEnvelope> = {
      messages: { ...envelope, messages: flipChar(envelope.messages) },
      nonce: { ...envelope, nonce: flipChar(envelope.nonce) },
      id: { ...envelope, id: flipChar(envelope.id) },
      timestamp: { ...envelope, timestamp: new Date(Date.parse(envelope.timestamp) + 1).toISOString() },
      signature: { ...envelope, signature: flipChar(envelope.signature) },
    }
    for (const [what, forged] of Object.entries(altered)) {
      const response = await refused(alice, forged)
      expect({ what, status: response.status, body: response.body }).toEqual({
        what,
        status: 400,
        body: {
          error: { code: 'invalid_signature', message: "The envelope signature does not verify with the sender's key." },
        },
      })
    }
    expect((await alice.post(envelope)).status).toBe(200)
  })

  test("behavior: an envelope signed with a key that is not the sender's is refused", async () => {
    const { alice, bob, room } = await pair()
    const stranger = await generateDmtpKeys(crypto)
    for (const signingKey of [stranger.ed25519.secretKey, bob.keys.ed25519.secretKey]) {
      const response = await refused(alice, await alice.seal(bob, 'hello', { room }, { signingKey }))
      expect(response.status).toBe(400)
      expect(response.body).toMatchInlineSnapshot(`
        {
          "error": {
            "code": "invalid_signature",
            "message": "The envelope signature does not verify with the sender's key.",
          },
        }
      `)
    }
  })

  test('behavior: an envelope naming another sender than the signed-in wallet is refused', async () => {
    const { alice, bob, room } = await pair()
    const fromBob = await bob.seal(alice, 'really from bob', { room })
    const response = await refused(alice, fromBob)
    expect(response.status).toBe(403)
    expect(response.body).toMatchInlineSnapshot(`
      {
        "error": {
          "code": "sender_mismatch",
          "message": "The envelope names another sender than the signed-in wallet.",
        },
      }
    `)
    const claimed = await refused(alice, await alice.seal(bob, 'hello', { room, sender: bob.address }))
    expect({ status: claimed.status, code: claimed.body.error.code }).toEqual({ status: 403, code: 'sender_mismatch' })
  })

  test('behavior: a receiver outside the room, or a room that is not the sender’s, is not found', async () => {
    const { alice, bob, room } = await pair()
    const carol = await new TestWallet(server.url).setup()
    const toCarol = await refused(alice, await alice.seal(carol, 'hello', { room }))
    expect(toCarol.status).toBe(404)
    expect(toCarol.body).toMatchInlineSnapshot(`
      {
        "error": {
          "code": "room_not_found",
          "message": "The receiver is not the other member of this conversation.",
        },
      }
    `)

    const bobAndCarol = await bob.openRoom(carol.address)
    const notMine = await refused(alice, await alice.seal(bob, 'hello', { room: bobAndCarol }))
    const unknown = await refused(alice, await alice.seal(bob, 'hello', { room: 'AAAAAAAAAAAAAAAAAAAAAA' }))
    expect({ status: unknown.status, body: unknown.body }).toMatchInlineSnapshot(`
      {
        "body": {
          "error": {
            "code": "room_not_found",
            "message": "No such room.",
          },
        },
        "status": 404,
      }
    `)
    // A room of others and a room that does not exist look the same: room ids cannot be probed.
    expect({ status: notMine.status, body: notMine.body }).toEqual({ status: unknown.status, body: unknown.body })
  })

  test('behavior: a receiver who never set up keys cannot get an end-to-end message', async () => {
    const { alice } = await pair()
    const dave = new TestWallet(server.url)
    dave.keys = await generateDmtpKeys(crypto)
    dave.bundleCid = alice.bundleCid
    const room = await alice.openRoom(dave.address)
    const response = await refused(alice, await alice.seal(dave, 'hello', { room }))
    expect(response.status).toBe(409)
    expect(response.body.error).toEqual({
      code: 'recipient_not_registered',
      message: `${dave.address} has not set up DMTP yet, so no end-to-end encrypted message can reach it.`,
    })
  })

  test('behavior: an envelope naming a replaced sender or receiver key is stale', async () => {
    const { alice, bob, room } = await pair()
    const sealedBeforeRotation = await alice.seal(bob, 'hello', { room })
    await alice.setup({ issuedAt: new Date(Date.parse(alice.bundle.issuedAt) + 1_000) })
    const sender = await refused(alice, sealedBeforeRotation)
    expect(sender.status).toBe(409)
    expect(sender.body).toMatchInlineSnapshot(`
      {
        "error": {
          "code": "stale_key",
          "message": "senderKey is not your current key bundle; fetch it and retry.",
        },
      }
    `)

    const oldBob = { keys: bob.keys, cid: bob.bundleCid }
    await bob.setup({ issuedAt: new Date(Date.parse(bob.bundle.issuedAt) + 1_000) })
    const receiver = await refused(alice, await alice.seal(bob, 'hello', { room, receiverKey: oldBob.cid }))
    expect(receiver.status).toBe(409)
    expect(receiver.body).toMatchInlineSnapshot(`
      {
        "error": {
          "code": "stale_key",
          "message": "receiverKey is not the receiver's current key bundle; fetch it and retry.",
        },
      }
    `)
    expect((await alice.send(bob, 'with current keys', { room })).status).toBe(200)
  })

  test('behavior: a timestamp an hour off the server clock is refused', async () => {
    const { alice, bob, room } = await pair()
    for (const offset of [3_600_000, -3_600_000]) {
      const timestamp = new Date(Date.now() + offset).toISOString()
      const response = await refused(alice, await alice.seal(bob, 'hello', { room, timestamp }))
      expect(response.status).toBe(400)
      expect(response.body).toMatchInlineSnapshot(`
        {
          "error": {
            "code": "clock_skew",
            "message": "The message timestamp is too far from the server time; check your clock.",
          },
        }
      `)
    }
  })

  test('behavior: resending the same envelope is idempotent', async () => {
    const { alice, bob, room } = await pair()
    const envelope = await alice.seal(bob, 'hello', { room })
    const first = await alice.post(envelope)
    expect(first.status).toBe(200)
    const before = await snapshotDb(server)
    const again = await alice.post(envelope)
    expect(again).toMatchObject({ status: 200, body: first.body })
    expect(await snapshotDb(server)).toEqual(before)
  })

  test('behavior: a retry of a stored message answers as the first time, even after a key rotation', async () => {
    const { alice, bob, room } = await pair()
    const envelope = await alice.seal(bob, 'did this arrive?', { room })
    const first = await api(server.url, 'POST', '/v1/messages', { token: alice.token, body: { envelope } })
    expect(first.status).toBe(200)
    await bob.setup({ issuedAt: new Date(Date.parse(bob.bundle.issuedAt) + 1_000) })
    const retry = await api(server.url, 'POST', '/v1/messages', { token: alice.token, body: { envelope } })
    expect({ status: retry.status, body: retry.body }).toEqual({ status: 200, body: first.body })
    // A new message with the same stale key is still refused.
    const fresh = await api(server.url, 'POST', '/v1/messages', {
      token: alice.token,
      body: { envelope: { ...(await alice.seal(bob, 'new one', { room })), receiverKey: envelope.receiverKey } },
    })
    expect(fresh.status).toBe(409)
  })

  test('behavior: the same envelope sent twice at once is stored once', async () => {
    const { alice, bob, room } = await pair()
    const envelope = await alice.seal(bob, 'hello', { room })
    const [one, two] = await Promise.all([alice.post(envelope), alice.post(envelope)])
    expect(one).toMatchObject({ status: 200, body: { seq: 1 } })
    expect(two).toMatchObject({ status: 200, body: one.body })
    const history = await api(server.url, 'GET', `/v1/rooms/${room}/messages`, { token: bob.token })
    expect(history.body.messages.map((m: any) => m.envelope.id)).toEqual([envelope.id])
  })

  test('behavior: another message with a used id is a conflict', async () => {
    const { alice, bob, room } = await pair()
    const first = await alice.seal(bob, 'first', { room })
    expect((await alice.post(first)).status).toBe(200)
    const response = await refused(alice, await alice.seal(bob, 'second', { room, id: first.id }))
    expect(response.status).toBe(409)
    expect(response.body).toMatchInlineSnapshot(`
      {
        "error": {
          "code": "message_id_conflict",
          "message": "A different message or event with this id already exists.",
        },
      }
    `)

    // The same race inside one write batch: one wins, the other is told so.
    const a = await alice.seal(bob, 'a', { room })
    const b = await alice.seal(bob, 'b', { room, id: a.id })
    const results = await Promise.all([alice.post(a), alice.post(b)])
    expect(results.map((r) => r.status).sort()).toEqual([200, 409])
    const history = await api(server.url, 'GET', `/v1/rooms/${room}/messages`, { token: bob.token })
    expect(history.body.messages.map((m: any) => m.seq)).toEqual([1, 2])
  })

  test('behavior: a wallet outside a room can neither read it nor move its read marker', async () => {
    const { alice, bob, room } = await pair()
    expect((await alice.send(bob, 'private', { room })).status).toBe(200)
    const mallory = await new TestWallet(server.url).signIn()
    const before = await snapshotDb(server)
    const unknown = 'AAAAAAAAAAAAAAAAAAAAAA'
    const ask = (id: string) =>
      Promise.all([
        api(server.url, 'GET', `/v1/rooms/${id}/messages`, { token: mallory.token }),
        api(server.url, 'POST', `/v1/rooms/${id}/read`, { token: mallory.token, body: { seq: 1 } }),
      ])
    const [history, read] = await ask(room)
    const [unknownHistory, unknownRead] = await ask(unknown)
    for (const [response, ofUnknown] of [
      [history, unknownHistory],
      [read, unknownRead],
    ] as const) {
      // The answer for a room of others is the answer for a room that does not exist.
      expect({ status: response.status, body: response.body }).toEqual({
        status: 404,
        body: { error: { code: 'room_not_found', message: 'No such room.' } },
      })
      expect({ status: response.status, body: response.body }).toEqual({ status: ofUnknown.status, body: ofUnknown.body })
    }
    expect(await snapshotDb(server)).toEqual(before)
    const inbox = await api(server.url, 'GET', '/v1/inbox', { token: mallory.token })
    expect(inbox.body).toEqual({ entries: [], latest: 0 })
  })

  test('behavior: a message to yourself is refused', async () => {
    const { alice, room } = await pair()
    const before = await snapshotDb(server)
    const open = await api(server.url, 'POST', '/v1/rooms', { token: alice.token, body: { peer: alice.address.toLowerCase() } })
    expect({ status: open.status, code: open.body.error.code }).toEqual({ status: 400, code: 'invalid_request' })
    expect(await snapshotDb(server)).toEqual(before)
    const response = await refused(alice, await alice.seal(alice, 'note to self', { room }))
    expect(response.status).toBe(400)
    expect(response.body).toMatchInlineSnapshot(`
      {
        "error": {
          "code": "invalid_envelope",
          "message": "A message cannot be sent to its own sender.",
        },
      }
    `)
  })
})
