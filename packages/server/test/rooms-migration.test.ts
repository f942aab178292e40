/**
 * The rooms migration runs down and up again on both dialects: down to pairs keeps every 1:1
 * message (with an inbox row for each side), up again gives them back unchanged. (Data written by
 * the release before rooms is tested end to end in packages/sdk/test/release-fixture.test.ts.)
 */
import { sql } from 'kysely'
import { describe, expect, test } from 'vitest'
import { Database } from '../src/db/database.js'
import { DIALECTS, TestServer } from './_util.js'
import { TestWallet } from './_wallet.js'

const BEFORE_ROOMS = '20261127T120000000Z-keyset-indexes'

describe.each(DIALECTS)('rooms migration (%s)', (dialect) => {
  test('default: down to pairs and up again keeps every 1:1 message', async () => {
    await using server = await TestServer.create({ dialect, schema: `keep_${Math.random().toString(36).slice(2, 10)}` })
    const alice = await new TestWallet(server.url).setup()
    const bob = await new TestWallet(server.url).setup()
    for (const text of ['one', 'two', 'three']) expect((await alice.send(bob, text)).status).toBe(200)
    expect((await bob.send(alice, 'four')).status).toBe(200)
    const before = await server.ctx.database.db
      .selectFrom('messages')
      .select(['id', 'cid', 'seq', 'envelope'])
      .orderBy('seq')
      .execute()
    await server.stop()

    const database =
      dialect === 'sqlite'
        ? Database.sqlite((server.ctx.config.db as { path: string }).path)
        : await Database.postgres({ url: process.env.DMTP_TEST_POSTGRES_URL as string, schema: server.options.schema })
    try {
      await database.migrateTo(BEFORE_ROOMS)
      const db = database.db
      const pairs = await sql<{
        member_a: string
        member_b: string
        message_count: number
      }>`select member_a, member_b, message_count from rooms`.execute(db)
      const [first, second] = [alice.address, bob.address].sort()
      expect(pairs.rows).toEqual([{ member_a: first, member_b: second, message_count: 4 }])
      const inbox = await sql<{ address: string; seq: number }>`select address, seq from inbox order by address, seq`.execute(db)
      expect(inbox.rows.filter((row) => row.address === alice.address).map((row) => row.seq)).toEqual([1, 2, 3, 4])
      const old = await sql<{ cid: string }>`select cid from messages order by seq`.execute(db)
      expect(old.rows.map((row) => row.cid)).toEqual(before.map((row) => row.cid))

      await database.migrateToLatest()
      const after = await database.db.selectFrom('messages').select(['id', 'cid', 'seq', 'envelope']).orderBy('seq').execute()
      expect(after).toEqual(before)
      const members = await database.db.selectFrom('room_members').select('address').orderBy('address').execute()
      expect(members.map((row) => row.address)).toEqual([alice.address, bob.address].sort())
    } finally {
      await database.destroy()
      if (dialect === 'postgres') {
        const cleanup = await Database.postgres({ url: process.env.DMTP_TEST_POSTGRES_URL as string, schema: 'public' })
        await sql.raw(`drop schema if exists "${server.options.schema}" cascade`).execute(cleanup.db)
        await cleanup.destroy()
      }
    }
  })
})
