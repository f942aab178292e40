/**
 * Rooms for the group benchmarks through the real HTTP API: create a public room, join it with
 * many members at once (signed join events, a bounded number in flight as real clients would),
 * read its log head, send over HTTP or pipelined over a member's stream.
 */
import type { MessageContent, RoomEvent, SignedEnvelope } from '@dmtp/protocol'
import { type Member, randomId, type SignedMessage, signEvent } from './_group-members.js'
import type { MemberStream } from './_member-streams.js'

/** A request that takes longer has hung: the benchmark fails rather than waits. */
const REQUEST_TIMEOUT_MS = 60_000

export class Api {
  constructor(readonly url: string) {}

  /** One request; throws unless the server answered 2xx. */
  async call<T = any>(method: 'GET' | 'POST', path: string, token: string, body?: unknown): Promise<T> {
    const response = await fetch(`${this.url}${path}`, {
      method,
      signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS),
      headers: { authorization: `Bearer ${token}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
      body: body === undefined ? undefined : JSON.stringify(body),
    })
    const text = await response.text()
    if (!response.ok) throw new Error(`${method} ${path}: ${response.status} ${text}`)
    return JSON.parse(text) as T
  }

  /** Creates a public room owned by `owner`; returns its id. */
  async createRoom(owner: Member, name: string): Promise<string> {
    const room = randomId()
    const event = await signEvent(owner, room, {
      type: 'create',
      roomType: 'public',
      name,
      description: 'DMTP bench',
      announce: false,
      avatar: null,
    })
    await this.call('POST', '/v1/rooms', owner.token, { event })
    return room
  }

  postEvent(member: Member, room: string, event: RoomEvent): Promise<{ entry: unknown }> {
    return this.call('POST', `/v1/rooms/${room}/events`, member.token, { event })
  }

  /** Signs every member's join first, then posts them, `concurrency` in flight; returns the posting time (ms). */
  async joinAll(room: string, members: Member[], concurrency: number): Promise<number> {
    const events: RoomEvent[] = []
    for (const member of members) events.push(await signEvent(member, room, { type: 'join' }))
    const started = performance.now()
    let next = 0
    const worker = async () => {
      while (next < members.length) {
        const i = next++
        const { entry } = await this.postEvent(members[i] as Member, room, events[i] as RoomEvent)
        if (entry === null) throw new Error(`${(members[i] as Member).address} was a member already`)
      }
    }
    await Promise.all(Array.from({ length: Math.min(concurrency, members.length) }, worker))
    return performance.now() - started
  }

  async room(member: Member, room: string): Promise<{ memberCount: number; messageCount: number; logHead: string }> {
    const { room: info } = await this.call<{
      room: { memberCount: number; messageCount: number; logHead: { cid: string } | null }
    }>('GET', `/v1/rooms/${room}`, member.token)
    if (!info.logHead) throw new Error(`room ${room} has no log`)
    return { memberCount: info.memberCount, messageCount: info.messageCount, logHead: info.logHead.cid }
  }

  send(member: Member, message: SignedMessage): Promise<{ seq: number }> {
    return this.call('POST', '/v1/messages', member.token, message)
  }
}

/** The `send` frame of a signed message. */
export function sendFrame(ref: string, envelope: SignedEnvelope, content: MessageContent): string {
  return JSON.stringify({ type: 'send', ref, envelope, content })
}

const SENT_PREFIX = '{"type":"sent"'
const ERROR_PREFIX = '{"type":"error"'

/**
 * Sends `messages` over the sender's own stream, `window` in flight: each `sent` (or `error`)
 * lets the next one go. `onFrame` gets every other frame (the sender is a member too). Resolves
 * with the acknowledged count once every message is answered.
 */
export function pipeline(
  stream: MemberStream,
  messages: SignedMessage[],
  window: number,
  onFrame: (data: Buffer, at: number) => void = () => {},
): Promise<{ acked: number; errors: string[] }> {
  return new Promise((resolve) => {
    if (messages.length === 0) return resolve({ acked: 0, errors: [] })
    let next = 0
    let answered = 0
    let acked = 0
    const errors: string[] = []
    const pump = () => {
      const message = messages[next]
      if (!message) return
      stream.send(sendFrame(String(next), message.envelope, message.content))
      next++
    }
    stream.onFrame = (data, at) => {
      const head = data.toString('latin1', 0, 16)
      if (head.startsWith(SENT_PREFIX)) acked++
      else if (head.startsWith(ERROR_PREFIX)) {
        if (errors.length < 5) errors.push(data.toString())
      } else return onFrame(data, at)
      if (++answered === messages.length) return resolve({ acked, errors })
      pump()
    }
    for (let i = 0; i < Math.min(window, messages.length); i++) pump()
  })
}
