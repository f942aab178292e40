/**
 * End to end through the real SDK and server, all client crypto on this machine's cores:
 * encrypt + sign (sender), verify + persist + fan out (server), verify + decrypt (receiver).
 * Senders have a stream open too (as a real app does), so they also receive their own messages.
 */
import type { DmtpClient, StreamReturnType } from '@dmtp/sdk'
import { makePairs, type Pair } from '../_pairs.js'
import { percentile, round } from '../_stats.js'

type OnMessage = (text: string, at: number) => void

function follow(client: DmtpClient, onMessage: OnMessage | undefined) {
  const stream = client.stream({ cursor: 'latest' })
  const caughtUp = new Promise<void>((resolve) => {
    void (async () => {
      for await (const event of stream) {
        if (event.type === 'caught_up') resolve()
        else if (event.type === 'message' && event.message.text !== null) onMessage?.(event.message.text, performance.now())
      }
    })()
  })
  return { stream, caughtUp }
}

/** Opens a stream for every client; only the receivers' (bob's) messages are reported. */
async function openStreams(pairs: Pair[], onReceived: OnMessage): Promise<StreamReturnType[]> {
  const followers = pairs.flatMap((pair) => [follow(pair.alice, undefined), follow(pair.bob, onReceived)])
  await Promise.all(followers.map((f) => f.caughtUp))
  return followers.map((f) => f.stream)
}

export async function p2pThroughput(
  server: string,
  { pairs: pairCount, messages, window }: { pairs: number; messages: number; window: number },
) {
  const pairs = await makePairs(server, pairCount)
  let delivered = 0
  let markDone: () => void = () => {}
  const done = new Promise<void>((resolve) => {
    markDone = resolve
  })
  const streams = await openStreams(pairs, (text) => {
    if (text.startsWith('bench ') && ++delivered === messages) markDone()
  })
  const perPair = Math.ceil(messages / pairCount)
  let acked = 0
  const started = performance.now()
  await Promise.all(
    pairs.map(async (pair, p) => {
      const total = Math.max(0, Math.min(perPair, messages - p * perPair))
      let next = 0
      const worker = async () => {
        while (next < total) {
          const n = next++
          await pair.alice.send(pair.bobAddress, `bench ${p}:${n} ${'x'.repeat(64)}`)
          acked++
        }
      }
      await Promise.all(Array.from({ length: window }, worker))
    }),
  )
  await Promise.race([done, new Promise((resolve) => setTimeout(resolve, 60_000))])
  const seconds = (performance.now() - started) / 1000
  for (const stream of streams) stream.close()
  return { msgsPerSecond: round(Math.min(acked, delivered) / seconds, 0), acked, delivered, seconds: round(seconds, 2) }
}

/**
 * Open loop at `rate` messages/s: from the `send()` call to the receiver's decrypted event. The
 * first `warmupSeconds` at the same rate are reported apart (`coldP99`): a freshly started server
 * and client run cold code (V8 has not optimized the hot paths yet), and a cold start's slow
 * messages cluster in its first second.
 */
export async function deliveryLatency(
  server: string,
  {
    pairs: pairCount,
    rate,
    seconds,
    warmupSeconds = 1,
  }: { pairs: number; rate: number; seconds: number; warmupSeconds?: number },
) {
  const pairs = await makePairs(server, pairCount)
  const sentAt = new Map<string, number>()
  const latencies: number[] = []
  const coldLatencies: number[] = []
  const streams = await openStreams(pairs, (text, at) => {
    const start = sentAt.get(text)
    if (start === undefined) return
    ;(text.startsWith('warm-up') ? coldLatencies : latencies).push(at - start)
    sentAt.delete(text)
  })
  const sends: Promise<unknown>[] = []
  // Open loop: messages leave on schedule whether or not earlier ones were delivered.
  const openLoop = (count: number, label: string) =>
    new Promise<void>((resolve) => {
      const started = performance.now()
      let sent = 0
      const timer = setInterval(() => {
        const due = Math.min(count, Math.ceil(((performance.now() - started) / 1000) * rate))
        while (sent < due) {
          const pair = pairs[sent % pairs.length] as Pair
          const text = `${label} ${sent}`
          sentAt.set(text, performance.now())
          sends.push(pair.alice.send(pair.bobAddress, text))
          sent++
        }
        if (sent >= count) {
          clearInterval(timer)
          resolve()
        }
      }, 2)
    })
  await openLoop(rate * warmupSeconds, 'warm-up')
  const total = rate * seconds
  await openLoop(total, 'probe')
  await Promise.all(sends)
  const deadline = performance.now() + 10_000
  while (latencies.length < total && performance.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 20))
  for (const stream of streams) stream.close()
  const sorted = latencies.sort((a, b) => a - b)
  return {
    p50: round(percentile(sorted, 50), 2),
    p99: round(percentile(sorted, 99), 2),
    max: round(sorted.at(-1) ?? Number.NaN, 2),
    delivered: latencies.length,
    sent: total,
    /** The warm-up's own p99, for comparison: a cold server and client. */
    coldP99: round(
      percentile(
        coldLatencies.sort((a, b) => a - b),
        99,
      ),
      2,
    ),
  }
}
