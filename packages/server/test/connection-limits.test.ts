/**
 * Per-connection and per-user limits (issue 16, item 17): the frame bucket of a stream, streams
 * per wallet, connections per IP, and Node's HTTP timeouts against idle and slowloris
 * connections. Each test tries to get past its limit.
 *
 * SQLite only: these limits live in the HTTP and WebSocket layers, before any query, so the
 * database dialect cannot change what they do (the sends refused below are refused before the
 * message service is reached).
 */
import net from 'node:net'
import { describe, expect, test } from 'vitest'
import WebSocket from 'ws'
import { envToConfig } from '../src/index.js'
import { rowCounts, TestServer, waitFor } from './_util.js'
import { TestStream, TestWallet } from './_wallet.js'

type RawAnswer = { status: number; headers: string; body: string; closedAfterMs: number }

/** Opens a TCP connection to the server, from `localAddress` if given. */
function connect(port: number, localAddress?: string): Promise<net.Socket> {
  return new Promise((resolve, reject) => {
    const socket = net.connect({ host: '127.0.0.1', port, ...(localAddress ? { localAddress } : {}) })
    socket.once('connect', () => resolve(socket))
    socket.once('error', reject)
  })
}

/** Everything the server writes to `socket` until it closes it, and when that happened. */
function answerOf(socket: net.Socket): Promise<RawAnswer> {
  const started = performance.now()
  let text = ''
  socket.on('data', (chunk) => {
    text += chunk.toString()
  })
  socket.on('error', () => {})
  return new Promise((resolve) =>
    socket.once('close', () => {
      const [head = '', body = ''] = text.split('\r\n\r\n')
      const status = Number(/^HTTP\/1\.1 (\d{3})/.exec(head)?.[1] ?? 0)
      resolve({ status, headers: head.toLowerCase(), body, closedAfterMs: performance.now() - started })
    }),
  )
}

/** A keep-alive request on its own connection, answered: the server has counted that connection. */
async function heldConnection(port: number, localAddress?: string): Promise<net.Socket> {
  const socket = await connect(port, localAddress)
  await new Promise<void>((resolve) => {
    socket.once('data', () => resolve())
    socket.write('GET /health HTTP/1.1\r\nHost: localhost\r\n\r\n')
  })
  return socket
}

/** The status of a request on a connection of its own (closed after). */
async function statusOf(port: number): Promise<number> {
  const socket = await connect(port)
  const answer = answerOf(socket)
  socket.write('GET /health HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n')
  return (await answer).status
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))

