/**
 * Strict input on every route (issue 16, item 15): a body of the wrong shape on routes that take
 * none, a charset other than UTF-8, bytes that are not UTF-8 and lone surrogates, a 10 MB body
 * (a 413 the client can read, not a reset), positions beyond the last message, over-long path
 * parameters and a plain GET on the stream. Each gets a 4xx with a stable code and the project's
 * error body, and changes nothing.
 */
import http from 'node:http'
import { afterAll, beforeAll, describe, expect, test } from 'vitest'
import { DIALECTS, snapshotDb, TestServer } from './_util.js'
import { type ApiResponse, api, TestStream, TestWallet } from './_wallet.js'

/** `status` 0: no answer came before the connection closed. */
type RawAnswer = { status: number; body: any; writeError?: string; written: number }

type RawPost = {
  path: string
  body?: Buffer
  /** Streams this many bytes of body instead (chunked unless `contentLength`), or Infinity. */
  streamBytes?: number
  contentLength?: boolean
  /** Stops writing (without ending the body) after this many bytes. */
  stallAfter?: number
  token?: string
  contentType?: string
}

/**
 * POSTs with node:http, writing the body as a real client does (respecting backpressure), and
 * settles once the request is over: the answer, and whether writing the body failed (EPIPE).
 */
function rawPost(baseUrl: string, options: RawPost): Promise<RawAnswer> {
  const url = new URL(options.path, baseUrl)
  const chunk = Buffer.alloc(64 * 1024, 'x')
  return new Promise((resolve) => {
    let answer: Pick<RawAnswer, 'status' | 'body'> = { status: 0, body: undefined }
    let writeError: string | undefined
    let written = 0
    const request = http.request(url, {
      method: 'POST',
      agent: false,
      headers: {
        'content-type': options.contentType ?? 'application/json',
        ...(options.token ? { authorization: `Bearer ${options.token}` } : {}),
        ...(options.contentLength && options.streamBytes ? { 'content-length': String(options.streamBytes) } : {}),
      },
    })
    request.on('response', (response) => {
      const parts: Buffer[] = []
      response.on('data', (part: Buffer) => parts.push(part))
      response.on('end', () => {
        const text = Buffer.concat(parts).toString()
        const body = text ? JSON.parse(text) : undefined
        answer = { status: response.statusCode ?? 0, body }
      })
    })
    request.on('error', (error: NodeJS.ErrnoException) => {
      writeError = error.code ?? error.message
    })
    request.on('close', () => {
      // 'close' can come before the answer's 'end' when the socket goes away: give it a turn.
      setImmediate(() => resolve({ ...answer, writeError, written }))
    })
    if (options.body) {
      written = options.body.length
      request.end(options.body)
      return
    }
    const total = options.streamBytes ?? 0
    const stallAfter = options.stallAfter ?? total
    const pump = () => {
      while (written < Math.min(total, stallAfter) && !request.destroyed) {
        written += chunk.length
        if (!request.write(chunk)) return void request.once('drain', pump)
      }
      if (!request.destroyed && written >= total) request.end()
    }
    pump()
  })
}

const MB = 1024 * 1024

