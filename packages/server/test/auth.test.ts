/**
 * Sign-in (EIP-4361) and session tokens: every way to get or use a session without the right to
 * one is refused with a stable code, and a refused attempt leaves the database as it was.
 */
import { afterAll, beforeAll, describe, expect, test } from 'vitest'
import { DIALECTS, snapshotDb, TestClock, TestServer } from './_util.js'
import { api, TestWallet } from './_wallet.js'

const AUTHED_ROUTES = [
  ['POST', '/v1/auth/revoke'],
  ['PUT', '/v1/keys'],
  ['POST', '/v1/rooms'],
  ['GET', '/v1/rooms'],
  ['GET', '/v1/rooms/search'],
  ['GET', '/v1/rooms/AAAAAAAAAAAAAAAAAAAAAA'],
  ['POST', '/v1/rooms/AAAAAAAAAAAAAAAAAAAAAA/events'],
  ['GET', '/v1/rooms/AAAAAAAAAAAAAAAAAAAAAA/log'],
  ['GET', '/v1/rooms/AAAAAAAAAAAAAAAAAAAAAA/members'],
  ['GET', '/v1/rooms/AAAAAAAAAAAAAAAAAAAAAA/messages'],
  ['POST', '/v1/rooms/AAAAAAAAAAAAAAAAAAAAAA/read'],
  ['POST', '/v1/messages'],
  ['GET', '/v1/inbox'],
  ['POST', '/v1/inbox/ack'],
] as const

