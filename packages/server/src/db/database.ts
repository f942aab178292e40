/**
 * The database port: Kysely over SQLite (embedded default, better-sqlite3) or PostgreSQL (pg),
 * with the same queries and migrations. Code may branch on the dialect only in this folder.
 *
 * `transaction(fn)` gives `fn` a transaction plus `onCommit(hook)`: side effects that must not
 * happen unless the data is durable (publishing to inboxes, answering a send) go there. On SQLite,
 * a transaction that fails for want of space throws a `StorageFullError` and marks `storage` full
 * (storage-monitor.ts); the WAL is kept small by `SqliteCheckpointer`.
 */
import fs from 'node:fs'
import path from 'node:path'
import SqliteDatabase from 'better-sqlite3'
import {
  type Insertable,
  Kysely,
  Migrator,
  PostgresDialect,
  type Selectable,
  type SelectQueryBuilder,
  SqliteDialect,
  sql,
  type Updateable,
} from 'kysely'
import pg from 'pg'
import { type Dialect, migrationProvider } from './migrations/index.js'
import type { DatabaseSchema } from './schema/index.js'
import { SqliteCheckpointer, WAL_TRUNCATE_BYTES } from './sqlite-checkpointer.js'
import { asStorageError, StorageMonitor } from './storage-monitor.js'

export type { Dialect }
export type Db = Kysely<DatabaseSchema>

export type Transaction = {
  db: Db
  dialect: Dialect
  /** Runs `hook` after the transaction commits; never if it rolls back. */
  onCommit(hook: () => void): void
  /** Inserts many rows of one table, the fastest way the dialect allows (the message hot path). */
  insertMany<T extends keyof DatabaseSchema & string>(table: T, rows: Insertable<DatabaseSchema[T]>[]): Promise<void>
  /**
   * Runs one `UPDATE table SET … WHERE a = ? AND …` per item (every item names the same columns),
   * the fastest way the dialect allows; resolves with how many rows each one changed.
   */
  updateEach<T extends keyof DatabaseSchema & string>(table: T, items: UpdateItem<T>[]): Promise<number[]>
}

export type UpdateItem<T extends keyof DatabaseSchema & string> = {
  set: Updateable<DatabaseSchema[T]>
  where: Partial<Selectable<DatabaseSchema[T]>>
}

const INT8_OID = 20

const STATEMENT_CACHE_SIZE = 512

/**
 * Kysely prepares every query anew; preparing costs more than running for the batched inserts of
 * the message path. Reusing prepared statements by SQL text is safe here because Kysely runs one
 * query at a time on its single SQLite connection.
 */
function cachingStatements(sqlite: SqliteDatabase.Database) {
  const statements = new Map<string, SqliteDatabase.Statement>()
  return {
    close: () => sqlite.close(),
    prepare(text: string) {
      let statement = statements.get(text)
      if (!statement) {
        if (statements.size >= STATEMENT_CACHE_SIZE) statements.clear()
        statement = sqlite.prepare(text)
        statements.set(text, statement)
      }
      return statement
    },
  }
}

type StatementCache = ReturnType<typeof cachingStatements>

/** What Kysely's ROLLBACK runs when SQLite has already rolled the transaction back itself. */
const NO_OP_STATEMENT = {
  reader: false,
  all: () => [],
  run: () => ({ changes: 0, lastInsertRowid: 0 }),
  iterate: () => [][Symbol.iterator](),
}

/**
 * The connection as Kysely sees it. After SQLITE_FULL (or an I/O error) SQLite may roll the
 * transaction back on its own; Kysely's ROLLBACK would then fail with "cannot rollback - no
 * transaction is active" and hide the real error, so that ROLLBACK does nothing instead.
 * Transactions begin IMMEDIATE: they take the write lock first, so meeting the checkpointer's
 * TRUNCATE they wait in the busy handler; a deferred one that reads and then writes would get
 * SQLITE_BUSY at once instead (a read lock cannot be upgraded while another holds the writer).
 */
function kyselyConnection(sqlite: SqliteDatabase.Database, statements: StatementCache) {
  return {
    close: statements.close,
    prepare: (text: string) => {
      if (text === 'begin') return statements.prepare('begin immediate')
      return text === 'rollback' && !sqlite.inTransaction ? NO_OP_STATEMENT : statements.prepare(text)
    },
  }
}

const PG_ROWS_PER_INSERT = 500

