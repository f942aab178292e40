/**
 * Fan-out of a public room whose members are all online: every member has a real `/v1/stream`
 * connection open, said hello with its own token, and the sender (a member too) sends over its
 * own stream. A message is one row whatever the room's size; after its commit the server
 * publishes one event for the room, and each member's connection writes the ready-made frame.
 *
 * - Latency: one send at a time, the next once the last member has it: from the `send` frame
 *   leaving the sender to the room's last member receiving the message (the sender's own copy
 *   included), and to the first. All clients run in this one process, so the last delivery also
 *   waits for this process to read the frames before it (the first delivery does not).
 * - Throughput: sends pipelined (`window` in flight), every message frame any member receives
 *   counted, from the first send to the last frame.
 */
import type { Child } from '../_child.js'
import type { SignedMessage } from '../_group-members.js'
import { pipeline, sendFrame } from '../_group-rooms.js'
import { frameSeq, type MemberStream } from '../_member-streams.js'
import { cpuMs, percentile, round } from '../_stats.js'

const SEND_TIMEOUT_MS = 30_000

type ServerCpu = { cpuMs: number; roomEvents: number; bursts: number }

/** Message frames per room position, and when the first and last arrived. */
class Deliveries {
  frames = 0
  /** When the newest counted frame arrived. */
  lastAt = 0
  private readonly bySeq = new Map<number, { count: number; first: number; last: number }>()
  private readonly waiting = new Map<number, () => void>()

  constructor(
    private readonly members: number,
    /** Frames of positions up to this one are not counted (earlier tests). */
    private readonly after = 0,
  ) {}

  add(data: Buffer, at: number): void {
    const seq = frameSeq(data)
    if (seq === undefined || seq <= this.after) return
    this.frames++
    this.lastAt = at
    let one = this.bySeq.get(seq)
    if (!one) {
      one = { count: 0, first: at, last: at }
      this.bySeq.set(seq, one)
    }
    one.count++
    one.last = at
    if (one.count === this.members) this.waiting.get(seq)?.()
  }

  /** When every member had position `seq`: the first and the last delivery. */
  async complete(seq: number): Promise<{ first: number; last: number }> {
    const one = this.bySeq.get(seq)
    if (!one || one.count < this.members) {
      await withTimeout(
        new Promise<void>((resolve) => this.waiting.set(seq, resolve)),
        () => `position ${seq} reached ${this.bySeq.get(seq)?.count ?? 0} of ${this.members} members`,
      )
      this.waiting.delete(seq)
    }
    const done = this.bySeq.get(seq) as { first: number; last: number }
    return { first: done.first, last: done.last }
  }
}

export type FanoutLatency = {
  members: number
  sends: number
  /** From the send to the last member's delivery. */
  p50: number
  p99: number
  max: number
  /** From the send to the first member's delivery. */
  firstP50: number
  firstP99: number
  /**
   * The server's part: from publishing the message to every socket having written its frame
   * (the event loop's next turn), measured in the server's process.
   */
  serverWriteP50: number
  serverWriteP99: number
  /** The sends before, not counted (a fresh server runs cold code). */
  warmup: { sends: number; p50: number; max: number }
  /** Bytes of one message frame as delivered. */
  frameBytes: number
  /** The room position of the last message sent. */
  lastSeq: number
}

