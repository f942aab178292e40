/**
 * The server of the slow-reader tests (issue 16, item 11) in its own process, so that its RSS is
 * the figure measured and no test code shares its heap; and what those tests share.
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
import { expect } from 'vitest'
import { GroupWallet } from './_rooms.js'
import type { DialectName } from './_util.js'
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

export type Memory = { rss: number; peak: number; retained: number; sockets: number }

export const MB = 1024 * 1024
export const TEXT = 'x'.repeat(16_000)
/** The sender sends as fast as it can: the message limits are not what is tested. */
export const UNLIMITED = { messagesPerSecond: 100_000, messageBurst: 100_000, requestsPerMinute: 1_000_000 }

export class MeasuredServer implements AsyncDisposable {
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
export async function roomWithReaders(server: MeasuredServer, readers: number) {
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
export const tcpOf = (stream: TestStream) => (stream.socket as unknown as { _socket: Socket })._socket

/** Sends `count` 16 KB messages to the room, `window` in flight; returns their ids in sending order. */
export async function sendLarge(owner: GroupWallet, room: string, count: number, window = 4): Promise<string[]> {
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

export const messageCursors = (frames: ServerFrame[]) =>
  frames.flatMap((frame) => (frame.type === 'message' ? [frame.cursor] : []))

export const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))

export function expectRising(cursors: number[]): void {
  for (let i = 1; i < cursors.length; i++) expect(cursors[i]).toBeGreaterThan(cursors[i - 1] as number)
}