describe.each(DIALECTS)('auth (%s)', (dialect) => {
  let server: TestServer
  beforeAll(async () => {
    server = await TestServer.create({ dialect })
  })
  afterAll(async () => {
    await server[Symbol.asyncDispose]()
  })

  const verify = (message: string, signature: string) =>
    api(server.url, 'POST', '/v1/auth/verify', { body: { message, signature } })

  /** Sends a sign-in attempt and checks that it changed nothing in the database. */
  async function refused(message: string, signature: string) {
    const before = await snapshotDb(server)
    const response = await verify(message, signature)
    expect(await snapshotDb(server)).toEqual(before)
    return response
  }

  test('default: a signed message for a fresh nonce gives a working token', async () => {
    const alice = new TestWallet(server.url)
    const message = await alice.signInMessage()
    const response = await verify(message, await alice.signMessage(message))
    expect(response.status).toBe(200)
    expect(response.body).toEqual({
      token: expect.stringMatching(/^dmtp_/),
      address: alice.address,
      expiresAt: expect.any(String),
    })
    const rooms = await api(server.url, 'GET', '/v1/rooms', { token: response.body.token })
    expect(rooms).toMatchObject({ status: 200, body: { rooms: [] } })
  })

  test('behavior: a replayed message and signature (same nonce) is refused', async () => {
    const alice = new TestWallet(server.url)
    const message = await alice.signInMessage()
    const signature = await alice.signMessage(message)
    expect((await verify(message, signature)).status).toBe(200)
    const replay = await refused(message, signature)
    expect(replay.status).toBe(401)
    expect(replay.body).toMatchInlineSnapshot(`
      {
        "error": {
          "code": "nonce_invalid",
          "message": "The sign-in nonce is unknown, expired or already used.",
        },
      }
    `)
  })

  test('behavior: a nonce the server never issued is refused', async () => {
    const alice = new TestWallet(server.url)
    const message = await alice.signInMessage({ nonce: 'n0tIssuedByTheServer' })
    const response = await refused(message, await alice.signMessage(message))
    expect(response.status).toBe(401)
    expect(response.body.error.code).toBe('nonce_invalid')
  })

  test('behavior: a message for another domain is refused', async () => {
    const alice = new TestWallet(server.url)
    const message = await alice.signInMessage({ domain: 'evil.example', uri: 'https://evil.example' })
    const response = await refused(message, await alice.signMessage(message))
    expect(response.status).toBe(401)
    expect(response.body).toEqual({
      error: {
        code: 'siwe_domain_mismatch',
        message: `Sign-in rejected: the message was made for another domain. Sign in to ${new URL(server.url).host}.`,
      },
    })
  })

  test('behavior: a signature by another wallet is refused', async () => {
    const alice = new TestWallet(server.url)
    const mallory = new TestWallet(server.url)
    const message = await alice.signInMessage()
    const response = await refused(message, await mallory.signMessage(message))
    expect(response.status).toBe(400)
    expect(response.body).toMatchInlineSnapshot(`
      {
        "error": {
          "code": "invalid_signature",
          "message": "Sign-in rejected: the signature is not from the address in the message.",
        },
      }
    `)
  })

  test('behavior: a malformed message is refused', async () => {
    const alice = new TestWallet(server.url)
    const message = (await alice.signInMessage()).replace('Version: 1', 'Version: one')
    const response = await refused(message, await alice.signMessage(message))
    expect(response.status).toBe(400)
    expect(response.body).toMatchInlineSnapshot(`
      {
        "error": {
          "code": "invalid_siwe_message",
          "message": "Sign-in rejected: the message is not a valid EIP-4361 message.",
        },
      }
    `)
    const garbage = await refused('hello', await alice.signMessage('hello'))
    expect(garbage.status).toBe(400)
    expect(garbage.body.error.code).toBe('invalid_siwe_message')
  })

  test('behavior: a message past its Expiration Time, or before its Not Before, is refused', async () => {
    const alice = new TestWallet(server.url)
    const expired = await alice.signInMessage({ expirationTime: new Date(Date.now() - 60_000).toISOString() })
    const response = await refused(expired, await alice.signMessage(expired))
    expect(response.status).toBe(401)
    expect(response.body).toMatchInlineSnapshot(`
      {
        "error": {
          "code": "siwe_expired",
          "message": "Sign-in rejected: the message has expired.",
        },
      }
    `)
    const early = await alice.signInMessage({ notBefore: new Date(Date.now() + 3_600_000).toISOString() })
    const notYet = await refused(early, await alice.signMessage(early))
    expect(notYet.status).toBe(401)
    expect(notYet.body.error.code).toBe('siwe_not_yet_valid')
  })

  test('behavior: a message for another chain is refused', async () => {
    const alice = new TestWallet(server.url)
    const message = await alice.signInMessage({ chainId: 1 })
    const response = await refused(message, await alice.signMessage(message))
    expect(response.status).toBe(401)
    expect(response.body).toMatchInlineSnapshot(`
      {
        "error": {
          "code": "siwe_chain_mismatch",
          "message": "Sign-in rejected: the message names another chain. Sign in on chain 31337.",
        },
      }
    `)
  })

  test('behavior: a refused attempt does not burn the nonce for the real wallet', async () => {
    const alice = new TestWallet(server.url)
    const mallory = new TestWallet(server.url)
    const message = await alice.signInMessage()
    expect((await refused(message, await mallory.signMessage(message))).status).toBe(400)
    expect((await verify(message, await alice.signMessage(message))).status).toBe(200)
  })

  test('behavior: a revoked token is refused, other sessions of the wallet are not', async () => {
    const alice = await new TestWallet(server.url).signIn()
    const other = await new TestWallet(server.url, alice.privateKey).signIn()
    const revoke = await api(server.url, 'POST', '/v1/auth/revoke', { token: alice.token })
    expect(revoke.status).toBe(204)
    const before = await snapshotDb(server)
    const reused = await api(server.url, 'GET', '/v1/rooms', { token: alice.token })
    expect(reused.status).toBe(401)
    expect(reused.body).toMatchInlineSnapshot(`
      {
        "error": {
          "code": "token_revoked",
          "message": "The session token was revoked; sign in again.",
        },
      }
    `)
    const again = await api(server.url, 'POST', '/v1/auth/revoke', { token: alice.token })
    expect(again.status).toBe(401)
    expect(again.body.error.code).toBe('token_revoked')
    expect(await snapshotDb(server)).toEqual(before)
    expect((await api(server.url, 'GET', '/v1/rooms', { token: other.token })).status).toBe(200)
  })

  test('behavior: a garbage token is refused', async () => {
    for (const token of ['garbage', `dmtp_${'A'.repeat(43)}`, 'dmtp_']) {
      const response = await api(server.url, 'GET', '/v1/rooms', { token })
      expect(response.status).toBe(401)
      expect(response.body).toMatchInlineSnapshot(`
        {
          "error": {
            "code": "invalid_token",
            "message": "The session token is not valid.",
          },
        }
      `)
    }
  })

  test('behavior: every authenticated route refuses a request without a token', async () => {
    const before = await snapshotDb(server)
    for (const [method, path] of AUTHED_ROUTES) {
      for (const headers of [{}, { authorization: 'Basic YWxpY2U6c2VjcmV0' }, { authorization: 'Bearer' }] as Record<
        string,
        string
      >[]) {
        const response = await api(server.url, method, path, {
          headers,
          ...(method === 'GET' ? {} : { body: { peer: '0x0000000000000000000000000000000000000001' } }),
        })
        expect({ route: `${method} ${path}`, status: response.status, body: response.body }).toEqual({
          route: `${method} ${path}`,
          status: 401,
          body: { error: { code: 'auth_required', message: 'Sign in first: send Authorization: Bearer <token>.' } },
        })
      }
    }
    expect(await snapshotDb(server)).toEqual(before)
  })

  test('behavior: health, info, nonces and public keys need no token', async () => {
    const alice = await new TestWallet(server.url).setup()
    expect((await api(server.url, 'GET', '/health')).body).toMatchObject({ status: 'ok' })
    expect((await api(server.url, 'GET', '/v1/info')).body).toMatchObject({ chainId: 31_337 })
    expect((await api(server.url, 'POST', '/v1/auth/nonce')).body).toEqual({
      nonce: expect.any(String),
      expiresAt: expect.any(String),
    })
    const keys = await api(server.url, 'GET', `/v1/keys/${alice.address}`)
    expect(keys).toMatchObject({ status: 200, body: { address: alice.address, cid: alice.bundleCid, bundle: alice.bundle } })
    const lowercase = await api(server.url, 'GET', `/v1/keys/${alice.address.toLowerCase()}/history`)
    expect(lowercase).toMatchObject({ status: 200, body: { address: alice.address } })
    expect((await api(server.url, 'GET', `/v1/key-bundles/${alice.bundleCid}`)).status).toBe(200)
  })
})

