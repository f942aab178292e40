/**
 * `npm run bench`: DMTP's throughput and latency, next to floors measured in the same run on the
 * same machine. Prints a table; `-- --json` prints one JSON object on stdout instead (the table
 * goes to stderr). Results are also written to bench-results/latest.json.
 *
 * Every scenario gets a fresh server process on embedded defaults (SQLite, in-process pub/sub),
 * but the sync benchmark, whose server runs in this process so it can grow the history directly
 * in the database. The group benchmarks share one server process, which writes their members'
 * keys and sessions into its database before they start (`scenarios/groups.ts`).
 */
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { type Child, startChild } from './_child.js'
import { round } from './_stats.js'
import { sqliteInsertFloor, wsBroadcastFloor, wsEchoFloor } from './scenarios/floors.js'
import { privateGroupBench } from './scenarios/group-keys.js'
import { privateGroupFigures, privateGroupRows } from './scenarios/group-keys-report.js'
import { groupBenchmarks } from './scenarios/groups.js'
import { type MigrationResult, migrationCost, migrationCosts } from './scenarios/migration.js'
import { deliveryLatency, p2pThroughput } from './scenarios/p2p.js'
import { privateRoomScale } from './scenarios/private-room.js'
import { serverOnly } from './scenarios/server-only.js'
import { slowReaders } from './scenarios/slow-readers.js'
import { type SyncStep, syncCost, syncTable } from './scenarios/sync.js'
import { walGrowth } from './scenarios/wal.js'
import { bundleSize, CHROMIUM, type WebResult, webDist, webScenario } from './scenarios/web.js'

const json = process.argv.includes('--json')
const quick = process.argv.includes('--quick')
const scale = quick ? 0.1 : 1
const log = (line: string) => process.stderr.write(`${line}\n`)

async function withServer<T>(fn: (url: string) => Promise<T>): Promise<T> {
  const server: Child<{ url: string }> = await startChild('./server-process.js')
  try {
    return await fn(server.info.url)
  } finally {
    await server.stop()
  }
}

log(`DMTP bench on ${os.cpus().length} × ${os.cpus()[0]?.model ?? 'cpu'}, Node ${process.version}${quick ? ' (quick)' : ''}`)
// The 1-minute load average before and after: other work on a shared host moves every figure.
const loadBefore = round(os.loadavg()[0] as number, 2)

log('floor: SQLite inserts…')
const sqlite = sqliteInsertFloor({ rows: Math.round(100_000 * scale), batch: 512 })

log('floor: WebSocket echo…')
const echoServer: Child<{ port: number }> = await startChild('./echo-server.js')
const echo = await wsEchoFloor(echoServer.info.port, { connections: 8, messages: Math.round(60_000 * scale), window: 64 })
await echoServer.stop()

log('server only: replayed envelopes…')
const replay = await withServer((url) =>
  serverOnly(url, { pairs: 8, messages: Math.round(40_000 * scale), window: 64, warmup: Math.round(5_000 * scale) }),
)

log('end to end: SDK clients, acknowledged and decrypted…')
const p2p = await withServer((url) => p2pThroughput(url, { pairs: 8, messages: Math.round(20_000 * scale), window: 32 }))

log('delivery latency at 500 messages/s…')
const latency = await withServer((url) => deliveryLatency(url, { pairs: 4, rate: 500, seconds: quick ? 2 : 6 }))

log('hardening: sustained 1:1 sends, the SQLite WAL watched…')
const wal = await walGrowth({ pairs: 8, seconds: quick ? 5 : 20, window: 32 })
log('hardening: 50 stream readers that never read, 16 KB messages…')
const slow = await slowReaders({ readers: 50, seconds: quick ? 3 : 8 })

// Quick runs make the rooms smaller: the keys named 1000 and 10k then hold the figures at 200 and 2,000.
const groupSize = quick ? 200 : 1_000
const joins = quick ? 2_000 : 10_000
log(`groups: a public room of ${groupSize.toLocaleString('en-US')} members online, then ${joins.toLocaleString('en-US')} joins…`)
const groups = await groupBenchmarks({
  members: groupSize,
  latencySends: quick ? 50 : 200,
  warmupSends: quick ? 10 : 20,
  pipelined: quick ? 200 : 300,
  window: 16,
  storedMessages: quick ? 500 : 2_000,
  storageRounds: 4,
  joins,
})
log('floor: WebSocket broadcast…')
const broadcastServer: Child<{ port: number }> = await startChild('./broadcast-server.js')
const broadcast = await wsBroadcastFloor(broadcastServer, {
  connections: groupSize,
  messages: groups.throughput.messages,
  window: groups.throughput.window,
  frameBytes: groups.latency.frameBytes,
  paced: groups.latency.sends,
})
await broadcastServer.stop()

