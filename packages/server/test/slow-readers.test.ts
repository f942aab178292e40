/**
 * Slow consumers (issue 16, item 11), against a real server in its own process, so that its RSS
 * is the figure measured and no test code shares its heap. Members of a public room say hello on
 * their stream and then stop reading (their TCP sockets paused: the kernel's buffers fill, then
 * the server's), while another member sends 16 KB messages. The server must close each of them
 * with 1013 once its buffer passes the limit, keep its RSS bounded, keep serving an ordinary
 * reader, and give the closed readers everything when they resume from their cursors.
 *
 * The server runs from `dist` (`npx tsc -b` first; `npm test` builds).
 */
import { type ChildProcess, spawn } from 'node:child_process'
import fs from 'node:fs'
import type { Socket } from 'node:net'
import os from 'node:os'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import type { ServerFrame } from '@dmtp/protocol'
import pg from 'pg'
import { describe, expect, test } from 'vitest'
import { GroupWallet } from './_rooms.js'
import { DIALECTS, type DialectName, waitFor } from './_util.js'
import { TestStream } from './_wallet.js'

const SERVER_DIST = fileURLToPath(new URL('../dist/index.js', import.meta.url))
const postgresUrl = process.env.DMTP_TEST_POSTGRES_URL

/**
 * The server, plus its own memory over IPC: RSS sampled every 10 ms (peak since the last reset),
 * and what its heap and buffers retain after a full GC (garbage not yet collected is in the RSS).
 */
const SCRIPT = `
const { readEnv, envToConfig, envToSecrets, Server } = await import(process.env.DMTP_SERVER_DIST)
const env = readEnv()
const config = envToConfig(env)
for (const [key, value] of Object.entries(JSON.parse(process.env.DMTP_TEST_LIMITS))) {
  if (typeof value === 'object') Object.assign(config.limits[key], value)
  else config.limits[key] = value
}
const server = await Server.create(config, envToSecrets(env, config))
const url = await server.start()
let peak = process.memoryUsage.rss()
setInterval(() => { peak = Math.max(peak, process.memoryUsage.rss()) }, 10).unref()
process.on('message', (command) => {
  const rss = process.memoryUsage.rss()
  peak = Math.max(peak, rss)
  if (command === 'reset') peak = rss
  gc()
  const { heapUsed, arrayBuffers } = process.memoryUsage()
  process.send({ rss, peak, retained: heapUsed + arrayBuffers, sockets: server.app.websocketServer.clients.size })
})
process.on('SIGTERM', async () => { await server.destroy(); process.exit(0) })
process.send({ url })
`

type Memory = { rss: number; peak: number; retained: number; sockets: number }

const MB = 1024 * 1024
const TEXT = 'x'.repeat(16_000)
/** The sender sends as fast as it can: the message limits are not what is tested. */
const UNLIMITED = { messagesPerSecond: 100_000, messageBurst: 100_000, requestsPerMinute: 1_000_000 }

class MeasuredServer implements AsyncDisposable {
  private constructor(
    private readonly child: ChildProcess,
    readonly url: string,
    private readonly dataDir: string,
    private readonly schema: string | undefined,
  ) {}

  static async start(dialect: DialectName, limits: Record<string, unknown>): Promise<MeasuredServer> {
    const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'dmtp-slow-'))
    const schema = dialect === 'postgres' ? `t_slow_${Math.random().toString(36).slice(2, 10)}` : undefined
    const child = spawn(process.execPath, ['--expose-gc', '--input-type=module', '-e', SCRIPT], {
      env: {
        ...process.env,
        DMTP_SERVER_DIST: SERVER_DIST,
        DMTP_PORT: '0',
        DMTP_DATA_DIR: dataDir,
        DMTP_CHAIN: 'none',
        DMTP_LOG_LEVEL: 'warn',
        DMTP_TEST_LIMITS: JSON.stringify(limits),
        ...(schema ? { DMTP_DATABASE_URL: postgresUrl, DMTP_DATABASE_SCHEMA: schema } : {}),
      },
      stdio: ['ignore', 'ignore', 'pipe', 'ipc'],
    })
    let errors = ''
    child.stderr?.on('data', (chunk: Buffer) => {
      errors += chunk.toString()
    })
    const url = await new Promise<string>((resolve, reject) => {
      child.once('message', (message) => resolve((message as { url: string }).url))
      child.once('exit', (code) => reject(new Error(`server exited (${code}) before listening: ${errors.slice(-800)}`)))
    })
    return new MeasuredServer(child, url, dataDir, schema)
  }

  get wsUrl(): string {
    return `${this.url.replace(/^http/, 'ws')}/v1/stream`
  }

  /** The server's RSS now and its peak since the last reset, what it retains, and the WebSocket connections it holds. */
  memory(command: 'reset' | 'read' = 'read'): Promise<Memory> {
    return new Promise((resolve) => {
      this.child.once('message', (message) => resolve(message as Memory))
      this.child.send(command)
    })
  }

  async [Symbol.asyncDispose](): Promise<void> {
    if (this.child.exitCode === null) {
      this.child.kill('SIGTERM')
      await new Promise((resolve) => this.child.once('exit', resolve))
    }
    if (this.schema) {
      const client = new pg.Client({ connectionString: postgresUrl })
      await client.connect()
      await client.query(`DROP SCHEMA IF EXISTS "${this.schema}" CASCADE`)
      await client.end()
    }
    fs.rmSync(this.dataDir, { recursive: true, force: true })
  }
}

/** A public room of `readers` members besides its owner, each with a stream open at the newest position. */
async function roomWithReaders(server: MeasuredServer, readers: number) {
  const owner = await new GroupWallet(server.url).setup()
  const room = await owner.createRoom({ type: 'public' })
  const members = await Promise.all(Array.from({ length: readers }, () => new GroupWallet(server.url).setup()))
  for (const member of members) await member.must(room, { type: 'join' })
  const streams: TestStream[] = []
  for (const member of members) {
    const stream = await TestStream.connect(server.wsUrl, member.token, Number.MAX_SAFE_INTEGER)
    await stream.next((frame) => frame.type === 'caught_up')
    streams.push(stream)
  }
  return { owner, room, members, streams }
}

/** ws's TCP socket under a client stream: paused, nothing more is read from the kernel. */
const tcpOf = (stream: TestStream) => (stream.socket as unknown as { _socket: Socket })._socket

/** Sends `count` 16 KB messages to the room, `window` in flight; returns their ids in sending order. */
async function sendLarge(owner: GroupWallet, room: string, count: number, window = 4): Promise<string[]> {
  const ids: string[] = []
  let next = 0
  const worker = async () => {
    while (next < count) {
      next++
      ids.push(await owner.said(room, TEXT))
    }
  }
  await Promise.all(Array.from({ length: window }, worker))
  return ids
}

const messageCursors = (frames: ServerFrame[]) => frames.flatMap((frame) => (frame.type === 'message' ? [frame.cursor] : []))

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))

function expectRising(cursors: number[]): void {
  for (let i = 1; i < cursors.length; i++) expect(cursors[i]).toBeGreaterThan(cursors[i - 1] as number)
}

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
