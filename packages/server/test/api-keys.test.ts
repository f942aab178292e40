/**
 * dApp API keys: wallets create, list and revoke their own keys; requests carrying a key (header,
 * or `?apiKey=` on the stream) are refused when it is unknown, revoked or over its rate; with
 * `DMTP_API_KEYS=required`, cross-origin browser requests need one; CORS lets dApps call the API.
 */
import { createHash } from 'node:crypto'
import type { Kysely } from 'kysely'
import { afterAll, beforeAll, describe, expect, test } from 'vitest'
import WebSocket from 'ws'
import { DIALECTS, databaseText, TestServer } from './_util.js'
import { api, TestStream, TestWallet } from './_wallet.js'

const DAPP = 'https://dapp.example'

/** Opens `/v1/stream` and reports how the upgrade went: open, or the HTTP refusal. */
function upgrade(
  url: string,
  headers: Record<string, string> = {},
): Promise<{ status: number; body: any } | { status: 101; socket: WebSocket }> {
  return new Promise((resolve, reject) => {
    const socket = new WebSocket(url, { headers })
    socket.once('open', () => resolve({ status: 101, socket }))
    socket.once('unexpected-response', (request, response) => {
      let text = ''
      response.on('data', (chunk: Buffer) => {
        text += chunk
      })
      response.on('end', () => {
        // Handling this event makes closing the connection ours to do.
        request.destroy()
        resolve({ status: response.statusCode ?? 0, body: JSON.parse(text) })
      })
    })
    socket.once('error', (error) => reject(error))
  })
}

async function expectRefusedUpgrade(url: string, headers: Record<string, string>, code: string) {
  const result = await upgrade(url, headers)
  if ('socket' in result) {
    result.socket.close()
    throw new Error('the upgrade was accepted')
  }
  expect(result).toMatchObject({ status: 401, body: { error: { code } } })
}

