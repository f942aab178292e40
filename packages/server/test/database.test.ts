/**
 * The database port's batch writes, on every dialect: `updateEach` (the pattern β swap) must
 * change exactly the rows each item names, report how many, and refuse items of different shapes.
 */
import { describe, expect, test } from 'vitest'
import { DIALECTS, TestServer } from './_util.js'

describe.each(DIALECTS)('database port (%s)', (dialect) => {
  test('behavior: updateEach changes the rows each item matches and counts them', async () => {
    await using server = await TestServer.create({ dialect })
    const { database } = server.ctx
    const at = new Date().toISOString()
    const users = ['0xA', '0xB', '0xC'].map((address) => ({ address, acked_pos: 0, created_at: at }))
    await database.db.insertInto('users').values(users).execute()
    const changed = await database.transaction(({ updateEach }) =>
      updateEach('users', [
        { set: { acked_pos: 7 }, where: { address: '0xA', acked_pos: 0 } },
        { set: { acked_pos: 8 }, where: { address: '0xB', acked_pos: 5 } },
        { set: { acked_pos: 9 }, where: { address: '0xZ', acked_pos: 0 } },
      ]),
    )
    expect(changed).toEqual([1, 0, 0])
    const rows = await database.db
      .selectFrom('users')
      .select(['address', 'acked_pos'])
      .where('address', 'in', ['0xA', '0xB', '0xC'])
      .orderBy('address')
      .execute()
    expect(rows).toEqual([
      { address: '0xA', acked_pos: 7 },
      { address: '0xB', acked_pos: 0 },
      { address: '0xC', acked_pos: 0 },
    ])
  })

  test('behavior: items naming different columns are refused and change nothing', async () => {
    await using server = await TestServer.create({ dialect })
    const { database } = server.ctx
    const at = new Date().toISOString()
    const later = new Date(Date.now() + 60_000).toISOString()
    await database.db.insertInto('users').values({ address: '0xA', acked_pos: 0, created_at: at }).execute()
    await expect(
      database.transaction(({ updateEach }) =>
        updateEach('users', [
          { set: { acked_pos: 1 }, where: { address: '0xA' } },
          { set: { acked_pos: 2, created_at: later }, where: { address: '0xA' } },
        ]),
      ),
    ).rejects.toThrow(/same columns/)
    await expect(
      database.transaction(({ updateEach }) =>
        updateEach('users', [
          { set: { acked_pos: 1 }, where: { address: '0xA' } },
          { set: { created_at: later }, where: { address: '0xA' } },
        ]),
      ),
    ).rejects.toThrow(/same columns/)
    const row = await database.db
      .selectFrom('users')
      .select(['acked_pos', 'created_at'])
      .where('address', '=', '0xA')
      .executeTakeFirstOrThrow()
    expect(row).toEqual({ acked_pos: 0, created_at: at })
  })
})