// Private groups on the client, no server: new epochs, adding a member, 1 KiB messages, and
// Signal's sender keys (libsignal-client) for the same sizes in this process.
const privateGroups = await privateGroupBench({ repetitions: quick ? 3 : 7, messages: quick ? 1_000 : 2_000, log })
const privateGroupResults = privateGroupFigures(privateGroups)
const privateMembers = quick ? 2_000 : 10_000
log(`private groups: a room of ${privateMembers.toLocaleString('en-US')} members through the server: create, rotate, send, read…`)
const privateRoom = await privateRoomScale({ members: privateMembers })

const migrationRuns = quick ? 1 : 3
log(`pattern β: migrating 10,000 relayed messages${migrationRuns > 1 ? `, ${migrationRuns} times` : ''}…`)
const migration = await migrationCosts({ messages: 10_000, runs: migrationRuns })
// Three times the queue should cost three times as much: each page is read by seeking its cursor.
if (!quick) log('pattern β: migrating 30,000 relayed messages (does the cost per message hold?)…')
const largeMigration = quick ? undefined : await migrationCost({ messages: 30_000 })

// Quick runs stop the history at 100k: the 1M keys then hold the figures at 100k.
const histories = quick ? [1_000, 10_000, 100_000] : [1_000, 10_000, 100_000, 1_000_000]
const largest = (histories.at(-1) as number).toLocaleString('en-US')
log(`sync cost as history grows to ${largest} messages…`)
const sync = await syncCost({ histories, added: 1_000, largeAdded: 10_000 })
const syncAtLargest = sync.steps.at(-2) as SyncStep
const largeSync = sync.steps.at(-1) as SyncStep

// The web app: its initial JavaScript, and opening a 10,000-message conversation in Chromium.
const dist = webDist()
let web: WebResult | undefined
if (!dist) log('web: skipped, packages/web/dist is missing (npm run build)')
else if (!fs.existsSync(CHROMIUM)) log(`web: opening skipped, no Chromium at ${CHROMIUM} (apt-get install -y chromium)`)
else {
  log('web app: opening a 10,000-message conversation in Chromium…')
  web = await webScenario({ messages: 10_000, runs: 3 }).catch((error: Error) => {
    log(`web: opening failed: ${error.message}`)
    return undefined
  })
}
const webBundle = web ? { kb: web.bundleGzipKb, files: web.bundleFiles } : dist ? bundleSize(dist) : undefined

