/**
 * A slow consumer is closed by the server with 1013 (issue 16, item 11) and loses nothing: the
 * SDK's stream reconnects by itself and resumes from its cursor (the database is the truth).
 * The reader's first connection stops reading (its TCP socket paused) while 16 KB messages are
 * sent to it, until the server's buffer for it passes the limit; then it reads again.
 */
import type { Socket } from 'node:net'
import { nodeCryptoBackend } from '@dmtp/protocol/node'
import { generatePrivateKey } from 'viem/accounts'
import { describe, expect, test } from 'vitest'
import WebSocket from 'ws'
import { unlimited } from '../../server/test/_rooms.js'
import { createClient, privateKeyWallet, type StreamEvent, type WebSocketLike } from '../src/index.js'
import { collect, DIALECTS, messagesOf, newClient, TestServer } from './_util.js'

/** `ws`, but the first connection stops reading once it is live, until `resume()`. */
function pausingFirstConnection() {
  let opened = 0
  let first: WebSocket | undefined
  class PausingWebSocket extends WebSocket {
    constructor(url: string) {
      super(url)
      if (opened++ > 0) return
      first = this
      this.on('message', (data: Buffer) => {
        if (data.toString('latin1', 0, 20).startsWith('{"type":"caught_up"')) tcpOf(this).pause()
      })
    }
  }
  return {
    WebSocket: PausingWebSocket as unknown as WebSocketLike,
    get opened() {
      return opened
    },
    resume: () => first && tcpOf(first).resume(),
  }
}

const tcpOf = (socket: WebSocket) => (socket as unknown as { _socket: Socket })._socket

describe.each(DIALECTS)('stream: slow consumer (%s)', (dialect) => {
  test('default: closed with 1013, the stream reconnects from its cursor and yields every message once, in order', async () => {
    await using server = await TestServer.create({
      dialect,
      configure: (config) => {
        unlimited(config)
        // Long enough for the paused reader to be resumed and read the close frame.
        config.limits.stream.closeGraceMs = 30_000
      },
    })
    const alice = newClient(server.url, undefined, { node: true })
    const socket = pausingFirstConnection()
    const bob = createClient({
      server: server.url,
      wallet: privateKeyWallet(generatePrivateKey()),
      crypto: nodeCryptoBackend,
      WebSocket: socket.WebSocket,
    })
    await Promise.all([alice.setup(), bob.setup()])
    const bobAddress = (await bob.getWallet()).address
    const stream = bob.stream()
    await collect(stream, (events) => events.some((event) => event.type === 'caught_up'))

    // ~22 KB frames: more than the kernel's socket buffers (~4-5 MB on loopback) and the server's 1 MiB.
    const texts = Array.from({ length: 400 }, (_, i) => `${i} ${'x'.repeat(15_990)}`)
    // One at a time, so the room's order is the order of `texts`.
    for (const text of texts) await alice.send(bobAddress, text)
    socket.resume()

    const events: StreamEvent[] = await collect(stream, (seen) => messagesOf(seen).length >= texts.length, 60_000)
    expect(messagesOf(events).map((message) => message.text)).toEqual(texts)
    expect(events.filter((event) => event.type === 'disconnected')).toEqual([
      { type: 'disconnected', reason: 'slow consumer: reconnect and resume', retryInMs: expect.any(Number) },
    ])
    expect(events.filter((event) => event.type === 'connected')).toEqual([
      { type: 'connected', cursor: expect.any(Number), latest: expect.any(Number), resumed: true },
    ])
    expect(events.filter((event) => event.type === 'gap' || event.type === 'rejected')).toEqual([])
    expect(socket.opened).toBe(2)
    stream.close()
  }, 120_000)
})