describe.each(DIALECTS)('auth expiry (%s)', (dialect) => {
  test('behavior: a nonce older than 300 s is refused', async () => {
    const clock = new TestClock()
    await using server = await TestServer.create({ dialect, clock })
    const alice = new TestWallet(server.url)
    const message = await alice.signInMessage()
    const signature = await alice.signMessage(message)
    clock.advance(301_000)
    const before = await snapshotDb(server)
    const response = await api(server.url, 'POST', '/v1/auth/verify', { body: { message, signature } })
    expect(response.status).toBe(401)
    expect(response.body).toMatchInlineSnapshot(`
      {
        "error": {
          "code": "nonce_invalid",
          "message": "The sign-in nonce is unknown, expired or already used.",
        },
      }
    `)
    expect(await snapshotDb(server)).toEqual(before)
  })

  test('behavior: a token past its TTL is refused', async () => {
    const clock = new TestClock()
    await using server = await TestServer.create({
      dialect,
      clock,
      configure: (c) => {
        c.auth.tokenTtlSeconds = 60
      },
    })
    const alice = await new TestWallet(server.url).signIn()
    expect((await api(server.url, 'GET', '/v1/rooms', { token: alice.token })).status).toBe(200)
    clock.advance(59_000)
    expect((await api(server.url, 'GET', '/v1/rooms', { token: alice.token })).status).toBe(200)
    clock.advance(2_000)
    const expired = await api(server.url, 'GET', '/v1/rooms', { token: alice.token })
    expect(expired.status).toBe(401)
    expect(expired.body).toMatchInlineSnapshot(`
      {
        "error": {
          "code": "token_expired",
          "message": "The session token expired; sign in again.",
        },
      }
    `)
  })
})
