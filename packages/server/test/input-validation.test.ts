/**
 * Bad input of every shape (not JSON, wrong types, unknown fields, too big, wrong media type, bad
 * params and queries, unknown routes) gets a clear 4xx with a stable code and a message that
 * names the problem, and changes nothing. A 5xx never repeats internal details.
 */
import { afterAll, beforeAll, describe, expect, test } from 'vitest'
import { DIALECTS, snapshotDb, TestServer, waitFor } from './_util.js'
import { api, TestWallet } from './_wallet.js'

describe.each(DIALECTS)('input validation (%s)', (dialect) => {
  let server: TestServer
  let alice: TestWallet
  let bob: TestWallet
  let room: string
  let before: Awaited<ReturnType<typeof snapshotDb>>
  beforeAll(async () => {
    server = await TestServer.create({ dialect })
    alice = await new TestWallet(server.url).setup()
    bob = await new TestWallet(server.url).setup()
    room = await alice.openRoom(bob.address)
    expect((await alice.send(bob, 'hello', { room })).status).toBe(200)
    before = await snapshotDb(server)
  })
  afterAll(async () => {
    // Every test in this group sends only bad input: none of it may have changed anything.
    expect(await snapshotDb(server)).toEqual(before)
    await server[Symbol.asyncDispose]()
  })

  test('default: a well-formed request is accepted', async () => {
    const history = await api(server.url, 'GET', `/v1/rooms/${room}/messages?limit=10&order=desc`, { token: alice.token })
    expect(history).toMatchObject({ status: 200, body: { messages: [{ seq: 1 }], nextCursor: null } })
  })

  test('behavior: a body that is not JSON is refused', async () => {
    for (const rawBody of ['{"peer":', '', '{"peer":"0x1"}}', '{"__proto__":{"admin":true}}']) {
      const response = await api(server.url, 'POST', '/v1/rooms', { token: alice.token, rawBody })
      expect(response.status).toBe(400)
      expect(response.body).toMatchInlineSnapshot(`
        {
          "error": {
            "code": "invalid_json",
            "message": "The request body is not valid JSON.",
          },
        }
      `)
    }
    const signIn = await api(server.url, 'POST', '/v1/auth/verify', { rawBody: 'not json' })
    expect({ status: signIn.status, code: signIn.body.error.code }).toEqual({ status: 400, code: 'invalid_json' })
  })

  test('behavior: a field of the wrong type is refused, naming the field', async () => {
    const wrongType = await api(server.url, 'POST', '/v1/auth/verify', { body: { message: 5, signature: '0x00' } })
    expect(wrongType.status).toBe(400)
    expect(wrongType.body).toMatchInlineSnapshot(`
      {
        "error": {
          "code": "validation_failed",
          "message": "Invalid request: body.message: Invalid input: expected string, received number",
        },
      }
    `)
    const envelope = await alice.seal(bob, 'hello', { room })
    const nested = await alice.post({ ...envelope, timestamp: Date.now() })
    expect(nested.status).toBe(400)
    expect(nested.body).toMatchInlineSnapshot(`
      {
        "error": {
          "code": "validation_failed",
          "message": "Invalid request: body.envelope.timestamp: Invalid input: expected string, received number",
        },
      }
    `)
    // The body is `{ envelope }`: the bare envelope, or anything else in its place, is refused.
    for (const body of [envelope, [envelope], null, 'envelope', { envelope: [envelope] }, { envelope: null }]) {
      const response = await api(server.url, 'POST', '/v1/messages', { token: alice.token, body })
      expect({ status: response.status, code: response.body.error.code }).toEqual({ status: 400, code: 'validation_failed' })
    }
  })

  test('behavior: an unknown field is refused, naming it', async () => {
    const envelope = await alice.seal(bob, 'hello', { room })
    const top = await api(server.url, 'POST', '/v1/messages', { token: alice.token, body: { envelope, e2ee: false } })
    expect(top.status).toBe(400)
    expect(top.body).toMatchInlineSnapshot(`
      {
        "error": {
          "code": "validation_failed",
          "message": "Invalid request: body: Unrecognized key: "e2ee"",
        },
      }
    `)
    const inEnvelope = await alice.post({ ...envelope, e2ee: false })
    expect(inEnvelope.status).toBe(400)
    expect(inEnvelope.body).toMatchInlineSnapshot(`
      {
        "error": {
          "code": "validation_failed",
          "message": "Invalid request: body.envelope: Unrecognized key: "e2ee"",
        },
      }
    `)
    const { bundle } = await alice.makeBundle()
    const inner = await alice.putBundle({ ...bundle, DMTPpubKey: { ...bundle.DMTPpubKey, rsa: 'AAAA' } } as typeof bundle)
    expect(inner.status).toBe(400)
    expect(inner.body).toMatchInlineSnapshot(`
      {
        "error": {
          "code": "validation_failed",
          "message": "Invalid request: body.DMTPpubKey: Unrecognized key: "rsa"",
        },
      }
    `)
    const query = await api(server.url, 'GET', '/v1/inbox?admin=1', { token: alice.token })
    expect(query.status).toBe(400)
    expect(query.body).toMatchInlineSnapshot(`
      {
        "error": {
          "code": "validation_failed",
          "message": "Invalid request: querystring: Unrecognized key: "admin"",
        },
      }
    `)
  })

  test('behavior: a body over 128 KiB is refused', async () => {
    const rawBody = JSON.stringify({ message: 'x'.repeat(130 * 1024), signature: '0x00' })
    const anonymous = await api(server.url, 'POST', '/v1/auth/verify', { rawBody })
    expect(anonymous.status).toBe(413)
    expect(anonymous.body).toMatchInlineSnapshot(`
      {
        "error": {
          "code": "body_too_large",
          "message": "The request body is too large.",
        },
      }
    `)
    const envelope = await alice.seal(bob, 'hello', { room })
    const signedIn = await alice.post({ ...envelope, messages: 'A'.repeat(130 * 1024) })
    expect({ status: signedIn.status, code: signedIn.body.error.code }).toEqual({ status: 413, code: 'body_too_large' })
  })

  test('behavior: a body that is not JSON by media type is refused', async () => {
    for (const contentType of ['text/plain', 'application/x-www-form-urlencoded', 'multipart/form-data; boundary=x']) {
      const response = await api(server.url, 'POST', '/v1/auth/verify', {
        rawBody: 'message=hello',
        headers: { 'content-type': contentType },
      })
      expect({ contentType, status: response.status, body: response.body }).toEqual({
        contentType,
        status: 415,
        body: { error: { code: 'unsupported_media_type', message: 'Send JSON (application/json).' } },
      })
    }
  })

  test('behavior: a bad address, room or CID in the path is refused', async () => {
    const notAddress = await api(server.url, 'GET', '/v1/keys/0xnot')
    expect(notAddress.status).toBe(400)
    expect(notAddress.body).toMatchInlineSnapshot(`
      {
        "error": {
          "code": "validation_failed",
          "message": "Invalid request: params.address: expected a 0x-prefixed 20-byte hex address",
        },
      }
    `)
    // The EIP-55 example 0x52908400098527886E0F7030069857D2E4169EE7 with one letter's case flipped.
    const checksum = await api(server.url, 'GET', '/v1/keys/0x52908400098527886e0F7030069857D2E4169EE7')
    expect(checksum.status).toBe(400)
    expect(checksum.body).toMatchInlineSnapshot(`
      {
        "error": {
          "code": "validation_failed",
          "message": "Invalid request: params.address: the address has a wrong EIP-55 checksum",
        },
      }
    `)
    const injection = await api(server.url, 'GET', `/v1/rooms/${encodeURIComponent("' OR 1=1 --")}/messages`, {
      token: alice.token,
    })
    expect(injection.status).toBe(400)
    expect(injection.body).toMatchInlineSnapshot(`
      {
        "error": {
          "code": "validation_failed",
          "message": "Invalid request: params.room: expected 16 bytes as base64url (22 characters); params.room: expected base64url without padding; params.room: expected canonical base64url",
        },
      }
    `)
    const cid = await api(server.url, 'GET', '/v1/key-bundles/not-a-cid')
    expect({ status: cid.status, code: cid.body.error.code }).toEqual({ status: 400, code: 'validation_failed' })
    const peer = await api(server.url, 'POST', '/v1/rooms', { token: alice.token, body: { peer: "0x' OR '1'='1" } })
    expect({ status: peer.status, code: peer.body.error.code }).toEqual({ status: 400, code: 'validation_failed' })
  })

  test('behavior: a bad cursor or limit in the query is refused', async () => {
    const limit = await api(server.url, 'GET', '/v1/inbox?limit=100000', { token: alice.token })
    expect(limit.status).toBe(400)
    expect(limit.body).toMatchInlineSnapshot(`
      {
        "error": {
          "code": "validation_failed",
          "message": "Invalid request: querystring.limit: Too big: expected number to be <=1000",
        },
      }
    `)
    for (const query of ['after=-1', 'after=abc', 'limit=0', 'after=1.5']) {
      const response = await api(server.url, 'GET', `/v1/inbox?${query}`, { token: alice.token })
      expect({ query, status: response.status, code: response.body.error.code }).toEqual({
        query,
        status: 400,
        code: 'validation_failed',
      })
    }
    const order = await api(server.url, 'GET', `/v1/rooms/${room}/messages?order=sideways`, { token: alice.token })
    expect({ status: order.status, code: order.body.error.code }).toEqual({ status: 400, code: 'validation_failed' })
  })

  test('behavior: a cursor past the 32-bit range is refused, and the largest one is an empty page', async () => {
    for (const cursor of [2 ** 31, Number.MAX_SAFE_INTEGER]) {
      const inbox = await api(server.url, 'GET', `/v1/inbox?after=${cursor}`, { token: alice.token })
      expect({ status: inbox.status, code: inbox.body.error.code }).toEqual({ status: 400, code: 'validation_failed' })
      const history = await api(server.url, 'GET', `/v1/rooms/${room}/messages?cursor=${cursor}`, { token: alice.token })
      expect({ status: history.status, code: history.body.error.code }).toEqual({ status: 400, code: 'validation_failed' })
      const ack = await api(server.url, 'POST', '/v1/inbox/ack', { token: alice.token, body: { cursor } })
      expect({ status: ack.status, code: ack.body.error.code }).toEqual({ status: 400, code: 'validation_failed' })
    }
    const largest = 2 ** 31 - 1
    // `latest` is the stream position of the one message (a server-wide position, read from its row).
    const { pos } = await server.ctx.database.db
      .selectFrom('messages')
      .select('pos')
      .where('room_id', '=', room)
      .executeTakeFirstOrThrow()
    expect(await api(server.url, 'GET', `/v1/inbox?after=${largest}`, { token: alice.token })).toMatchObject({
      status: 200,
      body: { entries: [], latest: pos },
    })
    expect(await api(server.url, 'GET', `/v1/rooms/${room}/messages?cursor=${largest}`, { token: alice.token })).toMatchObject({
      status: 200,
      body: { messages: [], nextCursor: null },
    })
  })

  test("behavior: a long path parameter gets the same error shape, not the framework's", async () => {
    const response = await api(server.url, 'GET', `/ipfs/b${'a'.repeat(150)}`)
    expect({ status: response.status, code: response.body.error.code }).toEqual({ status: 400, code: 'invalid_request' })
  })

  test('behavior: an unknown route or method is not found', async () => {
    const route = await api(server.url, 'GET', '/v1/nope?x=1')
    expect(route.status).toBe(404)
    expect(route.body).toMatchInlineSnapshot(`
      {
        "error": {
          "code": "not_found",
          "message": "No route GET /v1/nope",
        },
      }
    `)
    const method = await api(server.url, 'DELETE', '/v1/keys', { token: alice.token })
    expect({ status: method.status, code: method.body.error.code }).toEqual({ status: 404, code: 'not_found' })
  })
})

describe.each(DIALECTS)('internal errors (%s)', (dialect) => {
  test('behavior: a 500 says nothing about the internals, and is logged', async () => {
    await using server = await TestServer.create({ dialect })
    const alice = await new TestWallet(server.url).signIn()
    await server.ctx.database.db.schema.dropTable('room_members').execute()
    const response = await api(server.url, 'GET', '/v1/rooms', { token: alice.token })
    expect(response.status).toBe(500)
    expect(response.text).toMatchInlineSnapshot(`"{"error":{"code":"internal_error","message":"Internal server error."}}"`)
    const line = await waitFor(() => server.logs.find((entry) => entry.includes('request failed')))
    expect(line).toMatch(/room_members/)
  })
})
