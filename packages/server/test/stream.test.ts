/**
 * The WebSocket stream (`/v1/stream`): hello with a token, then history after a cursor, then
 * live messages, every inbox entry exactly once and in cursor order, including while messages are
 * being written as the stream connects. Bad frames get error frames; bad hellos close the socket.
 * Cursors are server-wide stream positions (increasing, not gapless per wallet), so the tests read
 * each message's stored position instead of counting 1, 2, 3.
 */
import type { MessageRecord, P2PEnvelope, ServerFrame } from '@dmtp/protocol'
import { afterAll, beforeAll, describe, expect, test } from 'vitest'
import { DIALECTS, positionsOf, rowCounts, TestServer, waitFor } from './_util.js'
import { api, flipChar, TestStream, TestWallet } from './_wallet.js'

type MessageFrame = Extract<ServerFrame, { type: 'message' }>

/** The envelope of a message frame (1:1 rooms have no log entries, so every record is a message). */
const envelopeOf = (frame: ServerFrame) => ((frame as MessageFrame).message as MessageRecord).envelope

describe.each(DIALECTS)('stream (%s)', (dialect) => {
  let server: TestServer
  beforeAll(async () => {
    server = await TestServer.create({
      dialect,
      configure: (c) => {
        c.limits.helloTimeoutMs = 300
        c.limits.requestsPerMinute = 100_000
        c.limits.messagesPerSecond = 100_000
        c.limits.messageBurst = 100_000
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

  test('default: a message sent over the stream is answered with `sent` and arrives live', async () => {
    const { alice, bob, room } = await pair()
    await using aliceStream = await TestStream.connect(server.wsUrl, alice.token)
    await using bobStream = await TestStream.connect(server.wsUrl, bob.token)
    expect(bobStream.frames[0]).toEqual({ type: 'ready', address: bob.address, cursor: 0, latest: 0 })
    expect(await bobStream.next()).toEqual({ type: 'caught_up', cursor: 0 })

    const envelope = await alice.seal(bob, 'hello over the stream', { room })
    aliceStream.send({ type: 'send', ref: 'r-1', envelope })
    const sent = await aliceStream.next((frame) => frame.type === 'sent')
    expect(sent).toEqual({
      type: 'sent',
      ref: 'r-1',
      result: {
        id: envelope.id,
        room,
        cid: expect.any(String),
        seq: 1,
        receivedAt: expect.any(String),
        e2ee: true,
        receipt: expect.objectContaining({ key: server.ctx.serverKey.get().cid }),
      },
    })
    const [pos] = await positionsOf(server, [envelope.id])
    const received = await bobStream.next((frame) => frame.type === 'message')
    expect(received).toEqual({
      type: 'message',
      cursor: pos,
      message: { cid: (sent as any).result.cid, seq: 1, e2ee: true, receivedAt: (sent as any).result.receivedAt, envelope },
    })
    // The sender's own inbox has the message too (other devices of alice see what she sent).
    expect(await aliceStream.next((frame) => frame.type === 'message')).toMatchObject({ cursor: pos, message: { envelope } })
  })

  test('behavior: a hello with a bad token gets an error frame and close 4401', async () => {
    const revoked = await new TestWallet(server.url).signIn()
    await api(server.url, 'POST', '/v1/auth/revoke', { token: revoked.token })
    for (const [token, code] of [
      ['garbage', 'invalid_token'],
      [revoked.token, 'token_revoked'],
    ] as const) {
      const stream = await TestStream.open(server.wsUrl)
      stream.send({ type: 'hello', token })
      expect(await stream.closed).toEqual({ code: 4401, reason: 'unauthorized' })
      expect(stream.frames).toEqual([{ type: 'error', error: { code, message: expect.any(String) } }])
    }
  })

  test('behavior: a stream that never says hello is closed with 4408', async () => {
    const stream = await TestStream.open(server.wsUrl)
    expect(await stream.closed).toEqual({ code: 4408, reason: 'no hello' })
    expect(stream.frames).toEqual([])
  })

  test('behavior: a frame that is not JSON gets an error frame', async () => {
    const { alice } = await pair()
    await using stream = await TestStream.connect(server.wsUrl, alice.token)
    stream.sendRaw('{"type":"ping"')
    expect(await stream.next((frame) => frame.type === 'error')).toMatchInlineSnapshot(`
      {
        "error": {
          "code": "invalid_json",
          "message": "Frames must be JSON text.",
        },
        "type": "error",
      }
    `)
    await stream.barrier()
    // Before hello, a bad frame also ends the connection.
    const fresh = await TestStream.open(server.wsUrl)
    fresh.sendRaw('hello')
    expect((await fresh.closed).code).toBe(4400)
    expect(fresh.frames).toEqual([{ type: 'error', error: { code: 'invalid_json', message: 'Frames must be JSON text.' } }])
  })

  test('behavior: an unknown frame type gets a validation error', async () => {
    const { alice } = await pair()
    await using stream = await TestStream.connect(server.wsUrl, alice.token)
    stream.sendRaw(JSON.stringify({ type: 'subscribe', ref: 'x-1', room: 'all' }))
    expect(await stream.next((frame) => frame.type === 'error')).toMatchInlineSnapshot(`
      {
        "error": {
          "code": "validation_failed",
          "message": "Invalid frame: type: Invalid discriminator value. Expected 'hello' | 'send' | 'ack' | 'ping'",
        },
        "ref": "x-1",
        "type": "error",
      }
    `)
    stream.sendRaw(JSON.stringify({ type: 'ack', cursor: 'latest' }))
    expect(await stream.next((frame) => frame.type === 'error')).toMatchInlineSnapshot(`
      {
        "error": {
          "code": "validation_failed",
          "message": "Invalid frame: cursor: Invalid input: expected number, received string",
        },
        "type": "error",
      }
    `)
    await stream.barrier()
  })

  test('behavior: a send before hello is refused with its ref', async () => {
    const { alice, bob, room } = await pair()
    const envelope = await alice.seal(bob, 'too early', { room })
    const before = await rowCounts(server)
    const stream = await TestStream.open(server.wsUrl)
    stream.send({ type: 'send', ref: 'early-1', envelope })
    expect(await stream.next()).toMatchInlineSnapshot(`
      {
        "error": {
          "code": "auth_required",
          "message": "Say hello with a token first.",
        },
        "ref": "early-1",
        "type": "error",
      }
    `)
    stream.close()
    expect(await rowCounts(server)).toEqual(before)
  })

  test('behavior: a second hello is refused and does not subscribe twice', async () => {
    const { alice, bob, room } = await pair()
    const stream = await TestStream.open(server.wsUrl)
    stream.send({ type: 'hello', token: alice.token, cursor: 0 })
    stream.send({ type: 'hello', token: alice.token, cursor: 0 })
    expect(await stream.next((frame) => frame.type === 'error')).toMatchInlineSnapshot(`
      {
        "error": {
          "code": "invalid_request",
          "message": "Already said hello.",
        },
        "type": "error",
      }
    `)
    await stream.next((frame) => frame.type === 'caught_up')
    const once = await bob.send(alice, 'once', { room })
    expect(once.status).toBe(200)
    await stream.next((frame) => frame.type === 'message')
    await stream.barrier()
    expect(stream.frames.filter((frame) => frame.type === 'ready')).toHaveLength(1)
    expect(stream.cursors()).toEqual(await positionsOf(server, [once.body.id]))
    stream.close()
  })

  test('behavior: a forged envelope over the stream is refused with its ref and not stored', async () => {
    const { alice, bob, room } = await pair()
    await using stream = await TestStream.connect(server.wsUrl, alice.token)
    const envelope = await alice.seal(bob, 'hello', { room })
    const before = await rowCounts(server)
    stream.send({ type: 'send', ref: 'forged', envelope: { ...envelope, messages: flipChar(envelope.messages) } })
    expect(await stream.next((frame) => frame.type === 'error')).toEqual({
      type: 'error',
      ref: 'forged',
      error: { code: 'invalid_signature', message: "The envelope signature does not verify with the sender's key." },
    })
    expect(await rowCounts(server)).toEqual(before)
  })

  test('behavior: a revoked session ends the stream at its next send', async () => {
    const { alice, bob, room } = await pair()
    const stream = await TestStream.connect(server.wsUrl, alice.token)
    await api(server.url, 'POST', '/v1/auth/revoke', { token: alice.token })
    stream.send({ type: 'send', ref: 'after-revoke', envelope: await alice.seal(bob, 'hello', { room }) })
    expect(await stream.next((frame) => frame.type === 'error')).toMatchObject({
      ref: 'after-revoke',
      error: { code: 'token_revoked' },
    })
    expect((await stream.closed).code).toBe(4401)
  })

  test('behavior: hello with a cursor replays exactly the entries after it, then caught_up', async () => {
    const { alice, bob, room } = await pair()
    const sent: P2PEnvelope[] = []
    for (let i = 1; i <= 6; i++) {
      const envelope = await alice.seal(bob, `message ${i}`, { room })
      expect((await alice.post(envelope)).status).toBe(200)
      sent.push(envelope)
    }
    const pos = await positionsOf(
      server,
      sent.map(({ id }) => id),
    )
    await using stream = await TestStream.connect(server.wsUrl, bob.token, pos[3])
    await stream.next((frame) => frame.type === 'caught_up')
    expect(stream.frames.map((frame) => frame.type)).toEqual(['ready', 'message', 'message', 'caught_up'])
    expect(stream.frames[0]).toEqual({ type: 'ready', address: bob.address, cursor: pos[3], latest: pos[5] })
    expect(stream.frames.slice(1, 3).map((frame) => [(frame as MessageFrame).cursor, envelopeOf(frame)])).toEqual([
      [pos[4], sent[4]],
      [pos[5], sent[5]],
    ])
    expect(stream.frames[3]).toEqual({ type: 'caught_up', cursor: pos[5] })

    // Without a cursor, the stream resumes after the last acknowledged entry.
    expect((await api(server.url, 'POST', '/v1/inbox/ack', { token: bob.token, body: { cursor: pos[4] } })).body).toEqual({
      acked: pos[4],
    })
    await using resumed = await TestStream.connect(server.wsUrl, bob.token)
    await resumed.next((frame) => frame.type === 'caught_up')
    expect(resumed.cursors()).toEqual([pos[5]])
  })

  test('behavior: a stream connecting while messages are written gets every cursor once, in order', async () => {
    for (const connectAfter of [0, 37, 100, 163]) {
      const { alice, bob, room } = await pair()
      const envelopes = await Promise.all(Array.from({ length: 200 }, (_, i) => alice.seal(bob, `burst ${i}`, { room })))
      let acknowledged = 0
      let next = 0
      const worker = async () => {
        while (next < envelopes.length) {
          const response = await alice.post(envelopes[next++])
          if (response.status !== 200) throw new Error(`send failed: ${response.text}`)
          acknowledged++
        }
      }
      const sending = Promise.all(Array.from({ length: 8 }, worker))
      await waitFor(() => acknowledged >= connectAfter, 10_000)
      await using stream = await TestStream.connect(server.wsUrl, bob.token, 0)
      await sending
      await waitFor(() => stream.cursors().length >= 200, 10_000)
      await stream.barrier()

      // Every position of the room, each once and in increasing order, whatever was written when
      // the stream connected (the positions are the stored ones, in commit order).
      const label = `connected after ${connectAfter} acknowledged sends`
      const stored = await positionsOf(
        server,
        envelopes.map(({ id }) => id),
      )
      const expected = stored.sort((a, b) => a - b)
      expect(new Set(expected).size).toBe(200)
      expect({ label, cursors: stream.cursors() }).toEqual({ label, cursors: expected })
      expect(stream.frames.filter((frame) => frame.type === 'caught_up')).toHaveLength(1)
      const delivered = stream.frames.flatMap((frame) => (frame.type === 'message' ? [envelopeOf(frame).id] : []))
      expect(new Set(delivered)).toEqual(new Set(envelopes.map((envelope) => envelope.id)))
      const inbox = await api(server.url, 'GET', '/v1/inbox?limit=1000', { token: bob.token })
      expect(inbox.body.entries.map((entry: any) => entry.message.envelope.id)).toEqual(delivered)
    }
  })
})
