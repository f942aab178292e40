/**
 * Floors measured in the same run on the same machine: what a bare WebSocket round trip and a
 * bare SQLite insert can do. DMTP's figures are read against these, not against a guess.
 */
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import Database from 'better-sqlite3'
import WebSocket from 'ws'
import type { Child } from '../_child.js'
import { percentile, round } from '../_stats.js'

const PAYLOAD = JSON.stringify({ type: 'send', ref: '1', envelope: { messages: 'x'.repeat(620) } })

export async function wsEchoFloor(
  port: number,
  { connections, messages, window }: { connections: number; messages: number; window: number },
) {
  const perConnection = Math.ceil(messages / connections)
  const sockets = await Promise.all(
    Array.from(
      { length: connections },
      () =>
        new Promise<WebSocket>((resolve, reject) => {
          const socket = new WebSocket(`ws://127.0.0.1:${port}`)
          socket.on('open', () => resolve(socket))
          socket.on('error', reject)
        }),
    ),
  )
  const started = performance.now()
  let echoed = 0
  await Promise.all(
    sockets.map(
      (socket) =>
        new Promise<void>((resolve) => {
          let sent = 0
          let back = 0
          socket.on('message', () => {
            echoed++
            if (++back === perConnection) resolve()
            else if (sent < perConnection) {
              sent++
              socket.send(PAYLOAD)
            }
          })
          for (; sent < Math.min(window, perConnection); sent++) socket.send(PAYLOAD)
        }),
    ),
  )
  const seconds = (performance.now() - started) / 1000
  for (const socket of sockets) socket.close()
  return { perSecond: round(echoed / seconds, 0), seconds: round(seconds, 2) }
}

type BroadcastCounts = { cpuMs: number; frames: number; flushes: number }

/**
 * Fan-out without DMTP, on `connections` sockets to the broadcast server, frames of `frameBytes`:
 * first `paced` frames one at a time, each timed from leaving the sender to the last socket
 * receiving it (as the group latency test times a message); then `messages` frames with
 * `window` in flight (the sender's own copy coming back lets the next one go), every frame any
 * socket receives counted. Same connection count, frame size and window as the group tests.
 */
export async function wsBroadcastFloor(
  server: Child<{ port: number }>,
  {
    connections,
    messages,
    window,
    frameBytes,
    paced,
  }: { connections: number; messages: number; window: number; frameBytes: number; paced: number },
) {
  const { port } = server.info
  const sockets: WebSocket[] = []
  for (let i = 0; i < connections; i += 100) {
    const opening = Array.from(
      { length: Math.min(100, connections - i) },
      () =>
        new Promise<WebSocket>((resolve, reject) => {
          const socket = new WebSocket(`ws://127.0.0.1:${port}`, { perMessageDeflate: false })
          socket.on('open', () => resolve(socket))
          socket.on('error', reject)
        }),
    )
    sockets.push(...(await Promise.all(opening)))
  }
  const payload = JSON.stringify({ type: 'message', message: 'x'.repeat(Math.max(0, frameBytes - 31)) })
  const sender = sockets[0] as WebSocket
  let onFrame: (fromSender: boolean) => void = () => {}
  for (const socket of sockets) socket.on('message', () => onFrame(socket === sender))

  const lastMs: number[] = []
  for (let i = 0; i < paced; i++) {
    let received = 0
    const started = performance.now()
    await new Promise<void>((resolve) => {
      onFrame = () => {
        if (++received === connections) resolve()
      }
      sender.send(payload)
    })
    lastMs.push(performance.now() - started)
    await new Promise((resolve) => setImmediate(resolve))
  }

  const expected = messages * connections
  let delivered = 0
  let sent = 0
  let lastAt = 0
  const before = await server.request<BroadcastCounts>({ cpu: true })
  const started = performance.now()
  await new Promise<void>((resolve) => {
    onFrame = (fromSender) => {
      lastAt = performance.now()
      if (++delivered === expected) resolve()
      if (fromSender && sent < messages) {
        sent++
        sender.send(payload)
      }
    }
    for (; sent < Math.min(window, messages); sent++) sender.send(payload)
  })
  const seconds = (lastAt - started) / 1000
  const after = await server.request<BroadcastCounts>({ cpu: true })
  for (const socket of sockets) socket.close()
  const sorted = lastMs.sort((a, b) => a - b)
  return {
    perSecond: round(delivered / seconds, 0),
    connections,
    messages,
    frameBytes: payload.length,
    seconds: round(seconds, 2),
    /** The broadcast server's CPU per delivery, every thread. */
    serverCpuUsPerDelivery: round(((after.cpuMs - before.cpuMs) * 1000) / delivered, 2),
    /** Frames per batch (their copies leave each socket in one `writev`). */
    framesPerFlush: round((after.frames - before.frames) / Math.max(1, after.flushes - before.flushes), 2),
    /** The paced frames: to the last socket. */
    lastP50: round(percentile(sorted, 50), 2),
    lastP99: round(percentile(sorted, 99), 2),
  }
}

export function sqliteInsertFloor({ rows, batch }: { rows: number; batch: number }) {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'dmtp-floor-'))
  const db = new Database(path.join(dir, 'floor.sqlite'))
  db.pragma('journal_mode = WAL')
  db.pragma('synchronous = NORMAL')
  db.exec(`create table messages (id text primary key, room_id text not null, seq integer not null, sender text not null,
    receiver text not null, timestamp text not null, cid text not null unique, envelope text not null, e2ee integer not null,
    received_at text not null)`)
  const insert = db.prepare('insert into messages values (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)')
  const envelope = JSON.stringify({ messages: 'x'.repeat(620) })
  const writeBatch = db.transaction((start: number) => {
    for (let i = start; i < start + batch; i++) {
      insert.run(
        `id-${i}`,
        'room',
        i,
        '0xSender',
        '0xReceiver',
        '2026-01-01T00:00:00.000Z',
        `cid-${i}`,
        envelope,
        1,
        '2026-01-01T00:00:00.000Z',
      )
    }
  })
  const started = performance.now()
  for (let start = 0; start < rows; start += batch) writeBatch(start)
  const seconds = (performance.now() - started) / 1000
  db.close()
  fs.rmSync(dir, { recursive: true, force: true })
  return { perSecond: round(rows / seconds, 0), seconds: round(seconds, 2) }
}
