/**
 * The SQLite WAL stays bounded under sustained sends (issue 16, item 12): before the fix, one
 * minute of sends left a 2.1 GB WAL beside an 89 MB database (~35–49 KB of WAL per message),
 * because PASSIVE checkpoints never let the WAL restart under back-to-back transactions. Readers
 * run all along (history pages, a live stream), and a foreign connection holding a snapshot may
 * delay the truncation but never stalls sends. SQLite only: PostgreSQL has no WAL file of ours.
 */
import fs from 'node:fs'
import path from 'node:path'
import Database from 'better-sqlite3'
import { describe, expect, test } from 'vitest'
import { WAL_TRUNCATE_BYTES } from '../src/db/sqlite-checkpointer.js'
import { TestServer, waitFor } from './_util.js'
import { api, TestStream, TestWallet } from './_wallet.js'

const MAX_WAL_KB_PER_MESSAGE = 2

function walBytes(server: TestServer): number {
  try {
    return fs.statSync(path.join(server.options.dataDir, 'dmtp.sqlite-wal')).size
  } catch {
    return 0
  }
}

const unlimited = (config: { limits: { messagesPerSecond: number; messageBurst: number; requestsPerMinute: number } }) => {
  config.limits.messagesPerSecond = 1_000_000
  config.limits.messageBurst = 1_000_000
  config.limits.requestsPerMinute = 1_000_000
}

type Pair = { alice: TestWallet; bob: TestWallet; room: string }

async function makePairs(server: TestServer, count: number): Promise<Pair[]> {
  return Promise.all(
    Array.from({ length: count }, async () => {
      const alice = await new TestWallet(server.url).setup()
      const bob = await new TestWallet(server.url).setup()
      return { alice, bob, room: await alice.openRoom(bob.address) }
    }),
  )
}

/**
 * Closed-loop sends from every pair, `window` in flight each, until `messages` are acked (a count,
 * not a duration: a loaded machine makes the run longer, not smaller). Returns the worst latency.
 */
async function sustainedSends(pairs: Pair[], { messages, window }: { messages: number; window: number }) {
  let started = 0
  let acked = 0
  let worstMs = 0
  await Promise.all(
    pairs.flatMap(({ alice, bob, room }, p) =>
      Array.from({ length: window }, async (_, w) => {
        for (let n = 0; started++ < messages; n++) {
          const envelope = await alice.seal(bob, `sustained ${p}:${w}:${n} ${'x'.repeat(200)}`, { room })
          const started = performance.now()
          const answer = await alice.post(envelope)
          worstMs = Math.max(worstMs, performance.now() - started)
          if (answer.status !== 200) throw new Error(`send failed: ${answer.text}`)
          acked++
        }
      }),
    ),
  )
  return { acked, worstMs }
}

describe('the SQLite WAL under sustained sends', () => {
  test('default: the WAL stays under the bound per message, with readers active all along', { timeout: 180_000 }, async () => {
    await using server = await TestServer.create({ configure: unlimited })
    const pairs = await makePairs(server, 4)
    const first = pairs[0] as Pair
    await using stream = await TestStream.connect(server.wsUrl, first.bob.token)
    let peak = 0
    const sampler = setInterval(() => {
      peak = Math.max(peak, walBytes(server))
    }, 20)
    let reading = true
    // History pages, one after another, while the sends run: readers never starve the checkpoint.
    const reader = (async () => {
      let pages = 0
      while (reading) {
        const page = await api(server.url, 'GET', `/v1/rooms/${first.room}/messages?limit=100`, { token: first.bob.token })
        expect(page.status).toBe(200)
        pages++
      }
      return pages
    })()
    const { acked } = await sustainedSends(pairs, { messages: 4_000, window: 8 })
    reading = false
    const pages = await reader
    clearInterval(sampler)
    peak = Math.max(peak, walBytes(server))

    expect(pages).toBeGreaterThan(10)
    expect(stream.cursors().length).toBeGreaterThan(0)
    // Enough traffic that an unbounded WAL (9–35 KB per message) would be far over the bound.
    expect(acked).toBe(4_000)
    expect(peak / 1024 / acked).toBeLessThanOrEqual(MAX_WAL_KB_PER_MESSAGE)
    // Bounded by the truncation size, not by the length of the run.
    expect(peak).toBeLessThan(3 * WAL_TRUNCATE_BYTES)
    const history = await api(server.url, 'GET', `/v1/rooms/${first.room}/messages?limit=1`, { token: first.bob.token })
    expect(history.status).toBe(200)
  })

  test('behavior: an idle server truncates its WAL to zero bytes', async () => {
    await using server = await TestServer.create({ configure: unlimited })
    const pairs = await makePairs(server, 1)
    await sustainedSends(pairs, { messages: 200, window: 4 })
    expect(walBytes(server)).toBeGreaterThan(0)
    await waitFor(() => walBytes(server) === 0, 5_000)
  })

  test('behavior: a foreign connection holding a snapshot delays the truncation but never stalls sends', {
    timeout: 120_000,
  }, async () => {
    await using server = await TestServer.create({ configure: unlimited })
    const pairs = await makePairs(server, 2)
    // An operator's `sqlite3` shell in the middle of a read transaction.
    const shell = new Database(path.join(server.options.dataDir, 'dmtp.sqlite'), { readonly: true })
    shell.exec('begin')
    shell.prepare('select count(*) from messages').get()
    let previous = 0
    let shrank = false
    const sampler = setInterval(() => {
      const bytes = walBytes(server)
      shrank ||= bytes < previous
      previous = bytes
    }, 20)
    try {
      const { worstMs } = await sustainedSends(pairs, { messages: 1_000, window: 8 })
      // Each attempt waits at most ~50 ms for the shell, then backs off: sends never stall for long.
      expect(worstMs).toBeLessThan(1_000)
      // The snapshot pins the WAL: it could not be reset meanwhile.
      expect(walBytes(server)).toBeGreaterThan(0)
      expect(shrank).toBe(false)
    } finally {
      clearInterval(sampler)
      shell.exec('commit')
      shell.close()
    }
    await waitFor(() => walBytes(server) === 0, 15_000)
  })
})
