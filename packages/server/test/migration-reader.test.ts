/**
 * The pattern β read paths, on every dialect: keyset pages that continue exactly after their
 * cursor, and the rooms that still hold relayed messages. On SQLite, their plans too: each page
 * seeks to its cursor in an index that holds the whole sort key (no walk over the rows before it,
 * no sort), so a page costs the same however long the queue — before, a queue of n cost O(n²).
 */
import path from 'node:path'
import BetterSqlite3 from 'better-sqlite3'
import { Kysely, SqliteDialect } from 'kysely'
import { describe, expect, test } from 'vitest'
import type { Database, Db } from '../src/db/database.js'
import { BlockSweeper } from '../src/services/blocks/block-sweeper.js'
import { countRelayed, listHandoffs, listRelayedRooms, listUnhandedRelayed } from '../src/services/migration/reader.js'
import { DIALECTS, TestServer } from './_util.js'

const BOB = '0x00000000000000000000000000000000000000B0'
const CAROL = '0x00000000000000000000000000000000000000C0'
const AT = '2026-11-27T12:00:00.000Z'

/** Rows straight into the tables: relayed messages to Bob in rooms r1 and r2, one end to end in r3, one to Carol. */
async function seed(db: Db) {
  let pos = 0
  const message = (id: string, room: string, seq: number, receiver: string, e2ee: number) => ({
    id,
    room_id: room,
    seq,
    pos: ++pos,
    kind: 'envelope' as const,
    type: 'message',
    sender: '0x00000000000000000000000000000000000000A0',
    receiver,
    timestamp: AT,
    cid: `cid-${id}`,
    envelope: '{}',
    e2ee,
    received_at: AT,
  })
  await db
    .insertInto('messages')
    .values([
      message('m4', 'r2', 1, BOB, 0),
      message('m1', 'r1', 1, BOB, 0),
      message('m3', 'r1', 3, BOB, 0),
      message('m2', 'r1', 2, BOB, 0),
      message('m5', 'r2', 2, BOB, 0),
      message('m6', 'r3', 1, BOB, 1),
      message('m7', 'r4', 1, CAROL, 0),
    ])
    .execute()
  const handoff = (id: string, key: string, at: string) => ({
    message_id: id,
    receiver: BOB,
    receiver_key: key,
    handoff: `{"id":"${id}"}`,
    created_at: at,
  })
  // m2 and m5 handed to Bob's current key k (m5 in a later batch); m3 to an older key.
  await db
    .insertInto('handoffs')
    .values([handoff('m5', 'k', '2026-11-27T12:00:01.000Z'), handoff('m2', 'k', AT), handoff('m3', 'old', AT)])
    .execute()
  await db
    .insertInto('handoffs')
    .values(handoff('m1', 'k', AT))
    .execute()
}

describe.each(DIALECTS)('pattern β reader (%s)', (dialect) => {
  test('behavior: each listing pages in its order, exactly after its cursor', async () => {
    await using server = await TestServer.create({ dialect })
    const db = server.ctx.database.db
    await seed(db)

    // Not handed to key k yet (none, or an older key's), by room then seq, one at a time.
    const unhanded: string[] = []
    let after: { room: string; seq: number } | undefined
    for (;;) {
      const rows = await listUnhandedRelayed(db, { receiver: BOB, receiverKey: 'k', limit: 1, after })
      const last = rows.at(-1)
      if (!last) break
      unhanded.push(...rows.map((row) => row.id))
      after = { room: last.room, seq: last.seq }
    }
    expect(unhanded).toEqual(['m3', 'm4'])

    // Handed to key k, oldest first, ties broken by message id, one at a time.
    const handed: string[] = []
    let cursor: { createdAt: string; messageId: string } | undefined
    for (;;) {
      const [row] = await listHandoffs(db, { receiver: BOB, receiverKey: 'k', limit: 1, after: cursor })
      if (!row) break
      handed.push(row.message_id)
      cursor = { createdAt: row.created_at, messageId: row.message_id }
    }
    expect(handed).toEqual(['m1', 'm2', 'm5'])

    expect(await listRelayedRooms(db, BOB)).toEqual(['r1', 'r2'])
    expect(await listRelayedRooms(db, CAROL)).toEqual(['r4'])
    expect(await listRelayedRooms(db, '0x00000000000000000000000000000000000000D0')).toEqual([])
    expect(await countRelayed(db, BOB)).toBe(5)
  })
})

describe('pattern β reader plans (sqlite)', () => {
  test('behavior: every page seeks to its cursor in one index, with no scan and no sort', async () => {
    await using server = await TestServer.create({ dialect: 'sqlite' })
    await seed(server.ctx.database.db)
    // A second connection that records the SQL each reader runs, then asks SQLite how it runs it.
    const sqlite = new BetterSqlite3(path.join(server.options.dataDir, 'dmtp.sqlite'))
    const ran: { sql: string; parameters: readonly unknown[] }[] = []
    const db: Db = new Kysely({
      dialect: new SqliteDialect({ database: sqlite }),
      log: (event) => void ran.push(event.query),
    })
    const planOf = async (read: () => Promise<unknown>) => {
      ran.length = 0
      await read()
      return ran.flatMap(({ sql, parameters }) =>
        (sqlite.prepare(`explain query plan ${sql}`).all(...parameters) as { detail: string }[]).map((row) => row.detail),
      )
    }
    try {
      const unhanded = await planOf(() =>
        listUnhandedRelayed(db, { receiver: BOB, receiverKey: 'k', limit: 2, after: { room: 'r1', seq: 1 } }),
      )
      expect(unhanded[0]).toBe(
        'SEARCH messages USING INDEX messages_relayed_seq_idx (receiver=? AND e2ee=? AND (room_id,seq)>(?,?))',
      )
      const handoffs = await planOf(() =>
        listHandoffs(db, { receiver: BOB, receiverKey: 'k', limit: 1, after: { createdAt: AT, messageId: 'm1' } }),
      )
      expect(handoffs).toEqual([
        'SEARCH handoffs USING INDEX handoffs_listing_idx (receiver=? AND receiver_key=? AND (created_at,message_id)>(?,?))',
      ])
      const rooms = await planOf(() => listRelayedRooms(db, BOB))
      expect(rooms.at(-1)).toBe(
        'SEARCH messages USING COVERING INDEX messages_relayed_seq_idx (receiver=? AND e2ee=? AND room_id>?)',
      )
      // The sweeper's listing of tombstoned blocks not deleted yet (none here, so it only lists).
      const sweeper = new BlockSweeper({
        database: { db } as unknown as Database,
        blockStore: server.ctx.blockStore,
        clock: server.ctx.clock,
        logger: server.ctx.logger,
      })
      const deletions = await planOf(() => sweeper.sweep())
      expect(deletions).toEqual(['SCAN block_deletions USING INDEX block_deletions_pending_idx'])
      for (const detail of [...unhanded, ...handoffs, ...rooms]) expect(detail).not.toMatch(/TEMP B-TREE|^SCAN/)
    } finally {
      await db.destroy()
    }
  })
})