describe.each(DIALECTS)('strict input (%s)', (dialect) => {
  let server: TestServer
  let alice: TestWallet
  let bob: TestWallet
  let room: string
  let apiKeyId: string
  /** Every route that reads a JSON body (or refuses one), with a token that passes its auth. */
  let jsonRoutes: { method: string; path: string; token?: string }[]

  /** Every row of every table, API keys included. */
  async function snapshot() {
    const apiKeys = await server.ctx.database.db.selectFrom('api_keys').selectAll().execute()
    return { ...(await snapshotDb(server)), api_keys: apiKeys.map((row) => JSON.stringify(row)).sort() }
  }

  /** Runs `refusals` and checks that the database is exactly as before. */
  async function unchanged(refusals: () => Promise<void>): Promise<void> {
    const before = await snapshot()
    await refusals()
    expect(await snapshot()).toEqual(before)
  }

  const codeOf = (response: ApiResponse | RawAnswer) => ({ status: response.status, code: response.body?.error?.code })

  beforeAll(async () => {
    server = await TestServer.create({
      dialect,
      configure: (config) => {
        config.limits.requestsPerMinute = 100_000
      },
    })
    alice = await new TestWallet(server.url).setup()
    bob = await new TestWallet(server.url).setup()
    room = await alice.openRoom(bob.address)
    expect((await alice.send(bob, 'one', { room })).status).toBe(200)
    expect((await alice.send(bob, 'two', { room })).status).toBe(200)
    const created = await api(server.url, 'POST', '/v1/api-keys', { token: alice.token, body: { name: 'app' } })
    expect(created.status).toBe(201)
    apiKeyId = created.body.id
    jsonRoutes = [
      { method: 'POST', path: '/v1/auth/nonce' },
      { method: 'POST', path: '/v1/auth/verify' },
      { method: 'POST', path: '/v1/auth/revoke', token: alice.token },
      { method: 'POST', path: '/v1/api-keys', token: alice.token },
      { method: 'DELETE', path: `/v1/api-keys/${apiKeyId}`, token: alice.token },
      { method: 'PUT', path: '/v1/keys', token: alice.token },
      { method: 'POST', path: '/v1/rooms', token: alice.token },
      { method: 'POST', path: `/v1/rooms/${room}/events`, token: alice.token },
      { method: 'POST', path: `/v1/rooms/${room}/read`, token: alice.token },
      { method: 'POST', path: '/v1/messages', token: alice.token },
      { method: 'POST', path: '/v1/inbox/ack', token: alice.token },
      { method: 'POST', path: '/v1/migrations', token: bob.token },
    ]
  })
  afterAll(async () => {
    await server[Symbol.asyncDispose]()
  })

  test('default: routes without a body take none, or {}', async () => {
    for (const body of [undefined, {}]) {
      const nonce = await api(server.url, 'POST', '/v1/auth/nonce', { body })
      expect({ status: nonce.status, keys: Object.keys(nonce.body) }).toEqual({ status: 200, keys: ['nonce', 'expiresAt'] })
    }
    const carol = await new TestWallet(server.url).signIn()
    expect((await api(server.url, 'POST', '/v1/auth/revoke', { token: carol.token, body: {} })).status).toBe(204)
    expect(codeOf(await api(server.url, 'GET', '/v1/rooms', { token: carol.token }))).toEqual({
      status: 401,
      code: 'token_revoked',
    })
  })

  test('behavior: a JSON array, a scalar or an unknown field is refused on every JSON route', async () => {
    await unchanged(async () => {
      for (const { method, path, token } of jsonRoutes) {
        for (const body of [[], [{}], 'nonce', 1, { zzz: 1 }]) {
          const response = await api(server.url, method, path, { token, body })
          expect({ method, path, body, ...codeOf(response) }).toEqual({
            method,
            path,
            body,
            status: 400,
            code: 'validation_failed',
          })
        }
      }
      const nonce = await api(server.url, 'POST', '/v1/auth/nonce', { body: { address: alice.address } })
      expect(nonce.body).toMatchInlineSnapshot(`
        {
          "error": {
            "code": "validation_failed",
            "message": "Invalid request: body: this route takes no body (send none, or {}).",
          },
        }
      `)
    })
    // The refused revoke left the token working.
    expect((await api(server.url, 'GET', '/v1/rooms', { token: alice.token })).status).toBe(200)
  })

  test('behavior: a charset other than UTF-8 is 415 on every JSON route', async () => {
    const utf16 = Buffer.from('{"seq":0}', 'utf16le')
    await unchanged(async () => {
      for (const { method, path, token } of jsonRoutes) {
        for (const charset of ['utf-16', 'UTF-16LE', '"utf-16"', 'iso-8859-1', 'us-ascii', '']) {
          const response = await api(server.url, method, path, {
            token,
            rawBody: '{}',
            headers: { 'content-type': `application/json; charset=${charset}` },
          })
          expect({ path, charset, ...codeOf(response) }).toEqual({ path, charset, status: 415, code: 'unsupported_media_type' })
        }
      }
      const encoded = await rawPost(server.url, {
        path: `/v1/rooms/${room}/read`,
        token: alice.token,
        contentType: 'application/json; charset=utf-16',
        body: utf16,
      })
      expect(encoded.body).toMatchInlineSnapshot(`
        {
          "error": {
            "code": "unsupported_media_type",
            "message": "Send JSON in UTF-8: charset=utf-8, or no charset.",
          },
        }
      `)
      // UTF-16 bytes sent without a charset are not UTF-8 JSON either.
      const unlabelled = await rawPost(server.url, { path: `/v1/rooms/${room}/read`, token: alice.token, body: utf16 })
      expect(codeOf(unlabelled)).toEqual({ status: 400, code: 'invalid_json' })
      // UTF-8, named in any of the usual ways, is read (marking read at 0 changes nothing).
      for (const charset of ['utf-8', 'UTF-8', '"utf-8"', 'utf8']) {
        const response = await api(server.url, 'POST', `/v1/rooms/${room}/read`, {
          token: alice.token,
          body: { seq: 0 },
          headers: { 'content-type': `application/json; charset=${charset}` },
        })
        expect({ charset, status: response.status }).toEqual({ charset, status: 200 })
      }
    })
  })

  test('behavior: a 10 MB body gets a 413 the client reads, not a reset', async () => {
    const tooLarge = { error: { code: 'body_too_large', message: 'The request body is too large.' } }
    await unchanged(async () => {
      const routes = [
        { path: '/v1/auth/verify' },
        { path: '/v1/messages', token: alice.token },
        // Its own limit is 4 MB.
        { path: '/v1/migrations', token: bob.token },
      ]
      for (const route of routes) {
        for (const contentLength of [false, true]) {
          const answer = await rawPost(server.url, { ...route, streamBytes: 10 * MB, contentLength })
          expect({ ...route, contentLength, status: answer.status, body: answer.body, writeError: answer.writeError }).toEqual({
            ...route,
            contentLength,
            status: 413,
            body: tooLarge,
            writeError: undefined,
          })
          // The whole body went out: the server read it to the end instead of cutting the client off.
          expect(answer.written).toBeGreaterThanOrEqual(10 * MB)
        }
      }
      const fetched = await fetch(`${server.url}/v1/messages`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${alice.token}` },
        body: JSON.stringify({ envelope: 'x'.repeat(10 * MB) }),
      })
      expect({ status: fetched.status, body: await fetched.json() }).toEqual({ status: 413, body: tooLarge })
    })
  })

  test('behavior: the rest of a refused body is read within a bound only', async () => {
    // A body that never ends: past 64 MiB the server drops the connection, unanswered.
    const endless = await rawPost(server.url, { path: '/v1/auth/verify', streamBytes: Number.POSITIVE_INFINITY })
    expect({ status: endless.status, writeError: endless.writeError }).toEqual({
      status: 0,
      writeError: expect.stringMatching(/^(EPIPE|ECONNRESET)$/),
    })
    expect(endless.written).toBeGreaterThan(64 * MB)
    expect(endless.written).toBeLessThan(256 * MB)
    // A client that stops sending mid-body holds the connection 10 s at most.
    const started = Date.now()
    const stalled = await rawPost(server.url, {
      path: '/v1/auth/verify',
      streamBytes: 10 * MB,
      contentLength: true,
      stallAfter: MB,
    })
    expect({ status: stalled.status, writeError: stalled.writeError }).toEqual({ status: 0, writeError: 'ECONNRESET' })
    expect(Date.now() - started).toBeGreaterThanOrEqual(9_500)
    expect((await api(server.url, 'GET', '/health')).status).toBe(200)
  }, 30_000)

  test('behavior: a read marker or ack beyond the last message is refused', async () => {
    const before = await api(server.url, 'GET', `/v1/rooms/${room}`, { token: bob.token })
    const newestSeq: number = before.body.room.messageCount
    expect({ newestSeq, readSeq: before.body.membership.readSeq }).toEqual({ newestSeq: 2, readSeq: 0 })
    const counter = await server.ctx.database.db
      .selectFrom('counters')
      .select('value')
      .where('name', '=', 'pos')
      .executeTakeFirstOrThrow()
    const newestPos = Number(counter.value)
    await unchanged(async () => {
      for (const seq of [newestSeq + 1, 2 ** 31 - 1]) {
        const read = await api(server.url, 'POST', `/v1/rooms/${room}/read`, { token: bob.token, body: { seq } })
        expect(codeOf(read)).toEqual({ status: 400, code: 'position_out_of_range' })
      }
      for (const cursor of [newestPos + 1, 2 ** 31 - 1]) {
        const ack = await api(server.url, 'POST', '/v1/inbox/ack', { token: bob.token, body: { cursor } })
        expect(ack.body).toMatchInlineSnapshot(`
          {
            "error": {
              "code": "position_out_of_range",
              "message": "The cursor is beyond the newest stream position.",
            },
          }
        `)
      }
      const read = await api(server.url, 'POST', `/v1/rooms/${room}/read`, { token: bob.token, body: { seq: 3 } })
      expect(read.body.error.message).toMatchInlineSnapshot(`"Position 3 is beyond the room's newest (2)."`)
    })
    // Up to the last message, both move.
    expect(await api(server.url, 'POST', `/v1/rooms/${room}/read`, { token: bob.token, body: { seq: newestSeq } })).toMatchObject(
      {
        status: 200,
        body: { readSeq: newestSeq },
      },
    )
    expect(await api(server.url, 'POST', '/v1/inbox/ack', { token: bob.token, body: { cursor: newestPos } })).toMatchObject({
      status: 200,
      body: { acked: newestPos },
    })
  })

  test('behavior: an API key name that is not valid UTF-8 or holds a lone surrogate is not stored', async () => {
    const name = (bytes: number[]) => Buffer.concat([Buffer.from('{"name":"app'), Buffer.from(bytes), Buffer.from('"}')])
    await unchanged(async () => {
      // A stray byte, a cut sequence, an overlong "/", a UTF-8-encoded surrogate (CESU-8), past U+10FFFF.
      for (const bytes of [[0xff], [0xc3, 0x28], [0xc0, 0xaf], [0xed, 0xa0, 0x80], [0xf4, 0x90, 0x80, 0x80]]) {
        const response = await rawPost(server.url, { path: '/v1/api-keys', token: alice.token, body: name(bytes) })
        expect({ bytes, status: response.status, body: response.body }).toEqual({
          bytes,
          status: 400,
          body: { error: { code: 'invalid_json', message: 'The request body is not valid UTF-8.' } },
        })
      }
      for (const rawBody of [
        '{"name":"\\ud800"}',
        '{"name":"app\\udfff"}',
        '{"name":"\\udc00\\ud800"}',
        '{"na\\ud800me":"app"}',
      ]) {
        const response = await api(server.url, 'POST', '/v1/api-keys', { token: alice.token, rawBody })
        expect({ rawBody, ...codeOf(response) }).toEqual({ rawBody, status: 400, code: 'invalid_json' })
      }
      const lone = await api(server.url, 'POST', '/v1/api-keys', { token: alice.token, rawBody: '{"name":"\\uD834"}' })
      expect(lone.body.error.message).toMatchInlineSnapshot(
        `"The request body holds a lone surrogate (\\uD800–\\uDFFF): not valid Unicode."`,
      )
    })
    // A surrogate pair (escaped or as UTF-8) is one character, and is stored as it was sent.
    for (const rawBody of ['{"name":"app \\ud83d\\ude00"}', '{"name":"app 😀"}']) {
      const created = await api(server.url, 'POST', '/v1/api-keys', { token: alice.token, rawBody })
      expect({ status: created.status, name: created.body.name }).toEqual({ status: 201, name: 'app 😀' })
    }
  })

  test('behavior: an over-long or malformed path parameter is 400 in the project error shape', async () => {
    const tooLong = { error: { code: 'validation_failed', message: 'Invalid request: params: a path parameter is too long.' } }
    await unchanged(async () => {
      const long = 'A'.repeat(10_000)
      const requests = [
        ['GET', `/v1/rooms/${long}`],
        ['GET', `/v1/rooms/${long}/messages`],
        ['POST', `/v1/rooms/${long}/read`],
        ['POST', `/v1/rooms/${long}/events`],
        ['GET', `/v1/keys/0x${'a'.repeat(10_000)}`],
        ['GET', `/v1/keys/0x${'a'.repeat(10_000)}/history`],
        ['GET', `/v1/key-bundles/b${'a'.repeat(10_000)}`],
        ['GET', `/v1/anchors/b${'a'.repeat(10_000)}`],
        ['GET', `/ipfs/b${'a'.repeat(10_000)}`],
        ['DELETE', `/v1/api-keys/${long}`],
        // Just past the router's 256-character limit.
        ['GET', `/v1/rooms/${'A'.repeat(257)}`],
      ] as const
      for (const [method, path] of requests) {
        const body = method === 'POST' ? { seq: 0 } : undefined
        const response = await api(server.url, method, path, { token: alice.token, body })
        expect({ path: path.slice(0, 30), status: response.status, body: response.body }).toEqual({
          path: path.slice(0, 30),
          status: 400,
          body: tooLong,
        })
      }
      const malformed = await api(server.url, 'GET', '/v1/keys/%zz', { token: alice.token })
      expect(malformed.body).toMatchInlineSnapshot(`
        {
          "error": {
            "code": "validation_failed",
            "message": "Invalid request: the URL is malformed (bad percent-encoding).",
          },
        }
      `)
    })
  })

  test('behavior: a plain GET on /v1/stream is 426 upgrade_required, and a WebSocket still opens', async () => {
    for (const token of [undefined, alice.token]) {
      const response = await api(server.url, 'GET', '/v1/stream', { token })
      expect({ status: response.status, upgrade: response.headers.get('upgrade'), body: response.body }).toEqual({
        status: 426,
        upgrade: 'websocket',
        body: { error: { code: 'upgrade_required', message: 'Open /v1/stream as a WebSocket (Upgrade: websocket).' } },
      })
    }
    const head = await api(server.url, 'HEAD', '/v1/stream')
    expect({ status: head.status, upgrade: head.headers.get('upgrade') }).toEqual({ status: 426, upgrade: 'websocket' })
    const stream = await TestStream.connect(server.wsUrl, alice.token)
    stream.socket.close()
    await stream.closed
  })
})
