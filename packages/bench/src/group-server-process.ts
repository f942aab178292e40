/**
 * The server of the group benchmarks, in its own process so the thousand clients of the bench
 * process do not share its event loop. Embedded defaults (SQLite, in-process pub/sub) with limits
 * raised for load, no chain and no periodic sync: anchoring is measured by the sync benchmark,
 * and a sync in the middle would write blocks and move the timings. JSON requests on stdin, one
 * answer line each:
 * - `{ seed: SeedRow[] }` writes members' key bundles, sessions and user rows (`_group-members.ts`),
 *   through a connection of its own to the server's SQLite file;
 * - `{ dbBytes: true }` folds the WAL into the database file and answers its size in pages in use
 *   (`page_count - freelist_count`, × `page_size`) and, from `dbstat`, per table and index;
 * - `{ cpu: true }` answers `{ cpuMs }`, the CPU time this process has used (every thread), and
 *   `roomEvents` and `bursts`: how many room events the server published so far, and in how many
 *   bursts (events published in the same turn of the event loop: one commit's worth, whose
 *   frames leave each socket in one `writev`). The pub/sub's `publish` is wrapped to count them;
 * - `{ writes: true }` answers `{ ms }` and forgets them: for each burst since the last such
 *   request, the time from its first publish until the event loop's next turn, when every
 *   socket has written its frames (each socket is corked until then).
 */
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import readline from 'node:readline'
import { envToConfig, envToSecrets, Server } from '@dmtp/server'
import Database from 'better-sqlite3'
import type { SeedRow } from './_group-members.js'
import { cpuMs } from './_stats.js'

const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'dmtp-bench-groups-'))
const env = {
  DMTP_PORT: 0,
  DMTP_DATA_DIR: dataDir,
  DMTP_LOG_LEVEL: 'warn',
  DMTP_CHAIN: 'none',
  DMTP_SYNC_INTERVAL: 86_400,
  DMTP_SYNC_EVERY: 100_000_000,
} as const
const config = envToConfig(env)
config.limits.messagesPerSecond = 1_000_000
config.limits.messageBurst = 1_000_000
config.limits.requestsPerMinute = 1_000_000
// Every benchmark client connects from 127.0.0.1: the per-IP cap is not what is measured.
config.limits.connectionsPerIp = 0
const server = await Server.create(config, envToSecrets(env, config))
const url = await server.start()
const { ctx } = server
if (ctx.config.db.provider !== 'sqlite') throw new Error('the group benchmarks run on SQLite')
const dbPath = ctx.config.db.path
process.stdout.write(`${JSON.stringify({ url, domain: ctx.identity.domain, chainId: ctx.identity.chainId })}\n`)

const published = { roomEvents: 0, bursts: 0 }
let burstMs: number[] = []
let inBurst = false
const publish = ctx.pubSub.publish.bind(ctx.pubSub)
ctx.pubSub.publish = (channel, event) => {
  if (channel.startsWith('room:')) {
    published.roomEvents++
    if (!inBurst) {
      inBurst = true
      published.bursts++
      const started = performance.now()
      process.nextTick(() => {
        inBurst = false
      })
      setImmediate(() => {
        if (burstMs.length < 100_000) burstMs.push(performance.now() - started)
      })
    }
  }
  publish(channel, event)
}

const stop = async () => {
  await server.destroy()
  fs.rmSync(dataDir, { recursive: true, force: true })
  process.exit(0)
}
process.on('SIGTERM', () => void stop())
process.on('SIGINT', () => void stop())

type Request = { seed: SeedRow[] } | { dbBytes: true } | { writes: true } | { cpu: true }

for await (const line of readline.createInterface({ input: process.stdin })) {
  const request = JSON.parse(line) as Request
  let answer: unknown
  if ('seed' in request) answer = seed(request.seed)
  else if ('dbBytes' in request) answer = dbBytes()
  else if ('writes' in request) {
    answer = { ms: burstMs }
    burstMs = []
  } else answer = { cpuMs: cpuMs(), ...published }
  process.stdout.write(`${JSON.stringify(answer)}\n`)
}

/** What `POST /v1/keys` and sign-in would have written, minus the wallet signatures. */
function seed(rows: SeedRow[]): { seeded: number } {
  const sqlite = open()
  try {
    const now = new Date().toISOString()
    const expires = new Date(Date.now() + 86_400_000).toISOString()
    const user = sqlite.prepare('insert into users (address, acked_pos, created_at) values (?, 0, ?) on conflict do nothing')
    const bundle = sqlite.prepare(
      'insert into key_bundles (cid, address, bundle, issued_at, created_at, replaced_at) values (?, ?, ?, ?, ?, null)',
    )
    const cid = sqlite.prepare("insert into cids (cid, kind, room_id, address, created_at) values (?, 'key', null, ?, ?)")
    const session = sqlite.prepare(
      'insert into sessions (token_hash, address, created_at, expires_at, revoked_at) values (?, ?, ?, ?, null)',
    )
    sqlite.transaction(() => {
      for (const row of rows) {
        user.run(row.address, now)
        bundle.run(row.cid, row.address, row.bundle, row.issuedAt, now)
        cid.run(row.cid, row.address, now)
        session.run(row.tokenHash, row.address, now, expires)
      }
    })()
    return { seeded: rows.length }
  } finally {
    sqlite.close()
  }
}

function dbBytes(): { bytes: number; pageSize: number; tables: Record<string, number> } {
  const sqlite = open()
  try {
    sqlite.pragma('wal_checkpoint(TRUNCATE)')
    const pageSize = sqlite.pragma('page_size', { simple: true }) as number
    const pages = sqlite.pragma('page_count', { simple: true }) as number
    const free = sqlite.pragma('freelist_count', { simple: true }) as number
    const rows = sqlite.prepare('select name, sum(pgsize) as bytes from dbstat group by name').all() as {
      name: string
      bytes: number
    }[]
    return { bytes: (pages - free) * pageSize, pageSize, tables: Object.fromEntries(rows.map((row) => [row.name, row.bytes])) }
  } finally {
    sqlite.close()
  }
}

function open(): Database.Database {
  const sqlite = new Database(dbPath)
  sqlite.pragma('busy_timeout = 5000')
  // As on the server's connection: its checkpointer thread folds the WAL into the file.
  sqlite.pragma('wal_autocheckpoint = 0')
  return sqlite
}
