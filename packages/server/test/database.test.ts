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
    const users = ['0xA', '0xB', '0xC'].map((address) => ({ address, created_at: at }))
    await database.db.insertInto('users').values(users).execute()
    const changed = await database.transaction(({ updateEach }) =>
      updateEach('users', [
        { set: { inbox_seq: 7 }, where: { address: '0xA', inbox_seq: 0 } },
        { set: { inbox_seq: 8 }, where: { address: '0xB', inbox_seq: 5 } },
        { set: { inbox_seq: 9 }, where: { address: '0xZ', inbox_seq: 0 } },
      ]),
    )
    expect(changed).toEqual([1, 0, 0])
    const rows = await database.db
      .selectFrom('users')
      .select(['address', 'inbox_seq'])
      .where('address', 'in', ['0xA', '0xB', '0xC'])
      .orderBy('address')
      .execute()
    expect(rows).toEqual([
      { address: '0xA', inbox_seq: 7 },
      { address: '0xB', inbox_seq: 0 },
      { address: '0xC', inbox_seq: 0 },
    ])
  })

  test('behavior: items naming different columns are refused and change nothing', async () => {
    await using server = await TestServer.create({ dialect })
    const { database } = server.ctx
    await database.db.insertInto('users').values({ address: '0xA', created_at: new Date().toISOString() }).execute()
    await expect(
      database.transaction(({ updateEach }) =>
        updateEach('users', [
          { set: { inbox_seq: 1 }, where: { address: '0xA' } },
          { set: { inbox_seq: 2, acked_seq: 2 }, where: { address: '0xA' } },
        ]),
      ),
    ).rejects.toThrow(/same columns/)
    await expect(
      database.transaction(({ updateEach }) =>
        updateEach('users', [
          { set: { inbox_seq: 1 }, where: { address: '0xA' } },
          { set: { acked_seq: 2 }, where: { address: '0xA' } },
        ]),
      ),
    ).rejects.toThrow(/same columns/)
    const row = await database.db.selectFrom('users').select('inbox_seq').where('address', '=', '0xA').executeTakeFirstOrThrow()
    expect(row.inbox_seq).toBe(0)
  })
})
