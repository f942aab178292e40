/**
 * Slow consumers (issue 16, item 11): `readers` members of a public room hold a stream open and
 * never read it (their sockets are paused right after `caught_up`), while one member sends
 * 16 KB messages to the room for `seconds`, and at least `minMessages` of them (each paused
 * reader takes ~4-5 MB in kernel buffers before the server holds anything for it). Meanwhile `pairs` pairs of ordinary SDK clients, each
 * following its stream, send short 1:1 messages in a closed loop: their send p99 is measured
 * before the slow readers get any traffic (`baselineSendP99Ms`) and during the 16 KB run
 * (`sendP99Ms`).
 *
 * `slowReaderRssMb` is the server's peak RSS growth during the run, over its RSS once everyone
 * was connected (the server process samples itself every 10 ms: `slow-readers-server-process.ts`).
 * In a room one frame's bytes serve every reader, so what unread fan-out costs is bounded by the
 * messages sent; replays are each reader's own. So the readers then come back asking for
 * everything since they joined (~8 MB apiece) and read nothing again: `slowReplayRssMb`.
 * Every connection limit is at its default, so the figure is what an operator gets: the server
 * closes each reader once its buffer passes the limit (1013), instead of queueing for it.
 */
import type { Socket } from 'node:net'
import { nodeCryptoBackend } from '@dmtp/protocol/node'
import { createClient, type DmtpClient, privateKeyWallet } from '@dmtp/sdk'
import { generatePrivateKey } from 'viem/accounts'
import WebSocket from 'ws'
import { type Child, startChild } from '../_child.js'
import { makePairs, type Pair } from '../_pairs.js'
import { percentile, round } from '../_stats.js'

export type SlowReadersOptions = {
  readers: number
  seconds: number
  minMessages?: number
  /** Characters of each room message (16,000 is the most a text may hold). */
  messageChars?: number
  pairs?: number
  /** 1:1 sends in flight per pair. */
  window?: number
  /** The server's `limits.stream.bufferBytes` (default: its default); a huge one shows the cost without the bound. */
  streamBufferBytes?: number
}

export type SlowReadersResult = {
  slowReaderRssMb: number
  /** Peak RSS growth while the same readers replay the room's history without reading it. */
  slowReplayRssMb: number
  /** RSS growth once the run ended and closed connections were let go. */
  rssAfterMb: number
  /** Stream connections of slow readers the server still held at the end (0 when all were closed). */
  slowReadersOpen: number
  /** 16 KB room messages acknowledged during the run, and their rate. */
  roomMessages: number
  roomMsgsPerSecond: number
  /** Ordinary clients' 1:1 send latency, ms: before the run, and during it. */
  baselineSendP99Ms: number
  sendP99Ms: number
  sendP50Ms: number
  sends: number
}

type Memory = { rss: number; peak: number; sockets: number }

const MB = 1024 * 1024
/** After the run: time for the server to finish closing the slow readers (their close grace). */
const SETTLE_MS = 6_000
/** How long the replays are watched (less than the 10 s after which a stalled replay is closed). */
const REPLAY_MS = 3_000

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))

function client(server: string): DmtpClient {
  return createClient({ server, wallet: privateKeyWallet(generatePrivateKey()), crypto: nodeCryptoBackend })
}

/**
 * A stream that never reads: live only (waits for `caught_up`, then stops reading), or, with a
 * `cursor`, asking for the history after it and reading none of it.
 */
function neverReading(wsUrl: string, token: string, cursor?: number): Promise<WebSocket> {
  return new Promise((resolve, reject) => {
    const socket = new WebSocket(wsUrl, { perMessageDeflate: false })
    // ws's underlying TCP socket: paused, the kernel's buffers fill and then the server's.
    const pause = () => (socket as unknown as { _socket: Socket })._socket.pause()
    socket.on('open', () => {
      socket.send(JSON.stringify({ type: 'hello', token, cursor: cursor ?? Number.MAX_SAFE_INTEGER }))
      if (cursor === undefined) return
      pause()
      resolve(socket)
    })
    socket.on('message', (data: Buffer) => {
      if (!data.toString('latin1', 0, 24).startsWith('{"type":"caught_up"')) return
      pause()
      resolve(socket)
    })
    socket.on('error', reject)
  })
}

