/**
 * WAL growth under sustained 1:1 sends (issue 16, item 12): real SDK clients send in a closed loop
 * for `seconds` to receivers that follow their streams, against a fresh server process on SQLite.
 * The WAL file beside the database is sampled throughout; `walBytes` is the largest size seen (the
 * disk the WAL needed), so `walKbPerMessage` stays small only if checkpoints keep the WAL bounded,
 * however long the run.
 */
import fs from 'node:fs'
import path from 'node:path'
import { type Child, startChild } from '../_child.js'
import { makePairs } from '../_pairs.js'
import { round } from '../_stats.js'

export type WalGrowthResult = {
  walKbPerMessage: number
  /** Messages acknowledged during the run. */
  messages: number
  /** The largest WAL file size seen during and right after the run. */
  walBytes: number
  /** The database file's size at the end. */
  dbBytes: number
  msgsPerSecond: number
}

const SAMPLE_MS = 50

function fileSize(file: string): number {
  try {
    return fs.statSync(file).size
  } catch {
    return 0
  }
}

async function drain(events: AsyncIterable<unknown>): Promise<void> {
  for await (const _ of events) {
    // Deliveries are not measured here.
  }
}

export async function walGrowth({
  pairs: pairCount,
  seconds,
  window,
}: {
  pairs: number
  seconds: number
  window: number
}): Promise<WalGrowthResult> {
  const server: Child<{ url: string; dataDir: string }> = await startChild('./server-process.js')
  try {
    const database = path.join(server.info.dataDir, 'dmtp.sqlite')
    const pairs = await makePairs(server.info.url, pairCount)
    const streams = pairs.map((pair) => pair.bob.stream({ cursor: 'latest' }))
    // Receivers read as a real app does, so the server serves stream reads while it writes.
    for (const stream of streams) void drain(stream)
    let walBytes = 0
    const sampler = setInterval(() => {
      walBytes = Math.max(walBytes, fileSize(`${database}-wal`))
    }, SAMPLE_MS)
    let messages = 0
    const started = performance.now()
    const deadline = started + seconds * 1000
    await Promise.all(
      pairs.flatMap((pair, p) =>
        Array.from({ length: window }, async (_, w) => {
          for (let n = 0; performance.now() < deadline; n++) {
            await pair.alice.send(pair.bobAddress, `wal ${p}:${w}:${n} ${'x'.repeat(64)}`)
            messages++
          }
        }),
      ),
    )
    const elapsed = (performance.now() - started) / 1000
    clearInterval(sampler)
    walBytes = Math.max(walBytes, fileSize(`${database}-wal`))
    for (const stream of streams) stream.close()
    return {
      walKbPerMessage: round(walBytes / 1024 / Math.max(1, messages), 3),
      messages,
      walBytes,
      dbBytes: fileSize(database),
      msgsPerSecond: round(messages / elapsed, 0),
    }
  } finally {
    await server.stop()
  }
}