export async function fanoutLatency(
  server: Child<unknown>,
  streams: MemberStream[],
  messages: SignedMessage[],
  { warmup }: { warmup: number },
): Promise<FanoutLatency> {
  const sender = streams[0] as MemberStream
  const deliveries = new Deliveries(streams.length)
  let frameBytes = 0
  const onMessage = (data: Buffer, at: number) => {
    frameBytes ||= data.length
    deliveries.add(data, at)
  }
  for (const stream of streams) stream.onFrame = onMessage
  let answer: ((frame: { type: string; result?: { seq: number }; error?: unknown }) => void) | undefined
  sender.onFrame = (data, at) => {
    if (frameSeq(data) !== undefined) return onMessage(data, at)
    answer?.(JSON.parse(data.toString()))
  }
  const lastMs: number[] = []
  const firstMs: number[] = []
  let lastSeq = 0
  for (const [i, { envelope, content }] of messages.entries()) {
    if (i === warmup) await server.request({ writes: true })
    const answered = new Promise<{ type: string; result?: { seq: number }; error?: unknown }>((resolve) => {
      answer = resolve
    })
    const started = performance.now()
    sender.send(sendFrame(String(i), envelope, content))
    const frame = await withTimeout(answered, () => `no answer to send ${i}`)
    if (frame.type !== 'sent' || !frame.result) throw new Error(`send ${i} failed: ${JSON.stringify(frame)}`)
    lastSeq = frame.result.seq
    const { first, last } = await deliveries.complete(lastSeq)
    lastMs.push(last - started)
    firstMs.push(first - started)
    // Each send completes before the next: let the server finish its turn first.
    await new Promise((resolve) => setImmediate(resolve))
  }
  const writes = (await server.request<{ ms: number[] }>({ writes: true })).ms.sort((a, b) => a - b)
  const measured = lastMs.slice(warmup).sort((a, b) => a - b)
  const first = firstMs.slice(warmup).sort((a, b) => a - b)
  const cold = lastMs.slice(0, warmup).sort((a, b) => a - b)
  return {
    members: streams.length,
    sends: measured.length,
    p50: round(percentile(measured, 50), 2),
    p99: round(percentile(measured, 99), 2),
    max: round(measured.at(-1) ?? Number.NaN, 2),
    firstP50: round(percentile(first, 50), 2),
    firstP99: round(percentile(first, 99), 2),
    serverWriteP50: round(percentile(writes, 50), 2),
    serverWriteP99: round(percentile(writes, 99), 2),
    warmup: { sends: cold.length, p50: round(percentile(cold, 50), 2), max: round(cold.at(-1) ?? Number.NaN, 2) },
    frameBytes,
    lastSeq,
  }
}

export type FanoutThroughput = {
  members: number
  messages: number
  window: number
  deliveriesPerSecond: number
  messagesPerSecond: number
  delivered: number
  expected: number
  acked: number
  errors: string[]
  seconds: number
  /** CPU per delivery: the server process, and this process (the clients), every thread. */
  serverCpuUsPerDelivery: number
  clientCpuUsPerDelivery: number
  /** Messages the server published per commit (their frames leave each socket in one `writev`). */
  messagesPerCommit: number
}

export async function fanoutThroughput(
  server: Child<unknown>,
  streams: MemberStream[],
  messages: SignedMessage[],
  { window, after }: { window: number; after: number },
): Promise<FanoutThroughput> {
  const deliveries = new Deliveries(streams.length, after)
  const expected = messages.length * streams.length
  let markDone: () => void = () => {}
  const done = new Promise<void>((resolve) => {
    markDone = resolve
  })
  const onMessage = (data: Buffer, at: number) => {
    deliveries.add(data, at)
    if (deliveries.frames === expected) markDone()
  }
  for (const stream of streams) stream.onFrame = onMessage
  const serverCpu = await server.request<ServerCpu>({ cpu: true })
  const clientCpu = cpuMs()
  const started = performance.now()
  const sent = await pipeline(streams[0] as MemberStream, messages, window, onMessage)
  await Promise.race([done, new Promise((resolve) => setTimeout(resolve, 60_000))])
  const seconds = ((deliveries.lastAt || performance.now()) - started) / 1000
  const clientCpuMs = cpuMs() - clientCpu
  const serverAfter = await server.request<ServerCpu>({ cpu: true })
  const serverCpuMs = serverAfter.cpuMs - serverCpu.cpuMs
  return {
    members: streams.length,
    messages: messages.length,
    window,
    deliveriesPerSecond: round(deliveries.frames / seconds, 0),
    messagesPerSecond: round(sent.acked / seconds, 0),
    delivered: deliveries.frames,
    expected,
    acked: sent.acked,
    errors: sent.errors,
    seconds: round(seconds, 2),
    serverCpuUsPerDelivery: round((serverCpuMs * 1000) / Math.max(1, deliveries.frames), 2),
    clientCpuUsPerDelivery: round((clientCpuMs * 1000) / Math.max(1, deliveries.frames), 2),
    messagesPerCommit: round(
      (serverAfter.roomEvents - serverCpu.roomEvents) / Math.max(1, serverAfter.bursts - serverCpu.bursts),
      2,
    ),
  }
}

function withTimeout<T>(promise: Promise<T>, what: () => string): Promise<T> {
  let timer: NodeJS.Timeout | undefined
  return Promise.race([
    promise.finally(() => clearTimeout(timer)),
    new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`timed out: ${what()}`)), SEND_TIMEOUT_MS)
    }),
  ])
}
