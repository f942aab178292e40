/**
 * Floors measured in the same run on the same machine: what a bare WebSocket round trip and a
 * bare SQLite insert can do. DMTP's figures are read against these, not against a guess.
 */
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import Database from 'better-sqlite3'
import WebSocket from 'ws'
import { round } from '../_stats.js'

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
