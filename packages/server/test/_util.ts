/**
 * Test harness: a real server on port 0 with a temp data dir, SQLite by default and PostgreSQL
 * (one fresh schema per server) when DMTP_TEST_POSTGRES_URL is set. Logs are captured so tests
 * can search them. `await using server = await TestServer.create()` tears everything down.
 */
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { Writable } from 'node:stream'
import { type Kysely, sql } from 'kysely'
import pg from 'pg'
import { type Clock, envToConfig, envToSecrets, Server, type ServerConfig } from '../src/index.js'

export type DialectName = 'sqlite' | 'postgres'

const postgresUrl = process.env.DMTP_TEST_POSTGRES_URL

/** Dialects to run database tests on; `DIALECTS=sqlite` narrows the list. */
export const DIALECTS: DialectName[] = (['sqlite', 'postgres'] as const).filter(
  (dialect) =>
    (dialect === 'sqlite' || postgresUrl !== undefined) &&
    (process.env.DIALECTS === undefined || process.env.DIALECTS.split(',').includes(dialect)),
)

if (!postgresUrl && process.env.DMTP_TEST_REQUIRE_POSTGRES !== '1') {
  console.warn(
    '[dmtp tests] PostgreSQL runs skipped: set DMTP_TEST_POSTGRES_URL=postgres://… to run every database test on PostgreSQL too.',
  )
}
if (!postgresUrl && process.env.DMTP_TEST_REQUIRE_POSTGRES === '1') {
  throw new Error('DMTP_TEST_REQUIRE_POSTGRES=1 but DMTP_TEST_POSTGRES_URL is not set')
}

export type TestServerOptions = {
  dialect?: DialectName
  clock?: Clock
  dataDir?: string
  schema?: string
  configure?: (config: ServerConfig) => void
  /** Run the embedded chain (anvil) and anchoring; off by default, as most tests need no chain. */
  chain?: boolean
  /** Serve this directory at / (the web app's build), as `dmtp serve` does. */
  webRoot?: string
}

export class TestServer implements AsyncDisposable {
  private constructor(
    public server: Server,
    readonly options: Required<Pick<TestServerOptions, 'dialect' | 'dataDir' | 'schema'>> & TestServerOptions,
    readonly logs: string[],
  ) {
    this.port = server.port
  }

  /** The port, kept across stop and restart so clients reconnect to the same URL. */
  private readonly port: number

  static async create(options: TestServerOptions = {}): Promise<TestServer> {
    const dialect = options.dialect ?? 'sqlite'
    const dataDir = options.dataDir ?? fs.mkdtempSync(path.join(os.tmpdir(), 'dmtp-test-'))
    const schema = options.schema ?? `t_${Math.random().toString(36).slice(2, 10)}`
    const logs: string[] = []
    const server = await startServer({ ...options, dialect, dataDir, schema }, logs)
    return new TestServer(server, { ...options, dialect, dataDir, schema }, logs)
  }

  get url(): string {
    return this.server.ctx.identity.url
  }

  get wsUrl(): string {
    return `${this.url.replace(/^http/, 'ws')}/v1/stream`
  }

  get ctx() {
    return this.server.ctx
  }

  /** Stops and starts again on the same data (and the same port, so clients can reconnect). */
  async restart(): Promise<void> {
    const port = this.port
    await this.server.destroy().catch(() => {})
    this.server = await startServer({ ...this.options, port }, this.logs)
  }

  async stop(): Promise<void> {
    await this.server.destroy()
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.server.destroy().catch(() => {})
    if (this.options.dialect === 'postgres' && !this.options.schema.startsWith('keep_')) {
      const client = new pg.Client({ connectionString: postgresUrl })
      await client.connect()
      await client.query(`DROP SCHEMA IF EXISTS "${this.options.schema}" CASCADE`)
      await client.end()
    }
    fs.rmSync(this.options.dataDir, { recursive: true, force: true })
  }
}

async function startServer(
  options: TestServerOptions & { dialect: DialectName; dataDir: string; schema: string; port?: number },
  logs: string[],
): Promise<Server> {
  const env = {
    DMTP_PORT: options.port ?? 0,
    DMTP_DATA_DIR: options.dataDir,
    DMTP_LOG_LEVEL: 'info',
    DMTP_CHAIN: options.chain ? 'anvil' : 'none',
    ...(options.dialect === 'postgres' ? { DMTP_DATABASE_URL: postgresUrl, DMTP_DATABASE_SCHEMA: options.schema } : {}),
  }
  const config = envToConfig(env)
  options.configure?.(config)
  const logDestination = new Writable({
    write(chunk, _encoding, done) {
      logs.push(chunk.toString())
      done()
    },
  })
  const server = await Server.create(config, envToSecrets(env, config), {
    logDestination,
    ...(options.clock ? { clock: options.clock } : {}),
    ...(options.webRoot ? { webRoot: options.webRoot } : {}),
  })
  await server.start()
  return server
}