describe.each(DIALECTS)('api keys (%s)', (dialect) => {
  let server: TestServer
  beforeAll(async () => {
    server = await TestServer.create({
      dialect,
      configure: (c) => {
        c.limits.requestsPerMinute = 100_000
        c.apiKeys.maxPerWallet = 3
        c.apiKeys.defaultRateLimitPerMinute = 1_000
      },
    })
  })
  afterAll(async () => {
    await server[Symbol.asyncDispose]()
  })

  const db = () => server.ctx.database.db as unknown as Kysely<any>
  const apiKeyRows = () => db().selectFrom('api_keys').selectAll().orderBy('id').execute()

  async function createKey(wallet: TestWallet, body: Record<string, unknown> = { name: 'my dApp' }) {
    const response = await api(server.url, 'POST', '/v1/api-keys', { token: wallet.token, body })
    if (response.status !== 201) throw new Error(`create failed: ${response.text}`)
    return response.body as { id: string; name: string; key: string; rateLimitPerMinute: number; createdAt: string }
  }

  const withKey = (key: string, token?: string) =>
    api(server.url, 'GET', '/v1/rooms', { ...(token ? { token } : {}), headers: { 'x-dmtp-api-key': key } })

  test('default: a wallet creates, lists and revokes its keys; a revoked key is refused', async () => {
    const alice = await new TestWallet(server.url).signIn()
    const created = await api(server.url, 'POST', '/v1/api-keys', { token: alice.token, body: { name: 'Chat widget' } })
    expect(created.status).toBe(201)
    expect(created.body).toEqual({
      id: expect.stringMatching(/^[A-Za-z0-9_-]{12}$/),
      name: 'Chat widget',
      key: expect.stringMatching(/^dmtp_[A-Za-z0-9_-]{43}$/),
      rateLimitPerMinute: 1_000,
      createdAt: expect.any(String),
    })
    const second = await createKey(alice, { name: 'Slow bot', rateLimitPerMinute: 10 })
    expect(second.rateLimitPerMinute).toBe(10)

    const listed = await api(server.url, 'GET', '/v1/api-keys', { token: alice.token })
    expect(listed.status).toBe(200)
    expect(listed.body).toEqual({
      apiKeys: expect.arrayContaining([
        {
          id: created.body.id,
          name: 'Chat widget',
          rateLimitPerMinute: 1_000,
          createdAt: created.body.createdAt,
          revokedAt: null,
        },
        { id: second.id, name: 'Slow bot', rateLimitPerMinute: 10, createdAt: second.createdAt, revokedAt: null },
      ]),
    })
    expect(listed.body.apiKeys).toHaveLength(2)
    expect(listed.text).not.toContain(created.body.key)

    expect(await withKey(created.body.key, alice.token)).toMatchObject({ status: 200, body: { rooms: [] } })
    // A key needs no session of its own: public routes work with it too.
    expect((await api(server.url, 'POST', '/v1/auth/nonce', { headers: { 'x-dmtp-api-key': created.body.key } })).status).toBe(
      200,
    )

    const revoked = await api(server.url, 'DELETE', `/v1/api-keys/${created.body.id}`, { token: alice.token })
    expect(revoked.status).toBe(204)
    // Revoking again changes nothing.
    expect((await api(server.url, 'DELETE', `/v1/api-keys/${created.body.id}`, { token: alice.token })).status).toBe(204)
    const refused = await withKey(created.body.key, alice.token)
    expect(refused.status).toBe(401)
    expect(refused.body).toMatchInlineSnapshot(`
      {
        "error": {
          "code": "api_key_revoked",
          "message": "The API key was revoked.",
        },
      }
    `)
    const after = await api(server.url, 'GET', '/v1/api-keys', { token: alice.token })
    expect(after.body.apiKeys.find((key: any) => key.id === created.body.id).revokedAt).toEqual(expect.any(String))
    expect((await withKey(second.key, alice.token)).status).toBe(200)
  })

  test('behavior: the key is never stored or logged in clear, only its SHA-256', async () => {
    const alice = await new TestWallet(server.url).signIn()
    const { id, key } = await createKey(alice)
    expect((await withKey(key, alice.token)).status).toBe(200)
    const opened = await upgrade(`${server.wsUrl}?apiKey=${encodeURIComponent(key)}`)
    if ('socket' in opened) opened.socket.close()
    expect(opened.status).toBe(101)

    const row = (await apiKeyRows()).find((r) => r.id === id)
    expect(row).toMatchObject({
      owner: alice.address,
      key_hash: createHash('sha256').update(key).digest('hex'),
      revoked_at: null,
    })
    const text = await databaseText(server)
    expect(text).toContain(createHash('sha256').update(key).digest('hex'))
    expect(text).not.toContain(key)
    expect(text).not.toContain(key.slice('dmtp_'.length))
    const logs = server.logs.join('')
    expect(logs).toContain('apiKey=[redacted]')
    expect(logs).not.toContain(key.slice('dmtp_'.length))
  })

  test('behavior: unknown, malformed and revoked keys are refused over HTTP and on the stream upgrade', async () => {
    const alice = await new TestWallet(server.url).signIn()
    const unknown = `dmtp_${Buffer.alloc(32, 7).toString('base64url')}`
    const response = await withKey(unknown, alice.token)
    expect(response.status).toBe(401)
    expect(response.body).toMatchInlineSnapshot(`
      {
        "error": {
          "code": "invalid_api_key",
          "message": "The API key is not valid.",
        },
      }
    `)
    for (const bad of ['', 'nope', `${unknown}x`, alice.token]) {
      expect((await withKey(bad, alice.token)).body.error.code).toBe('invalid_api_key')
    }
    // Public routes and blocks check the key too; /health and /v1/info never need nor check one.
    expect((await api(server.url, 'POST', '/v1/auth/nonce', { headers: { 'x-dmtp-api-key': unknown } })).status).toBe(401)
    expect((await api(server.url, 'GET', '/ipfs/bafyfoo', { headers: { 'x-dmtp-api-key': unknown } })).status).toBe(401)
    expect((await api(server.url, 'GET', '/v1/info', { headers: { 'x-dmtp-api-key': unknown } })).status).toBe(200)
    expect((await api(server.url, 'GET', '/health', { headers: { 'x-dmtp-api-key': unknown } })).status).toBe(200)

    await expectRefusedUpgrade(`${server.wsUrl}?apiKey=${unknown}`, {}, 'invalid_api_key')
    await expectRefusedUpgrade(server.wsUrl, { 'x-dmtp-api-key': unknown }, 'invalid_api_key')

    const { id, key } = await createKey(alice)
    await using stream = await TestStream.connect(`${server.wsUrl}?apiKey=${encodeURIComponent(key)}`, alice.token)
    expect(stream.frames[0]).toMatchObject({ type: 'ready', address: alice.address })
    expect((await api(server.url, 'DELETE', `/v1/api-keys/${id}`, { token: alice.token })).status).toBe(204)
    await expectRefusedUpgrade(`${server.wsUrl}?apiKey=${encodeURIComponent(key)}`, {}, 'api_key_revoked')
    await expectRefusedUpgrade(server.wsUrl, { 'x-dmtp-api-key': key }, 'api_key_revoked')
  })

  test('behavior: a key over its rate gets 429 with retry-after; another key is unaffected', async () => {
    const alice = await new TestWallet(server.url).signIn()
    const slow = await createKey(alice, { name: 'slow', rateLimitPerMinute: 3 })
    const other = await createKey(alice, { name: 'other', rateLimitPerMinute: 3 })
    for (let i = 0; i < 3; i++) expect((await withKey(slow.key, alice.token)).status).toBe(200)
    const limited = await withKey(slow.key, alice.token)
    expect(limited.status).toBe(429)
    expect(limited.body.error.code).toBe('rate_limited')
    expect(limited.body.error.message).toMatch(/^This API key is over its rate limit; retry in \d+ s\.$/)
    const retryAfter = Number(limited.headers.get('retry-after'))
    expect(retryAfter).toBeGreaterThanOrEqual(1)
    expect(retryAfter).toBeLessThanOrEqual(60)
    // The stream upgrade counts against the same budget.
    const upgradeLimited = await upgrade(`${server.wsUrl}?apiKey=${encodeURIComponent(slow.key)}`)
    expect(upgradeLimited).toMatchObject({ status: 429, body: { error: { code: 'rate_limited' } } })

    expect((await withKey(other.key, alice.token)).status).toBe(200)
    // Without a key, the wallet is not held back by its dApp's key.
    expect((await api(server.url, 'GET', '/v1/rooms', { token: alice.token })).status).toBe(200)
  })

  test('behavior: a wallet cannot see or revoke another wallet’s key', async () => {
    const alice = await new TestWallet(server.url).signIn()
    const bob = await new TestWallet(server.url).signIn()
    const { id, key } = await createKey(alice)
    const attempt = await api(server.url, 'DELETE', `/v1/api-keys/${id}`, { token: bob.token })
    expect(attempt.status).toBe(404)
    expect(attempt.body).toEqual({ error: { code: 'api_key_not_found', message: `No API key "${id}".` } })
    expect((await api(server.url, 'DELETE', '/v1/api-keys/nope', { token: bob.token })).body.error.code).toBe('api_key_not_found')
    expect((await api(server.url, 'GET', '/v1/api-keys', { token: bob.token })).body).toEqual({ apiKeys: [] })
    expect((await apiKeyRows()).find((r) => r.id === id)?.revoked_at).toBeNull()
    expect((await withKey(key, alice.token)).status).toBe(200)

    for (const [method, path] of [
      ['POST', '/v1/api-keys'],
      ['GET', '/v1/api-keys'],
      ['DELETE', `/v1/api-keys/${id}`],
    ] as const) {
      const response = await api(server.url, method, path, method === 'POST' ? { body: { name: 'x' } } : {})
      expect(response.status).toBe(401)
      expect(response.body.error.code).toBe('auth_required')
    }
  })

  test('behavior: malformed bodies, unknown fields and oversized names are 400 and store nothing', async () => {
    const alice = await new TestWallet(server.url).signIn()
    const before = await apiKeyRows()
    const bodies: [unknown, string][] = [
      [{}, 'validation_failed'],
      [{ name: '' }, 'validation_failed'],
      [{ name: '   ' }, 'validation_failed'],
      [{ name: 'x'.repeat(65) }, 'validation_failed'],
      [{ name: 'line\nbreak' }, 'validation_failed'],
      [{ name: 42 }, 'validation_failed'],
      [{ name: 'ok', owner: '0x0000000000000000000000000000000000000000' }, 'validation_failed'],
      [{ name: 'ok', key: 'dmtp_chosen' }, 'validation_failed'],
      [{ name: 'ok', rateLimitPerMinute: 0 }, 'validation_failed'],
      [{ name: 'ok', rateLimitPerMinute: 1.5 }, 'validation_failed'],
      [{ name: 'ok', rateLimitPerMinute: '10' }, 'validation_failed'],
      [{ name: 'ok', rateLimitPerMinute: 1_001 }, 'invalid_request'],
      [['ok'], 'validation_failed'],
    ]
    for (const [body, code] of bodies) {
      const response = await api(server.url, 'POST', '/v1/api-keys', { token: alice.token, body })
      expect({ body, status: response.status, code: response.body.error?.code }).toEqual({ body, status: 400, code })
    }
    const invalidJson = await api(server.url, 'POST', '/v1/api-keys', { token: alice.token, rawBody: '{"name":' })
    expect(invalidJson.body.error.code).toBe('invalid_json')
    const tooBig = await api(server.url, 'POST', '/v1/api-keys', {
      token: alice.token,
      rawBody: JSON.stringify({ name: 'x'.repeat(200_000) }),
    })
    expect(tooBig.status).toBe(413)
    expect(await apiKeyRows()).toEqual(before)
    // The longest name allowed, trimmed.
    expect((await createKey(alice, { name: ` ${'n'.repeat(64)} ` })).name).toBe('n'.repeat(64))
  })

  test('behavior: a wallet holds at most maxPerWallet active keys', async () => {
    const alice = await new TestWallet(server.url).signIn()
    const keys = [await createKey(alice), await createKey(alice), await createKey(alice)]
    const over = await api(server.url, 'POST', '/v1/api-keys', { token: alice.token, body: { name: 'fourth' } })
    expect(over.status).toBe(409)
    expect(over.body).toMatchInlineSnapshot(`
      {
        "error": {
          "code": "too_many_api_keys",
          "message": "A wallet may hold at most 3 active API keys; revoke one first.",
        },
      }
    `)
    expect((await apiKeyRows()).filter((r) => r.owner === alice.address)).toHaveLength(3)
    await api(server.url, 'DELETE', `/v1/api-keys/${keys[0]?.id}`, { token: alice.token })
    expect((await createKey(alice, { name: 'fourth' })).name).toBe('fourth')
    // Another wallet has its own allowance.
    const bob = await new TestWallet(server.url).signIn()
    expect((await createKey(bob)).name).toBe('my dApp')
  })

  test('behavior: CORS preflight from another origin allows the API headers', async () => {
    const preflight = await api(server.url, 'OPTIONS', '/v1/messages', {
      headers: {
        origin: DAPP,
        'access-control-request-method': 'POST',
        'access-control-request-headers': 'authorization,content-type,x-dmtp-api-key',
      },
    })
    expect(preflight.status).toBe(204)
    expect(preflight.headers.get('access-control-allow-origin')).toBe('*')
    expect(preflight.headers.get('access-control-allow-headers')).toBe('authorization, content-type, x-dmtp-api-key')
    expect(preflight.headers.get('access-control-allow-methods')).toContain('POST')
    const blocks = await api(server.url, 'GET', '/ipfs/bafyfoo', { headers: { origin: DAPP } })
    expect(blocks.headers.get('access-control-allow-origin')).toBe('*')
    expect(blocks.headers.get('access-control-expose-headers')).toContain('retry-after')
  })
})