export class Database {
  private constructor(
    readonly db: Db,
    readonly dialect: Dialect,
    private readonly sqliteStatements?: StatementCache,
    private readonly checkpointer?: SqliteCheckpointer,
    private readonly postgresSchema?: string,
    /** Whether the server can write (SQLite only: PostgreSQL's disk is its own server's). */
    readonly storage?: StorageMonitor,
  ) {}

  /** Opens (creating if needed) an SQLite file in WAL mode. */
  static sqlite(file: string): Database {
    fs.mkdirSync(path.dirname(file), { recursive: true })
    const sqlite = new SqliteDatabase(file)
    sqlite.pragma('journal_mode = WAL')
    // NORMAL keeps every committed transaction across a process kill; only power loss can roll
    // back the last ones, which is the usual trade for a chat server's write rate.
    sqlite.pragma('synchronous = NORMAL')
    sqlite.pragma('busy_timeout = 5000')
    sqlite.pragma('foreign_keys = ON')
    // Deleted or replaced rows (server-readable relayed messages) are overwritten, not left in free pages.
    sqlite.pragma('secure_delete = ON')
    // Checkpoints run in a worker thread (sqlite-checkpointer.ts), never inside our commits.
    sqlite.pragma('wal_autocheckpoint = 0')
    // Whenever the WAL restarts from its beginning, SQLite truncates the file to this size.
    sqlite.pragma(`journal_size_limit = ${WAL_TRUNCATE_BYTES}`)
    const statements = cachingStatements(sqlite)
    const db = new Kysely<DatabaseSchema>({ dialect: new SqliteDialect({ database: kyselyConnection(sqlite, statements) }) })
    const storage = new StorageMonitor(path.dirname(file))
    const checkpointer = SqliteCheckpointer.start(file, {
      // Not behind Kysely's connection mutex: code that holds the connection (a transaction)
      // while it waits on other work would deadlock against it. Writers meet the TRUNCATE in
      // SQLite's busy handler instead, for the few milliseconds it takes.
      exclusive: (fn) => fn(),
      onError: (error) => {
        if (!storage.failed(error)) process.emitWarning(`SQLite checkpoint failed: ${error.code} ${error.message}`)
      },
    })
    return new Database(db, 'sqlite', statements, checkpointer, undefined, storage)
  }

  /** Connects to PostgreSQL, creating `schema` if missing and using it as the search path. */
  static async postgres({ url, schema, poolSize = 10 }: { url: string; schema: string; poolSize?: number }): Promise<Database> {
    const setup = new pg.Client({ connectionString: url })
    await setup.connect()
    try {
      await setup.query(`CREATE SCHEMA IF NOT EXISTS "${schema}"`)
    } finally {
      await setup.end()
    }
    const pool = new pg.Pool({
      connectionString: url,
      max: poolSize,
      options: `-c search_path="${schema}"`,
      // COUNT(*) and bigserial come back as int8; every value we store fits a JS number.
      types: {
        getTypeParser: (oid: number, format?: string) =>
          oid === INT8_OID ? Number : pg.types.getTypeParser(oid, format as 'text'),
      } as pg.CustomTypesConfig,
    })
    return new Database(
      new Kysely<DatabaseSchema>({ dialect: new PostgresDialect({ pool }) }),
      'postgres',
      undefined,
      undefined,
      schema,
    )
  }

  async migrateToLatest(): Promise<void> {
    await this.migrate((migrator) => migrator.migrateToLatest())
  }

  /** Migrates up or down to the migration named `name` (an operator rolling back; tests making old schemas). */
  async migrateTo(name: string): Promise<void> {
    await this.migrate((migrator) => migrator.migrateTo(name))
  }

  private async migrate(run: (migrator: Migrator) => ReturnType<Migrator['migrateToLatest']>): Promise<void> {
    // Kysely looks for its migration tables in every schema unless told which one: with several
    // DMTP schemas in one PostgreSQL database it would find another's and never create its own.
    const migrator = new Migrator({
      db: this.db,
      provider: migrationProvider(this.dialect),
      ...(this.postgresSchema ? { migrationTableSchema: this.postgresSchema } : {}),
    })
    let { error, results } = await run(migrator)
    // Kysely's PostgreSQL introspection reads the catalog of every schema, and fails when another
    // schema or table is dropped meanwhile (another tenant of the database). Nothing was applied
    // then (no result), so running again is safe.
    for (let attempt = 1; attempt < 3 && !results?.length && isCatalogRace(error); attempt++) {
      ;({ error, results } = await run(migrator))
    }
    const failed = results?.find((result) => result.status === 'Error')
    if (error || failed) {
      throw new Error(`Database migration failed${failed ? ` at ${failed.migrationName}` : ''}`, { cause: error })
    }
  }

