/**
 * Rate limits: message sends per address (a token bucket, HTTP and WebSocket alike) and HTTP
 * requests per minute (per address once signed in, per IP before). Over the limit is a 429
 * `rate_limited` that stores nothing.
 */
import { describe, expect, test } from 'vitest'
import { DIALECTS, rowCounts, TestServer } from './_util.js'
import { api, TestStream, TestWallet } from './_wallet.js'

describe.each(DIALECTS)('rate limits (%s)', (dialect) => {
  test('default: sends over the burst are refused and not stored', async () => {
    await using server = await TestServer.create({
      dialect,
      configure: (c) => {
        c.limits.messagesPerSecond = 2
        c.limits.messageBurst = 3
      },
    })
    const alice = await new TestWallet(server.url).setup()
    const bob = await new TestWallet(server.url).setup()
    const room = await alice.openRoom(bob.address)
    const envelopes = await Promise.all([1, 2, 3, 4].map((n) => alice.seal(bob, `message ${n}`, { room })))
    const overStream = await alice.seal(bob, 'over the stream', { room })
    await using stream = await TestStream.connect(server.wsUrl, alice.token)

    const results = []
    for (const envelope of envelopes) results.push(await alice.post(envelope))
    expect(results.map((r) => r.status)).toEqual([200, 200, 200, 429])
    expect(results[3]?.body).toMatchInlineSnapshot(`
      {
        "error": {
          "code": "rate_limited",
          "message": "Too many messages; slow down.",
        },
      }
    `)
    // The same bucket covers sends over the stream.
    stream.send({ type: 'send', ref: 'ws-1', envelope: overStream })
    const refused = await stream.next((frame) => frame.type === 'error' || frame.type === 'sent')
    expect(refused).toEqual({
      type: 'error',
      ref: 'ws-1',
      error: { code: 'rate_limited', message: 'Too many messages; slow down.' },
    })
    expect(await rowCounts(server, ['messages'])).toEqual({ messages: 3 })

    // The bucket is per address: bob is not slowed down by alice.
    expect((await bob.send(alice, 'reply', { room })).status).toBe(200)
  })

  test('behavior: HTTP requests over the per-minute limit are refused', async () => {
    await using server = await TestServer.create({
      dialect,
      configure: (c) => {
        c.limits.requestsPerMinute = 5
      },
    })
    const statuses = []
    for (let i = 0; i < 5; i++) statuses.push((await api(server.url, 'GET', '/health')).status)
    expect(statuses).toEqual([200, 200, 200, 200, 200])
    const limited = await api(server.url, 'GET', '/v1/info')
    expect(limited.status).toBe(429)
    expect(limited.body).toEqual({
      error: { code: 'rate_limited', message: expect.stringMatching(/^Too many requests; retry in \d+ s\.$/) },
    })
    expect(Number(limited.headers.get('retry-after'))).toBeGreaterThan(0)
    const before = await rowCounts(server)
    const nonce = await api(server.url, 'POST', '/v1/auth/nonce')
    expect({ status: nonce.status, code: nonce.body.error.code }).toEqual({ status: 429, code: 'rate_limited' })
    expect(await rowCounts(server)).toEqual(before)
  })
})