/** Follows a client's stream (so the server delivers to it as to any app) until closed. */
function follow(who: DmtpClient): Promise<() => void> {
  const stream = who.stream({ cursor: 'latest' })
  return new Promise((resolve) => {
    void (async () => {
      for await (const event of stream) if (event.type === 'caught_up') resolve(() => stream.close())
    })()
  })
}

/** Closed-loop 1:1 sends until `until()`; returns each send's latency (ms). */
async function sendLoop(pairs: Pair[], window: number, until: () => boolean, label: string): Promise<number[]> {
  const latencies: number[] = []
  await Promise.all(
    pairs.flatMap((pair, p) =>
      Array.from({ length: window }, async (_, w) => {
        for (let n = 0; !until(); n++) {
          const started = performance.now()
          await pair.alice.send(pair.bobAddress, `${label} ${p}:${w}:${n}`)
          latencies.push(performance.now() - started)
        }
      }),
    ),
  )
  return latencies.sort((a, b) => a - b)
}

export async function slowReaders({
  readers: readerCount,
  seconds,
  minMessages = 500,
  messageChars = 16_000,
  pairs: pairCount = 4,
  window = 4,
  streamBufferBytes,
}: SlowReadersOptions): Promise<SlowReadersResult> {
  const server: Child<{ url: string }> = await startChild(
    './slow-readers-server-process.js',
    streamBufferBytes === undefined ? [] : [String(streamBufferBytes)],
  )
  const sockets: WebSocket[] = []
  const unfollow: (() => void)[] = []
  try {
    const { url } = server.info
    const wsUrl = `${url.replace(/^http/, 'ws')}/v1/stream`
    const sender = client(url)
    await sender.setup()
    const { room } = await sender.rooms.create({ type: 'public', name: 'slow readers' })
    const readers = await Promise.all(
      Array.from({ length: readerCount }, async () => {
        const reader = client(url)
        await reader.setup()
        await reader.rooms.join(room.id)
        return (await reader.signIn()).token
      }),
    )
    for (const token of readers) sockets.push(await neverReading(wsUrl, token))
    const pairs = await makePairs(url, pairCount)
    for (const pair of pairs) unfollow.push(await follow(pair.alice), await follow(pair.bob))

    const baselineEnd = performance.now() + 2_000
    const baseline = await sendLoop(pairs, window, () => performance.now() > baselineEnd, 'baseline')
    const before = await server.request<Memory>({ rss: 'reset' })

    const text = 'x'.repeat(messageChars)
    const deadline = performance.now() + seconds * 1000
    let roomMessages = 0
    const sending = () => performance.now() < deadline || roomMessages < minMessages
    const started = performance.now()
    const [loaded] = await Promise.all([
      sendLoop(pairs, window, () => !sending(), 'loaded'),
      ...Array.from({ length: 4 }, async () => {
        while (sending()) {
          await sender.send(room.id, text)
          roomMessages++
        }
      }),
    ])
    const elapsed = (performance.now() - started) / 1000
    const during = await server.request<Memory>({ rss: 'read' })
    await sleep(SETTLE_MS)
    const after = await server.request<Memory>({ rss: 'read' })

    const replayBefore = await server.request<Memory>({ rss: 'reset' })
    for (const token of readers) sockets.push(await neverReading(wsUrl, token, 0))
    await sleep(REPLAY_MS)
    const replay = await server.request<Memory>({ rss: 'read' })
    return {
      slowReaderRssMb: round((during.peak - before.rss) / MB, 1),
      slowReplayRssMb: round((replay.peak - replayBefore.rss) / MB, 1),
      rssAfterMb: round((after.rss - before.rss) / MB, 1),
      // The pairs' own streams are the other sockets the server holds.
      slowReadersOpen: Math.max(0, after.sockets - unfollow.length),
      roomMessages,
      roomMsgsPerSecond: round(roomMessages / elapsed, 0),
      baselineSendP99Ms: round(percentile(baseline, 99), 2),
      sendP99Ms: round(percentile(loaded, 99), 2),
      sendP50Ms: round(percentile(loaded, 50), 2),
      sends: loaded.length,
    }
  } finally {
    for (const close of unfollow) close()
    for (const socket of sockets) socket.terminate()
    await server.stop()
  }
}