const result = {
  machine: {
    date: new Date().toISOString(),
    cpus: os.cpus().length,
    cpu: os.cpus()[0]?.model ?? 'unknown',
    memoryGiB: round(os.totalmem() / 2 ** 30, 0),
    node: process.version,
    quick,
    loadAverage: { before: loadBefore, after: round(os.loadavg()[0] as number, 2) },
  },
  p2p_acked_msgs_per_s: p2p.msgsPerSecond,
  server_only_msgs_per_s: replay.msgsPerSecond,
  delivery_p50_ms: latency.p50,
  delivery_p99_ms: latency.p99,
  floor_ws_echo_per_s: echo.perSecond,
  floor_sqlite_inserts_per_s: sqlite.perSecond,
  group_fanout_1000_p99_ms: groups.latency.p99,
  group_fanout_deliveries_per_s: groups.throughput.deliveriesPerSecond,
  floor_ws_broadcast_per_s: broadcast.perSecond,
  group_msg_bytes_per_member: groups.storage.ratio,
  public_join_10k_ms: groups.join.ms,
  ...privateGroupResults.keys,
  private_10k_rotate_make_ms: privateRoom.rotateMakeMs,
  private_10k_rotate_upload_ms: privateRoom.rotateUploadMs,
  private_10k_send_ms: privateRoom.sendMs,
  private_10k_catch_up_ms: privateRoom.catchUpMs,
  sync_ms_10k_on_1m: largeSync.ms,
  sync_bytes_10k_on_1m: largeSync.bytes,
  flat_manifest_bytes_at_1m: syncAtLargest.flatBytes,
  gas_per_sync: Math.max(...sync.steps.map((step) => step.gas)),
  gas_per_sync_constant: sync.gasConstant,
  beta_server_reencrypt_10k_ms: migration.serverReencryptMs,
  beta_client_reencrypt_10k_ms: migration.clientReencryptMs,
  beta_server_reencrypt_30k_ms: largeMigration?.serverReencryptMs ?? null,
  beta_client_reencrypt_30k_ms: largeMigration?.clientReencryptMs ?? null,
  wal_kb_per_message: wal.walKbPerMessage,
  slow_reader_rss_mb: slow.slowReaderRssMb,
  web_bundle_gzip_kb: webBundle?.kb ?? null,
  web_open_10k_ms: web?.open10kMs ?? null,
  ratios: {
    server_only_vs_ws_echo: round(replay.msgsPerSecond / echo.perSecond, 3),
    server_only_vs_sqlite_inserts: round(replay.msgsPerSecond / sqlite.perSecond, 3),
    p2p_vs_server_only: round(p2p.msgsPerSecond / replay.msgsPerSecond, 3),
    group_fanout_vs_ws_broadcast: round(groups.throughput.deliveriesPerSecond / broadcast.perSecond, 3),
    group_fanout_vs_ws_echo: round(groups.throughput.deliveriesPerSecond / echo.perSecond, 3),
    ...privateGroupResults.ratios,
  },
  targets: { private_groups: privateGroupResults.targets },
  details: {
    p2p,
    replay,
    latency,
    echo,
    sqlite,
    groups,
    broadcast,
    privateGroups,
    privateRoom,
    sync: sync.steps,
    syncSetup: { seeding: sync.seeding, seconds: sync.seconds },
    migration,
    largeMigration: largeMigration ?? null,
    wal,
    slowReaders: slow,
    web: web ?? (webBundle ? { bundleGzipKb: webBundle.kb, bundleFiles: webBundle.files } : null),
  },
}

