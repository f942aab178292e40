/**
 * Moderation reaches open streams at once: a mute refuses the muted member's very next send over
 * its stream; a kick, ban or leave is delivered to the removed member's stream, and nothing of
 * that room after it; a join adds the room to a stream that is already open.
 */
import type { ServerFrame } from '@dmtp/protocol'
import { afterAll, beforeAll, describe, expect, test } from 'vitest'
import { type GroupWallet, groupWallets, unlimited } from './_rooms.js'
import { DIALECTS, TestClock, TestServer } from './_util.js'
import { TestStream } from './_wallet.js'

type MessageFrame = Extract<ServerFrame, { type: 'message' }>

/** The room of a stream frame's record (a message or a log entry). */
function roomOf(frame: ServerFrame): string | undefined {
  if (frame.type !== 'message') return undefined
  const record = frame.message
  return 'entry' in record ? record.entry.room : record.envelope.room
}

function eventType(frame: ServerFrame): string | undefined {
  return frame.type === 'message' && 'entry' in frame.message ? frame.message.entry.event.type : undefined
}

describe.each(DIALECTS)('room streams (%s)', (dialect) => {
  let server: TestServer
  let clock: TestClock
  let owner: GroupWallet
  let member: GroupWallet
  let other: GroupWallet

  beforeAll(async () => {
    clock = new TestClock()
    server = await TestServer.create({ dialect, clock, configure: unlimited })
    ;[owner, member, other] = (await groupWallets(server, 3, () => clock.now())) as [GroupWallet, GroupWallet, GroupWallet]
  })
  afterAll(async () => {
    await server[Symbol.asyncDispose]()
  })

  async function roomWith(...members: GroupWallet[]): Promise<string> {
    const room = await owner.createRoom({ name: 'Live' })
    for (const wallet of members) await wallet.must(room, { type: 'join' })
    return room
  }

  /** Sends a text over the stream and waits for its answer (`sent` or `error`). */
  async function sendOver(stream: TestStream, wallet: GroupWallet, room: string, text: string): Promise<ServerFrame> {
    const content = { type: 'text' as const, text }
    const { envelope } = await wallet.sealSigned(room, content)
    const ref = `r-${envelope.id}`
    stream.send({ type: 'send', ref, envelope, content })
    return stream.next((frame) => (frame.type === 'sent' || frame.type === 'error') && frame.ref === ref)
  }

  test('default: a muted member’s next send over its stream is refused', async () => {
    const room = await roomWith(member)
    await using stream = await TestStream.connect(server.wsUrl, member.token)
    expect(await sendOver(stream, member, room, 'before')).toMatchObject({ type: 'sent' })
    await owner.must(room, { type: 'mute', members: [member.address], until: null })
    const refused = await sendOver(stream, member, room, 'after')
    expect(refused).toMatchObject({ type: 'error', error: { code: 'muted' } })
    // The mute itself reached the stream as a log entry.
    await stream.next((frame) => roomOf(frame) === room && eventType(frame) === 'mute')
    await owner.must(room, { type: 'unmute', members: [member.address] })
    expect(await sendOver(stream, member, room, 'again')).toMatchObject({ type: 'sent' })
  })

  test('behavior: a mute with an end lifts for the stream too', async () => {
    const room = await roomWith(member)
    await using stream = await TestStream.connect(server.wsUrl, member.token)
    const until = new Date(clock.now().getTime() + 60_000).toISOString()
    await owner.must(room, { type: 'mute', members: [member.address], until })
    expect(await sendOver(stream, member, room, 'now?')).toMatchObject({ type: 'error', error: { code: 'muted' } })
    clock.advance(61_000)
    expect(await sendOver(stream, member, room, 'now')).toMatchObject({ type: 'sent' })
  })

  test.each([
    'kick',
    'ban',
    'leave',
  ] as const)('behavior: after a %s the stream delivers that entry, then nothing more of the room', async (removal) => {
    const room = await roomWith(member, other)
    const stays = await roomWith(member)
    await using stream = await TestStream.connect(server.wsUrl, member.token)
    await other.said(room, 'before')
    await stream.next((frame) => roomOf(frame) === room && frame.type === 'message' && !('entry' in frame.message))
    if (removal === 'kick') await owner.must(room, { type: 'kick', members: [member.address] })
    if (removal === 'ban') await owner.must(room, { type: 'ban', members: [member.address], until: null, removeMessages: false })
    if (removal === 'leave') await member.must(room, { type: 'leave' })
    const removed = await stream.next<MessageFrame>((frame) => roomOf(frame) === room && eventType(frame) === removal)
    // Everything that follows in that room stays away from this stream.
    await other.said(room, 'after')
    await owner.must(room, { type: 'update', name: 'Renamed' })
    await owner.must(room, { type: 'mute', members: [other.address], until: null })
    const elsewhere = await owner.said(stays, 'still here')
    await stream.next(
      (frame) => frame.type === 'message' && 'envelope' in frame.message && frame.message.envelope.id === elsewhere,
    )
    await stream.barrier()
    const fromRoom = stream.frames.filter((frame) => roomOf(frame) === room) as MessageFrame[]
    expect(fromRoom.at(-1)).toEqual(removed)
    expect(fromRoom.filter((frame) => frame.cursor > removed.cursor)).toEqual([])
    if (removal !== 'leave') {
      expect(await sendOver(stream, member, room, 'let me back')).toMatchObject({
        type: 'error',
        error: { code: removal === 'ban' ? 'banned' : 'not_member' },
      })
    }
    // A stream opened afterwards does not replay the room beyond the removal either.
    await using fresh = await TestStream.connect(server.wsUrl, member.token, 0)
    await fresh.next((frame) => frame.type === 'caught_up')
    const replayed = fresh.frames.filter((frame) => roomOf(frame) === room) as MessageFrame[]
    expect(replayed.at(-1)?.cursor).toBe(removed.cursor)
  })

  test('behavior: a join adds the room to an open stream, from the join on', async () => {
    const room = await roomWith(other)
    const earlier = await other.said(room, 'said before the join')
    await using stream = await TestStream.connect(server.wsUrl, member.token)
    await member.must(room, { type: 'join' })
    await stream.next((frame) => roomOf(frame) === room && eventType(frame) === 'join')
    const after = await other.said(room, 'said after the join')
    await stream.next((frame) => frame.type === 'message' && 'envelope' in frame.message && frame.message.envelope.id === after)
    const ids = stream.frames.flatMap((frame) =>
      frame.type === 'message' && 'envelope' in frame.message ? [frame.message.envelope.id] : [],
    )
    expect(ids).not.toContain(earlier)
  })
})