describe('connection limits (sqlite)', () => {
  test('frames: a flood past the bucket gets too_many_frames, then close 1008; frames past it are not processed', async () => {
    await using server = await TestServer.create({
      configure: (c) => {
        c.limits.stream.framesPerSecond = 5
        c.limits.stream.frameBurst = 20
      },
    })
    const alice = await new TestWallet(server.url).setup()
    const bob = await new TestWallet(server.url).setup()
    const room = await alice.openRoom(bob.address)
    const envelopes = await Promise.all(Array.from({ length: 60 }, (_, i) => alice.seal(bob, `flood ${i}`, { room })))
    const stream = await TestStream.connect(server.wsUrl, alice.token)
    for (const [i, envelope] of envelopes.entries()) stream.send({ type: 'send', ref: `f-${i}`, envelope })

    expect(await stream.closed).toEqual({ code: 1008, reason: 'too many frames' })
    expect(stream.frames.find((frame) => frame.type === 'error' && frame.ref === undefined)).toMatchInlineSnapshot(`
      {
        "error": {
          "code": "too_many_frames",
          "message": "Too many frames on this stream; slow down.",
        },
        "type": "error",
      }
    `)
    // The hello took one token of 20: 19 sends went through (they finish after the close), and
    // none of the 41 after them.
    await waitFor(async () => (await rowCounts(server, ['messages'])).messages >= 19)
    await sleep(200)
    expect((await rowCounts(server, ['messages'])).messages).toBe(19)

    // The bucket is the connection's: a new one starts full.
    await using again = await TestStream.connect(server.wsUrl, alice.token)
    await again.barrier()
  })

  test('frames: by default the bucket sits above the message limit, so sending as fast as allowed never trips it', async () => {
    await using server = await TestServer.create({
      configure: (c) => {
        c.limits.messagesPerSecond = 2
        c.limits.messageBurst = 10
      },
    })
    const alice = await new TestWallet(server.url).setup()
    const bob = await new TestWallet(server.url).setup()
    const room = await alice.openRoom(bob.address)
    const envelopes = await Promise.all(Array.from({ length: 40 }, (_, i) => alice.seal(bob, `fast ${i}`, { room })))
    await using stream = await TestStream.connect(server.wsUrl, alice.token)
    for (const [i, envelope] of envelopes.entries()) stream.send({ type: 'send', ref: `s-${i}`, envelope })
    const answers = await Promise.all(envelopes.map((_, i) => stream.next((frame) => 'ref' in frame && frame.ref === `s-${i}`)))
    const refused = answers.filter((frame) => frame.type === 'error')
    expect(answers.filter((frame) => frame.type === 'sent')).toHaveLength(10)
    expect(new Set(refused.map((frame) => frame.type === 'error' && frame.error.code))).toEqual(new Set(['rate_limited']))
    await stream.barrier()

    // Past the message burst plus the room for acks and pings (10 + 100, refilled at 2 + 50 a
    // second), junk closes it.
    for (let i = 0; i < 300; i++) stream.sendRaw('not json')
    expect(await stream.closed).toEqual({ code: 1008, reason: 'too many frames' })
  })

  test('streams per wallet: concurrent hellos past the cap are refused with too_many_streams; closing one frees a place', async () => {
    await using server = await TestServer.create({
      configure: (c) => {
        c.limits.stream.perWallet = 3
      },
    })
    const alice = await new TestWallet(server.url).setup()
    const bob = await new TestWallet(server.url).setup()
    const streams = await Promise.all(Array.from({ length: 8 }, () => TestStream.open(server.wsUrl)))
    for (const stream of streams) stream.send({ type: 'hello', token: alice.token })
    const answers = await Promise.all(streams.map((stream) => stream.next((f) => f.type === 'ready' || f.type === 'error')))

    const open = streams.filter((_, i) => answers[i]?.type === 'ready')
    expect(open).toHaveLength(3)
    const refused = streams.filter((_, i) => answers[i]?.type === 'error')
    expect(answers.find((frame) => frame.type === 'error')).toMatchInlineSnapshot(`
      {
        "error": {
          "code": "too_many_streams",
          "message": "This wallet has 3 streams open already; close one first.",
        },
        "type": "error",
      }
    `)
    for (const stream of refused) expect(await stream.closed).toEqual({ code: 1008, reason: 'too many streams' })
    // The cap is per wallet: another wallet is not affected.
    await using bobs = await TestStream.connect(server.wsUrl, bob.token)
    await bobs.barrier()
    // Still full for alice, then a place frees when one of hers closes.
    await expect(TestStream.connect(server.wsUrl, alice.token)).rejects.toThrow(/too_many_streams/)
    open[0]?.close()
    await open[0]?.closed
    await waitFor(async () => {
      const stream = await TestStream.connect(server.wsUrl, alice.token).catch(() => undefined)
      if (stream) open[0] = stream
      return stream
    })
    for (const stream of open) await stream?.[Symbol.asyncDispose]()
  })

  test('streams per wallet: refused hellos and peers gone mid-hello leave nothing counted', async () => {
    await using server = await TestServer.create({
      configure: (c) => {
        c.limits.stream.perWallet = 2
      },
    })
    const alice = await new TestWallet(server.url).setup()
    for (let i = 0; i < 5; i++) {
      const bad = await TestStream.open(server.wsUrl)
      bad.send({ type: 'hello', token: `${alice.token}x` })
      expect((await bad.closed).code).toBe(4401)
      const gone = await TestStream.open(server.wsUrl)
      gone.send({ type: 'hello', token: alice.token })
      gone.socket.terminate()
    }
    await sleep(100)
    await using first = await TestStream.connect(server.wsUrl, alice.token)
    await using second = await TestStream.connect(server.wsUrl, alice.token)
    await Promise.all([first.barrier(), second.barrier()])
  })

  test('connections per IP: past the cap, a request gets 429 too_many_connections and changes nothing; other IPs are served', async () => {
    await using server = await TestServer.create({
      configure: (c) => {
        c.limits.connectionsPerIp = 4
        c.limits.http.keepAliveTimeoutMs = 60_000
      },
    })
    const port = Number(new URL(server.url).port)
    const held = await Promise.all(Array.from({ length: 4 }, () => heldConnection(port)))
    const before = await rowCounts(server, ['auth_nonces'])

    const over = await connect(port)
    const answer = answerOf(over)
    over.write('POST /v1/auth/nonce HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\nContent-Length: 2\r\n\r\n{}')
    const { status, headers, body, closedAfterMs } = await answer
    expect(status).toBe(429)
    expect(headers).toContain('connection: close')
    expect(JSON.parse(body)).toMatchInlineSnapshot(`
      {
        "error": {
          "code": "too_many_connections",
          "message": "Too many connections from this address (at most 4); close some and retry.",
        },
      }
    `)
    expect(closedAfterMs).toBeLessThan(1_000)
    expect(await rowCounts(server, ['auth_nonces'])).toEqual(before)

    // A stream upgrade over the cap is refused the same way.
    const refusedUpgrade = await new Promise<{ status: number; body: string }>((resolve, reject) => {
      const socket = new WebSocket(server.wsUrl)
      socket.once('open', () => reject(new Error('the upgrade was accepted')))
      socket.once('unexpected-response', (_request, response) => {
        let text = ''
        response.on('data', (chunk: Buffer) => {
          text += chunk.toString()
        })
        response.on('end', () => resolve({ status: response.statusCode ?? 0, body: text }))
      })
      socket.on('error', () => {})
    })
    expect(refusedUpgrade.status).toBe(429)
    expect(JSON.parse(refusedUpgrade.body).error.code).toBe('too_many_connections')

    // One that says nothing is not kept either.
    const silent = await connect(port)
    expect((await answerOf(silent)).closedAfterMs).toBeLessThan(2_000)

    // Another address (127.0.0.2 is loopback too) has its own count.
    const other = await heldConnection(port, '127.0.0.2')
    other.destroy()

    // Closing the held connections gives the places back.
    for (const socket of held) socket.destroy()
    await waitFor(async () => (await statusOf(port)) === 200)
  })

  test('slowloris: 500 connections sending their headers slowly are answered 408 and dropped within the headers timeout', async () => {
    await using server = await TestServer.create({
      configure: (c) => {
        c.limits.connectionsPerIp = 0
        c.limits.http.headersTimeoutMs = 2_000
        c.limits.http.requestTimeoutMs = 4_000
      },
    })
    const port = Number(new URL(server.url).port)
    const timers: NodeJS.Timeout[] = []
    const answers = await Promise.all(
      Array.from({ length: 500 }, async (_, i) => {
        const socket = await connect(port)
        const answer = answerOf(socket)
        socket.write('GET /health HTTP/1.1\r\nHost: localhost\r\n')
        // One header line every 300 ms: never idle, never done.
        let line = 0
        timers.push(setInterval(() => socket.writable && socket.write(`x-slow-${i}-${line++}: 1\r\n`), 300))
        return answer
      }),
    )
    for (const timer of timers) clearInterval(timer)

    const closedAfter = answers.map((answer) => answer.closedAfterMs).sort((a, b) => a - b)
    // Node checks the deadline once a second: between 2 s and 3 s, plus scheduling slack.
    expect(closedAfter[0]).toBeGreaterThan(1_500)
    expect(closedAfter.at(-1)).toBeLessThan(4_500)
    expect(new Set(answers.map((answer) => answer.status))).toEqual(new Set([408]))
    expect(JSON.parse(answers[0]?.body ?? '')).toMatchInlineSnapshot(`
      {
        "error": {
          "code": "request_timeout",
          "message": "The request took too long to arrive.",
        },
      }
    `)
  })

  test('slowloris: an ordinary request is served while 300 slow connections are pending', async () => {
    await using server = await TestServer.create({
      configure: (c) => {
        c.limits.connectionsPerIp = 0
        c.limits.http.headersTimeoutMs = 3_000
        c.limits.http.requestTimeoutMs = 4_000
      },
    })
    const port = Number(new URL(server.url).port)
    const slow = await Promise.all(Array.from({ length: 300 }, () => connect(port)))
    for (const socket of slow) {
      socket.on('error', () => {})
      socket.write('GET /health HTTP/1.1\r\n')
    }
    const started = performance.now()
    const response = await fetch(`${server.url}/health`)
    expect(response.status).toBe(200)
    expect(performance.now() - started).toBeLessThan(1_000)
    for (const socket of slow) socket.destroy()
  })

  test('timeouts: a silent connection is closed after the idle timeout, a kept-alive one after the keep-alive timeout', async () => {
    await using server = await TestServer.create({
      configure: (c) => {
        c.limits.http.idleTimeoutMs = 1_000
        c.limits.http.keepAliveTimeoutMs = 500
        c.limits.http.headersTimeoutMs = 5_000
        c.limits.http.requestTimeoutMs = 10_000
      },
    })
    const port = Number(new URL(server.url).port)
    const silent = await connect(port)
    const { closedAfterMs: silentMs } = await answerOf(silent)
    expect(silentMs).toBeGreaterThan(900)
    expect(silentMs).toBeLessThan(2_500)

    const kept = await connect(port)
    const answer = answerOf(kept)
    kept.write('GET /health HTTP/1.1\r\nHost: localhost\r\n\r\n')
    const { status, closedAfterMs } = await answer
    expect(status).toBe(200)
    // Node waits one second past the keep-alive timeout it advertises, for requests in flight.
    expect(closedAfterMs).toBeGreaterThan(1_400)
    expect(closedAfterMs).toBeLessThan(2_500)
  })

  test('timeouts: a body that trickles in is cut off at the request timeout and stores nothing', async () => {
    await using server = await TestServer.create({
      configure: (c) => {
        c.limits.http.headersTimeoutMs = 1_000
        c.limits.http.requestTimeoutMs = 1_500
      },
    })
    const port = Number(new URL(server.url).port)
    const before = await rowCounts(server, ['auth_nonces'])
    const socket = await connect(port)
    const answer = answerOf(socket)
    socket.write(
      'POST /v1/auth/nonce HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{',
    )
    const trickle = setInterval(() => socket.writable && socket.write(' '), 200)
    const { status, closedAfterMs } = await answer
    clearInterval(trickle)
    expect(status).toBe(408)
    expect(closedAfterMs).toBeGreaterThan(1_400)
    expect(closedAfterMs).toBeLessThan(3_000)
    expect(await rowCounts(server, ['auth_nonces'])).toEqual(before)
  })

  test('timeouts: a stream outlives every HTTP timeout', async () => {
    await using server = await TestServer.create({
      configure: (c) => {
        c.limits.http = { headersTimeoutMs: 500, requestTimeoutMs: 500, keepAliveTimeoutMs: 500, idleTimeoutMs: 500 }
      },
    })
    const alice = await new TestWallet(server.url).setup()
    await using stream = await TestStream.connect(server.wsUrl, alice.token)
    await sleep(2_000)
    await stream.barrier()
  })

  test('config: headers may not be given longer than the whole request', () => {
    expect(() => envToConfig({ DMTP_HTTP_HEADERS_TIMEOUT_MS: 5_000, DMTP_HTTP_REQUEST_TIMEOUT_MS: 1_000 })).toThrow(
      'DMTP_HTTP_HEADERS_TIMEOUT_MS must not exceed DMTP_HTTP_REQUEST_TIMEOUT_MS',
    )
  })
})