const rows: [string, string, string][] = [
  ['p2p_acked_msgs_per_s', String(result.p2p_acked_msgs_per_s), 'SDK → server → SDK, encrypted, signed, acked, decrypted'],
  [
    'server_only_msgs_per_s',
    String(result.server_only_msgs_per_s),
    `replayed envelopes, verified, persisted, delivered; after a warm-up (whole run: ${replay.coldMsgsPerSecond}/s)`,
  ],
  ['delivery_p50_ms', String(result.delivery_p50_ms), `at 500 msg/s after 1 s of warm-up, send() call → decrypted at receiver`],
  [
    'delivery_p99_ms',
    String(result.delivery_p99_ms),
    `(max ${latency.max} ms, ${latency.delivered}/${latency.sent} delivered; warm-up second: p99 ${latency.coldP99} ms)`,
  ],
  ['floor_ws_echo_per_s', String(result.floor_ws_echo_per_s), 'bare ws round trips, same connections and window'],
  ['floor_sqlite_inserts_per_s', String(result.floor_sqlite_inserts_per_s), 'bare prepared inserts, 512 per transaction, WAL'],
  ['server_only / ws echo', String(result.ratios.server_only_vs_ws_echo), ''],
  ['server_only / sqlite inserts', String(result.ratios.server_only_vs_sqlite_inserts), ''],
  ...groupRows(),
  ...privateGroupRows(privateGroups),
  ...privateRoomRows(),
  [
    'sync_ms_10k_on_1m',
    String(result.sync_ms_10k_on_1m),
    `syncNow() of ${largeSync.added.toLocaleString('en-US')} new on ${largeSync.history.toLocaleString('en-US')} anchored, storeCID included`,
  ],
  ['sync_bytes_10k_on_1m', String(result.sync_bytes_10k_on_1m), 'its manifest'],
  [
    'flat_manifest_bytes_at_1m',
    String(result.flat_manifest_bytes_at_1m),
    `the seeds' flat file for the sync at ${largest}: all ${(syncAtLargest.history + syncAtLargest.added).toLocaleString('en-US')} CIDs`,
  ],
  [
    'gas_per_sync',
    String(result.gas_per_sync),
    `storeCID, max over ${sync.steps.length} syncs (${sync.gasConstant ? 'all equal' : 'not all equal'})`,
  ],
  [
    'beta_server_reencrypt_10k_ms',
    String(result.beta_server_reencrypt_10k_ms),
    `key bundle stored → 10,000 handoffs written (open, re-seal, sign, store)${runsNote(migration.serverRunsMs)}`,
  ],
  [
    'beta_client_reencrypt_10k_ms',
    String(result.beta_client_reencrypt_10k_ms),
    `migrate(): fetch, check, re-encrypt, sign, upload; server swaps and deletes${runsNote(migration.clientRunsMs)}`,
  ],
  [
    '  CPU during migrate()',
    `${round((migration.clientCpuMs + migration.serverCpuMs) / 1000, 2)} s`,
    `client ${migration.clientCpuMs} ms + server ${migration.serverCpuMs} ms on ${os.cpus().length} cores (the median run); Ed25519 alone ${migration.ed25519CpuMs} ms`,
  ],
  [
    'beta_server_reencrypt_30k_ms',
    String(result.beta_server_reencrypt_30k_ms ?? 'n/a'),
    largeMigration ? `the same for 30,000: ${perMessage(largeMigration, migration, 'serverReencryptMs')}` : 'skipped (quick)',
  ],
  [
    'beta_client_reencrypt_30k_ms',
    String(result.beta_client_reencrypt_30k_ms ?? 'n/a'),
    largeMigration ? `the same for 30,000: ${perMessage(largeMigration, migration, 'clientReencryptMs')}` : 'skipped (quick)',
  ],
  [
    'wal_kb_per_message',
    String(result.wal_kb_per_message),
    `largest WAL ${round(wal.walBytes / 2 ** 20, 1)} MB over ${wal.messages.toLocaleString('en-US')} sustained sends (${wal.msgsPerSecond}/s), database ${round(wal.dbBytes / 2 ** 20, 1)} MB (target ≤ 2)`,
  ],
  [
    'slow_reader_rss_mb',
    String(result.slow_reader_rss_mb),
    `server RSS growth, 50 readers that never read, ${slow.roomMessages} messages of 16 KB; ${slow.slowReadersOpen} left open; others' send p99 ${slow.sendP99Ms} ms (${slow.baselineSendP99Ms} before) (target ≤ 100)`,
  ],
  ['web_bundle_gzip_kb', String(result.web_bundle_gzip_kb ?? 'n/a'), 'initial JavaScript of the web app, gzipped (target ≤ 250)'],
  [
    'web_open_10k_ms',
    String(result.web_open_10k_ms ?? 'n/a'),
    web
      ? `click → newest of 10,000 messages on screen, Chromium, median of ${web.openRunsMs.join('/')} (target ≤ 1500)`
      : 'skipped',
  ],
]
/** The group rows: each figure, then what it is read against (the floors, the room of 2). */
function privateRoomRows(): [string, string, string][] {
  const size = quick ? ` (quick: ${privateRoom.members.toLocaleString('en-US')} members)` : ''
  return [
    [
      'private_10k_rotate_make_ms',
      String(result.private_10k_rotate_make_ms),
      `epoch 1 of a private room through the server, cold: ${privateRoom.pages} pages, ${Math.round(privateRoom.uploadBytes / 1024)} KiB${size}`,
    ],
    [
      'private_10k_rotate_upload_ms',
      String(result.private_10k_rotate_upload_ms),
      'POST …/keys until answered: every page checked, every wrap stored',
    ],
    ['private_10k_send_ms', String(result.private_10k_send_ms), 'one 1 KiB group message sealed and stored'],
    [
      'private_10k_catch_up_ms',
      String(result.private_10k_catch_up_ms),
      `a member back online: its delivery (${privateRoom.deliveryBytes} B) and the newest message, fetched, checked, decrypted`,
    ],
  ]
}

