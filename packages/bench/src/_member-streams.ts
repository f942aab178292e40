/**
 * Members online: one real `/v1/stream` connection each, said hello with its own session token
 * (and a cursor past everything, so nothing old is replayed), live once the server says
 * `caught_up`. The clients measure the server, not themselves: a frame is only looked at far
 * enough to know it is a `message` and which room position (`seq`) it carries.
 */
import WebSocket from 'ws'
import type { Member } from './_group-members.js'

const MESSAGE_PREFIX = Buffer.from('{"type":"message","cursor":')
const SEQ = '"seq":'
/** How many connections say hello at once, and how long one may take to catch up. */
const OPENING = 100
const OPEN_TIMEOUT_MS = 30_000

/** The room position of a stream `message` frame; undefined for any other frame. */
export function frameSeq(data: Buffer): number | undefined {
  if (
    data.length < MESSAGE_PREFIX.length ||
    data.compare(MESSAGE_PREFIX, 0, MESSAGE_PREFIX.length, 0, MESSAGE_PREFIX.length) !== 0
  ) {
    return undefined
  }
  let at = data.indexOf(SEQ, MESSAGE_PREFIX.length)
  if (at < 0) return undefined
  let seq = 0
  for (at += SEQ.length; at < data.length; at++) {
    const digit = (data[at] as number) - 48
    if (digit < 0 || digit > 9) break
    seq = seq * 10 + digit
  }
  return seq
}

export type FrameHandler = (data: Buffer, at: number) => void

/** One member's connection: frames go to `onFrame`, `send` frames out through `send`. */
export class MemberStream {
  onFrame: FrameHandler = () => {}

  private constructor(private readonly socket: WebSocket) {}

  static open(wsUrl: string, member: Member): Promise<MemberStream> {
    return new Promise((resolve, reject) => {
      const socket = new WebSocket(wsUrl, { perMessageDeflate: false })
      const stream = new MemberStream(socket)
      let live = false
      const timer = setTimeout(() => {
        reject(new Error(`no caught_up within ${OPEN_TIMEOUT_MS} ms`))
        socket.terminate()
      }, OPEN_TIMEOUT_MS)
      socket.on('open', () =>
        socket.send(JSON.stringify({ type: 'hello', token: member.token, cursor: Number.MAX_SAFE_INTEGER })),
      )
      socket.on('message', (data: Buffer) => {
        if (live) return stream.onFrame(data, performance.now())
        const text = data.toString()
        if (text.startsWith('{"type":"caught_up"')) {
          live = true
          clearTimeout(timer)
          resolve(stream)
        } else if (text.startsWith('{"type":"error"')) reject(new Error(`hello refused: ${text}`))
      })
      socket.on('error', reject)
      socket.on('close', (code, reason) => {
        if (!live) reject(new Error(`stream closed before caught_up: ${code} ${reason}`))
      })
    })
  }

  send(text: string): void {
    this.socket.send(text)
  }

  close(): Promise<void> {
    if (this.socket.readyState === WebSocket.CLOSED) return Promise.resolve()
    return new Promise((resolve) => {
      this.socket.once('close', () => resolve())
      this.socket.close()
    })
  }
}

/** Opens a stream for each member, `OPENING` at a time. */
export async function openStreams(wsUrl: string, members: Member[]): Promise<MemberStream[]> {
  const streams: MemberStream[] = []
  for (let i = 0; i < members.length; i += OPENING) {
    streams.push(...(await Promise.all(members.slice(i, i + OPENING).map((member) => MemberStream.open(wsUrl, member)))))
  }
  return streams
}

export async function closeStreams(streams: MemberStream[]): Promise<void> {
  await Promise.all(streams.map((stream) => stream.close()))
}