describe.each(DIALECTS)('api keys, DMTP_API_KEYS=required (%s)', (dialect) => {
  let server: TestServer
  let key: string
  beforeAll(async () => {
    server = await TestServer.create({
      dialect,
      configure: (c) => {
        c.apiKeys.mode = 'required'
        c.limits.requestsPerMinute = 100_000
      },
    })
    const owner = await new TestWallet(server.url).signIn()
    key = (await api(server.url, 'POST', '/v1/api-keys', { token: owner.token, body: { name: 'dApp' } })).body.key
  })
  afterAll(async () => {
    await server[Symbol.asyncDispose]()
  })

  test('default: a cross-origin request without a key is refused; with one, or without Origin, it is served', async () => {
    const refused = await api(server.url, 'POST', '/v1/auth/nonce', { headers: { origin: DAPP } })
    expect(refused.status).toBe(401)
    expect(refused.body).toMatchInlineSnapshot(`
      {
        "error": {
          "code": "api_key_required",
          "message": "This server requires an API key from dApps: send x-dmtp-api-key: <key> (ask the operator for one).",
        },
      }
    `)
    // The refusal carries CORS headers, so the dApp can read why.
    expect(refused.headers.get('access-control-allow-origin')).toBe('*')
    expect((await api(server.url, 'GET', '/ipfs/bafyfoo', { headers: { origin: 'null' } })).body.error.code).toBe(
      'api_key_required',
    )

    expect((await api(server.url, 'POST', '/v1/auth/nonce', { headers: { origin: DAPP, 'x-dmtp-api-key': key } })).status).toBe(
      200,
    )
    expect((await api(server.url, 'POST', '/v1/auth/nonce')).status).toBe(200)
    // Same origin: the web app this server serves, by its public URL or by the host it was reached at.
    expect((await api(server.url, 'POST', '/v1/auth/nonce', { headers: { origin: server.url } })).status).toBe(200)
    const byHost = server.url.replace('localhost', '127.0.0.1')
    expect((await api(byHost, 'POST', '/v1/auth/nonce', { headers: { origin: byHost } })).status).toBe(200)
    // Health and server info never need a key.
    expect((await api(server.url, 'GET', '/v1/info', { headers: { origin: DAPP } })).status).toBe(200)
    expect((await api(server.url, 'GET', '/health', { headers: { origin: DAPP } })).status).toBe(200)
  })

  test('behavior: the stream upgrade from another origin needs ?apiKey=', async () => {
    await expectRefusedUpgrade(server.wsUrl, { origin: DAPP }, 'api_key_required')
    const opened = await upgrade(`${server.wsUrl}?apiKey=${encodeURIComponent(key)}`, { origin: DAPP })
    expect(opened.status).toBe(101)
    if ('socket' in opened) opened.socket.close()
    const noOrigin = await upgrade(server.wsUrl)
    expect(noOrigin.status).toBe(101)
    if ('socket' in noOrigin) noOrigin.socket.close()
  })

  test('behavior: a CORS preflight needs no key', async () => {
    const preflight = await api(server.url, 'OPTIONS', '/v1/auth/nonce', {
      headers: { origin: DAPP, 'access-control-request-method': 'POST', 'access-control-request-headers': 'x-dmtp-api-key' },
    })
    expect(preflight.status).toBe(204)
    expect(preflight.headers.get('access-control-allow-headers')).toBe('authorization, content-type, x-dmtp-api-key')
  })
})