function groupRows(): [string, string, string][] {
  const { latency, throughput, storage, join } = groups
  const count = (n: number) => n.toLocaleString('en-US')
  const members = `${count(latency.members)} members`
  const size = quick ? ` (quick: ${members})` : ''
  const reads = (key: 'membersPageMs' | 'sendMs') =>
    `at ${count(join.big.members)} members; ${join.small[key]} ms at ${count(join.small.members)}, ${join.page[key]} ms at ${count(join.page.members)}`
  return [
    [
      'group_fanout_1000_p99_ms',
      String(result.group_fanout_1000_p99_ms),
      `send frame → last of ${members} online, ${latency.sends} paced sends; p50 ${latency.p50}, max ${latency.max}, first member p50 ${latency.firstP50} (target ≤ 100)${size}`,
    ],
    [
      '  server part',
      String(latency.serverWriteP99),
      `publish → every socket written, timed in the server process: p99 (p50 ${latency.serverWriteP50})`,
    ],
    [
      '  floor: bare ws broadcast',
      String(broadcast.lastP99),
      `a frame as large to the same sockets, one at a time, to the last: p99 (p50 ${broadcast.lastP50})`,
    ],
    [
      'group_fanout_deliveries_per_s',
      String(result.group_fanout_deliveries_per_s),
      `${throughput.messages} sends, ${throughput.window} in flight, to ${members}: ${count(throughput.delivered)}/${count(throughput.expected)} frames; server ${throughput.serverCpuUsPerDelivery} µs CPU each, ${throughput.messagesPerCommit} messages per commit (target ≥ 25,000)${size}`,
    ],
    [
      'floor_ws_broadcast_per_s',
      String(result.floor_ws_broadcast_per_s),
      `bare ws fan-out, same sockets, frame size, window; server ${broadcast.serverCpuUsPerDelivery} µs CPU each, ${broadcast.framesPerFlush} frames per batch`,
    ],
    ['group fan-out / ws broadcast', String(result.ratios.group_fanout_vs_ws_broadcast), ''],
    [
      'group fan-out / ws echo',
      String(result.ratios.group_fanout_vs_ws_echo),
      'an echo is a frame in and one out; a delivery one out',
    ],
    [
      'group_msg_bytes_per_member',
      String(result.group_msg_bytes_per_member),
      `database bytes per message: ${storage.big.bytesPerMessage} at ${count(storage.big.members)} members / ${storage.small.bytesPerMessage} at 2, ${count(storage.big.messages)} messages each (target ≤ 1.2)`,
    ],
    [
      'public_join_10k_ms',
      String(result.public_join_10k_ms),
      `${count(join.joins)} signed joins through the API, ${join.concurrency} in flight (${join.joinsPerSecond}/s)${quick ? ` (quick: ${count(join.joins)})` : ''}`,
    ],
    ['  members page, limit 100', `${join.big.membersPageMs} ms`, `median of 20 ${reads('membersPageMs')}`],
    ['  send, POST /v1/messages', `${join.big.sendMs} ms`, `median of 50 ${reads('sendMs')}`],
  ]
}

/** "; median of a/b/c" when there were several runs. */
function runsNote(runsMs: number[]): string {
  return runsMs.length > 1 ? `; median of ${runsMs.join('/')}` : ''
}

/** "µs per message at 30,000 vs at 10,000". */
function perMessage(large: MigrationResult, small: MigrationResult, key: 'serverReencryptMs' | 'clientReencryptMs'): string {
  const each = (result: MigrationResult) => round((result[key] * 1000) / result.messages, 0)
  return `${each(large)} µs per message (${each(small)} at ${small.messages.toLocaleString('en-US')})`
}

const width = Math.max(...rows.map((row) => row[0].length))
const table = [
  ...rows.map(([name, value, note]) => `${name.padEnd(width)}  ${value.padStart(10)}  ${note}`),
  '',
  `load average (1 min): ${result.machine.loadAverage.before} before, ${result.machine.loadAverage.after} after, on ${os.cpus().length} cores`,
  '',
  `sync cost${quick ? ' (quick: history up to 100k, so the 1m keys above are at 100k)' : ''}, ${sync.seconds} s with the setup:`,
  syncTable(sync.steps),
].join('\n')

fs.mkdirSync('bench-results', { recursive: true })
fs.writeFileSync(path.join('bench-results', 'latest.json'), `${JSON.stringify(result, null, 2)}\n`)
if (json) {
  log(table)
  process.stdout.write(`${JSON.stringify(result)}\n`)
} else {
  process.stdout.write(`${table}\n`)
}
process.exit(0)
