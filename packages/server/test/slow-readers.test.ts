/**
 * Slow consumers (issue 16, item 11), against a real server in its own process, so that its RSS
 * is the figure measured and no test code shares its heap. Members of a public room say hello on
 * their stream and then stop reading (their TCP sockets paused: the kernel's buffers fill, then
 * the server's), while another member sends 16 KB messages. The server must close each of them
 * with 1013 once its buffer passes the limit, keep its RSS bounded, keep serving an ordinary
 * reader, and give the closed readers everything when they resume from their cursors.
 *
 *
 * Replays to readers that do not read: slow-replays.test.ts (split so CI runs them side by side).
 */
import { describe, expect, test } from 'vitest'
import type { GroupWallet } from './_rooms.js'
import {
  expectRising,
  MB,
  MeasuredServer,
  messageCursors,
  roomWithReaders,
  sendLarge,
  tcpOf,
  UNLIMITED,
} from './_slow-readers.js'
import { DIALECTS, waitFor } from './_util.js'
import { TestStream } from './_wallet.js'

describe.each(DIALECTS)('slow readers (%s)', (dialect) => {
  test('default: readers that stop reading are closed with 1013, RSS stays bounded, an ordinary reader gets everything, the closed ones resume from their cursors', async () => {
    // The grace is long here so the paused readers can be resumed in time to read the close frame.
    await using server = await MeasuredServer.start(dialect, { ...UNLIMITED, stream: { closeGraceMs: 60_000 } })
    const { owner, room, members, streams } = await roomWithReaders(server, 51)
    const [ordinary, ...slow] = streams as [TestStream, ...TestStream[]]
    for (const stream of slow) tcpOf(stream).pause()
    const before = await server.memory('reset')

    // Each paused reader takes ~4-5 MB in kernel buffers before the server buffers anything.
    const sent = 600
    await sendLarge(owner, room, sent)
    const during = await server.memory()
    await waitFor(() => messageCursors(ordinary.frames).length === sent, 30_000)
    const everything = messageCursors(ordinary.frames)
    expectRising(everything)

    const growthMb = (during.peak - before.rss) / MB
    console.log(
      `[slow readers, ${dialect}] server RSS growth ${growthMb.toFixed(1)} MB at peak: ${sent} × 16 KB to 50 paused readers`,
    )
    expect(growthMb).toBeLessThan(100)

    for (const stream of slow) tcpOf(stream).resume()
    const closes = await Promise.all(slow.map((stream) => stream.closed))
    expect(new Set(closes.map((close) => `${close.code} ${close.reason}`))).toEqual(
      new Set(['1013 slow consumer: reconnect and resume']),
    )
    for (const stream of slow) {
      const cursors = messageCursors(stream.frames)
      // Cut off part way: what it got is the start of everything, and not all of it.
      expect(cursors).toEqual(everything.slice(0, cursors.length))
      expect(cursors.length).toBeLessThan(sent)
    }
    // The ordinary reader was never closed.
    await ordinary.barrier()

    // Each resumes after the last cursor it saw and gets the rest, each once, in order.
    const resumes = slow.map((stream, i) => ({
      seen: messageCursors(stream.frames),
      token: (members[i + 1] as GroupWallet).token,
    }))
    for (let i = 0; i < resumes.length; i += 10) {
      await Promise.all(
        resumes.slice(i, i + 10).map(async ({ seen, token }) => {
          await using resumed = await TestStream.connect(server.wsUrl, token, seen.at(-1) ?? 0)
          await resumed.next((frame) => frame.type === 'caught_up', 30_000)
          expect([...seen, ...messageCursors(resumed.frames)]).toEqual(everything)
        }),
      )
    }
    // Nothing of theirs is left open on the server: only the ordinary reader's connection.
    await waitFor(async () => (await server.memory()).sockets === 1, 5_000)
  }, 180_000)

  test('behavior: a reader that never reads again is dropped after the close grace, and what was buffered for it is freed', async () => {
    await using server = await MeasuredServer.start(dialect, { ...UNLIMITED, stream: { closeGraceMs: 1_000 } })
    const { owner, room, streams } = await roomWithReaders(server, 21)
    const [ordinary, ...slow] = streams as [TestStream, ...TestStream[]]
    for (const stream of slow) tcpOf(stream).pause()
    const before = await server.memory('reset')
    await sendLarge(owner, room, 600)
    await waitFor(() => messageCursors(ordinary.frames).length === 600, 30_000)

    // Only the ordinary reader's connection is left once the grace is over.
    await waitFor(async () => (await server.memory()).sockets === 1, 5_000)
    const after = await server.memory()
    console.log(
      `[slow readers, ${dialect}] dropped: RSS growth ${((after.peak - before.rss) / MB).toFixed(1)} MB at peak, ${((after.rss - before.rss) / MB).toFixed(1)} MB after`,
    )
    expect((after.peak - before.rss) / MB).toBeLessThan(100)
    await ordinary.barrier()
    for (const stream of slow) stream.socket.terminate()
  }, 120_000)
})