/** A controllable clock for expiry tests. */
export class TestClock implements Clock {
  private offsetMs = 0
  now(): Date {
    return new Date(Date.now() + this.offsetMs)
  }
  advance(ms: number): void {
    this.offsetMs += ms
  }
}

/** Every table of the schema (what "nothing changed" compares). */
export const TABLES = [
  'users',
  'key_bundles',
  'rooms',
  'room_members',
  'room_roles',
  'room_links',
  'processing_chats',
  'messages',
  'counters',
  'cids',
  'block_deletions',
  'sessions',
  'auth_nonces',
] as const
export type TableName = (typeof TABLES)[number]

/** Row counts per table. */
export async function rowCounts(server: TestServer, tables: readonly TableName[] = TABLES): Promise<Record<TableName, number>> {
  const db = server.ctx.database.db as unknown as Kysely<any>
  const counts = {} as Record<TableName, number>
  for (const table of tables) {
    const row = await db
      .selectFrom(table)
      .select((eb) => eb.fn.countAll().as('n'))
      .executeTakeFirstOrThrow()
    counts[table] = Number(row.n)
  }
  return counts
}

/**
 * Every row of every table, each table sorted: equal snapshots mean no insert, update or delete
 * happened in between (a stronger "nothing changed" than counts).
 */
export async function snapshotDb(
  server: TestServer,
  tables: readonly TableName[] = TABLES,
): Promise<Record<TableName, string[]>> {
  const db = server.ctx.database.db as unknown as Kysely<any>
  const snapshot = {} as Record<TableName, string[]>
  for (const table of tables) {
    const rows = await db.selectFrom(table).selectAll().execute()
    snapshot[table] = rows.map((row) => JSON.stringify(row)).sort()
  }
  return snapshot
}

/**
 * Everything the database holds, as text to search: for SQLite the raw bytes of every file in the
 * data dir (database, WAL, shared memory); for both dialects every column of every row of every
 * table (for PostgreSQL, every table in the test schema, including the migration bookkeeping).
 */
export async function databaseText(server: TestServer): Promise<string> {
  const db = server.ctx.database.db as unknown as Kysely<any>
  const parts: string[] = []
  let tables: string[]
  if (server.ctx.database.dialect === 'sqlite') {
    for (const file of fs.readdirSync(server.options.dataDir, { recursive: true, encoding: 'utf8' })) {
      const full = path.join(server.options.dataDir, file)
      if (fs.statSync(full).isFile()) parts.push(fs.readFileSync(full).toString('latin1'))
    }
    const result = await sql<{ name: string }>`select name from sqlite_master where type = 'table'`.execute(db)
    tables = result.rows.map((row) => row.name)
  } else {
    const result = await sql<{
      table_name: string
    }>`select table_name from information_schema.tables where table_schema = current_schema()`.execute(db)
    tables = result.rows.map((row) => row.table_name)
  }
  for (const table of tables) {
    const rows = await db.selectFrom(table).selectAll().execute()
    parts.push(`-- ${table}`, ...rows.map((row) => JSON.stringify(row)))
  }
  return parts.join('\n')
}

/**
 * The stream position (`messages.pos`) of each message or log entry id, in the order given. Stream
 * cursors are these server-wide positions, so tests read them instead of assuming 1, 2, 3.
 */
export async function positionsOf(server: TestServer, ids: readonly string[]): Promise<number[]> {
  if (ids.length === 0) return []
  const rows = await server.ctx.database.db.selectFrom('messages').select(['id', 'pos']).where('id', 'in', ids).execute()
  const byId = new Map(rows.map((row) => [row.id, row.pos]))
  return ids.map((id) => {
    const pos = byId.get(id)
    if (pos === undefined) throw new Error(`positionsOf: no stored message ${id}`)
    return pos
  })
}

/** Polls `check` until it returns a value other than undefined/false, or fails after `timeoutMs`. */
export async function waitFor<T>(
  check: () => T | undefined | false | Promise<T | undefined | false>,
  timeoutMs = 5_000,
): Promise<T> {
  const deadline = Date.now() + timeoutMs
  for (;;) {
    const value = await check()
    if (value !== undefined && value !== false) return value
    if (Date.now() > deadline) throw new Error(`waitFor: timed out after ${timeoutMs} ms`)
    await new Promise((resolve) => setTimeout(resolve, 10))
  }
}
