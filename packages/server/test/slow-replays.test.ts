/**
 * Slow consumers during a replay (issue 16, item 11): readers that resume from an old cursor and
 * then do not read wait for the replay to pause, each holding little, and lose nothing. The server
 * runs in its own process (_slow-readers.ts).
 */
import { describe, expect, test } from 'vitest'
import { GroupWallet } from './_rooms.js'
import { expectRising, MB, MeasuredServer, sendLarge, sleep, tcpOf, UNLIMITED } from './_slow-readers.js'
import { DIALECTS } from './_util.js'
import { TestStream } from './_wallet.js'

describe.each(DIALECTS)('slow readers (%s)', (dialect) => {
  test('behavior: replays to readers that do not read wait for them, holding little each, and lose nothing', async () => {
    await using server = await MeasuredServer.start(dialect, UNLIMITED)
    const owner = await new GroupWallet(server.url).setup()
    const room = await owner.createRoom({ type: 'public' })
    const members = await Promise.all(Array.from({ length: 30 }, () => new GroupWallet(server.url).setup()))
    for (const member of members) await member.must(room, { type: 'join' })
    await sendLarge(owner, room, 600)
    const before = await server.memory('reset')

    // Each asks for everything since it joined, then reads nothing: ~10 MB of history apiece.
    const streams = await Promise.all(
      members.map(async (member) => {
        const stream = await TestStream.open(server.wsUrl)
        tcpOf(stream).pause()
        stream.send({ type: 'hello', token: member.token, cursor: 0 })
        return stream
      }),
    )
    await sleep(3_000)
    const during = await server.memory()
    const retainedMb = (during.retained - before.retained) / MB
    console.log(
      `[slow readers, ${dialect}] replays to 30 paused readers × 600 × 16 KB: RSS growth ${((during.peak - before.rss) / MB).toFixed(1)} MB at peak, ${retainedMb.toFixed(1)} MB retained`,
    )
    // About a socket buffer's worth each (half of 1 MiB, and a copy of it in flight), not their ~10 MB.
    expect(retainedMb).toBeLessThan(30 * 2.5)

    for (const stream of streams) tcpOf(stream).resume()
    await Promise.all(streams.map((stream) => stream.next((frame) => frame.type === 'caught_up', 60_000)))
    const cursors = streams.map((stream) =>
      stream.frames.flatMap((frame) => (frame.type === 'message' && 'envelope' in frame.message ? [frame.cursor] : [])),
    )
    expect(cursors[0]).toHaveLength(600)
    expectRising(cursors[0] as number[])
    for (const each of cursors) expect(each).toEqual(cursors[0])
    for (const stream of streams) await stream[Symbol.asyncDispose]()
  }, 180_000)
})