  async transaction<T>(fn: (tx: Transaction) => Promise<T>): Promise<T> {
    const hooks: (() => void)[] = []
    let result: T
    try {
      result = await this.db.transaction().execute((db) =>
        fn({
          db,
          dialect: this.dialect,
          onCommit: (hook) => hooks.push(hook),
          insertMany: (table, rows) => this.insertMany(db, table, rows),
          updateEach: (table, items) => this.updateEach(db, table, items),
        }),
      )
    } catch (error) {
      this.storage?.failed(error)
      throw asStorageError(error)
    }
    this.checkpointer?.noteWrite()
    for (const hook of hooks) hook()
    return result
  }

  private async insertMany<T extends keyof DatabaseSchema & string>(
    db: Db,
    table: T,
    rows: Insertable<DatabaseSchema[T]>[],
  ): Promise<void> {
    const first = rows[0]
    if (!first) return
    const columns = Object.keys(first)
    if (this.sqliteStatements) {
      // Same connection, inside the transaction Kysely opened: one cached prepared statement run
      // per row is far cheaper than compiling a multi-row INSERT through the query builder.
      const statement = this.sqliteStatements.prepare(
        `insert into "${table}" (${columns.map((c) => `"${c}"`).join(', ')}) values (${columns.map(() => '?').join(', ')})`,
      )
      for (const row of rows) statement.run(columns.map((column) => (row as Record<string, unknown>)[column]))
      return
    }
    for (let i = 0; i < rows.length; i += PG_ROWS_PER_INSERT) {
      await db
        .insertInto(table)
        .values(rows.slice(i, i + PG_ROWS_PER_INSERT) as never)
        .execute()
    }
  }

  private async updateEach<T extends keyof DatabaseSchema & string>(db: Db, table: T, items: UpdateItem<T>[]): Promise<number[]> {
    const first = items[0]
    if (!first) return []
    const columns = Object.keys(first.set)
    const keys = Object.keys(first.where)
    const same = (names: string[], expected: string[]) =>
      names.length === expected.length && names.every((name, i) => name === expected[i])
    for (const item of items) {
      if (!same(Object.keys(item.set), columns) || !same(Object.keys(item.where), keys)) {
        throw new TypeError(`updateEach(${table}): every item must name the same columns`)
      }
    }
    if (this.sqliteStatements) {
      // As insertMany: one cached prepared statement, instead of compiling a query per row.
      const statement = this.sqliteStatements.prepare(
        `update "${table}" set ${columns.map((c) => `"${c}" = ?`).join(', ')} where ${keys.map((k) => `"${k}" = ?`).join(' and ')}`,
      )
      return items.map((item) => {
        const set = item.set as Record<string, unknown>
        const where = item.where as Record<string, unknown>
        return statement.run([...columns.map((column) => set[column]), ...keys.map((key) => where[key])]).changes
      })
    }
    const changed: number[] = []
    for (const item of items) {
      // Untyped here: the item types already tie columns to the table.
      let query = (db as unknown as Kysely<Record<string, Record<string, unknown>>>)
        .updateTable(table as string)
        .set(item.set as Record<string, unknown>)
      for (const [key, value] of Object.entries(item.where)) query = query.where(key, '=', value)
      changed.push(Number((await query.executeTakeFirst()).numUpdatedRows))
    }
    return changed
  }

  /** Locks the selected rows until commit (PostgreSQL); SQLite transactions already serialize. */
  forUpdate<DB, TB extends keyof DB, O>(query: SelectQueryBuilder<DB, TB, O>): SelectQueryBuilder<DB, TB, O> {
    return this.dialect === 'postgres' ? query.forUpdate() : query
  }

  /** A cheap liveness probe for `/health`. */
  async ping(): Promise<void> {
    await sql`select 1`.execute(this.db)
  }

  async destroy(): Promise<void> {
    // The checkpointer first: a truncation in progress holds the connection until it is done.
    await this.checkpointer?.stop()
    await this.db.destroy()
    this.storage?.destroy()
  }
}

/** PostgreSQL "schema does not exist" / "table does not exist" / "cache lookup failed" (XX000). */
function isCatalogRace(error: unknown): boolean {
  const code = (error as { code?: unknown } | undefined)?.code
  return code === '3F000' || code === '42P01' || code === 'XX000'
}
