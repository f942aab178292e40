/**
 * `dmtp group info` on a split view: a membership-log entry the wallet verified in one run, then
 * rewritten in the server's database, is caught by the next run (the verified head is kept in the
 * CLI's home). `--json` carries the evidence as "fork"; the text warns on stderr.
 */
import { type LogEntry, toBlock } from '@dmtp/protocol'
import { describe, expect, test } from 'vitest'
import { ok, TIMEOUT } from './_groups.js'
import { CLIENT_DIALECTS, newUser, setUp, TestServer } from './_util.js'

describe.each(CLIENT_DIALECTS)('dmtp group info, fork (%s)', (dialect) => {
  test('security: a log entry rewritten after a run is a fork on the next', { timeout: TIMEOUT }, async () => {
    await using server = await TestServer.create({ dialect })
    const [alice, bob] = [newUser(server), newUser(server)]
    await setUp(server, alice, bob)
    const { room } = await ok(alice, ['group', 'create', '--name', 'core team', '--type', 'private'])
    await ok(alice, ['group', 'invite', '--room', room, '--member', bob.address])
    await ok(bob, ['group', 'accept', '--room', room])
    expect(await ok(bob, ['group', 'info', '--room', room])).toMatchObject({ verified: true, fork: null })

    // The operator moves the signed time of the newest entry by 1 ms: another CID at its index.
    const db = server.ctx.database.db
    const row = await db
      .selectFrom('messages')
      .select(['id', 'envelope', 'cid'])
      .where('room_id', '=', room)
      .where('kind', '=', 'log')
      .orderBy('seq', 'desc')
      .executeTakeFirstOrThrow()
    const entry = JSON.parse(row.envelope) as LogEntry
    const block = toBlock({ ...entry, event: { ...entry.event, at: new Date(Date.parse(entry.event.at) + 1).toISOString() } })
    await db.updateTable('messages').set({ envelope: block.text, cid: block.cid }).where('id', '=', row.id).execute()
    await db.updateTable('rooms').set({ log_head: block.cid }).where('id', '=', room).execute()
    server.ctx.roomCache.clear()

    expect((await ok(bob, ['group', 'info', '--room', room])).fork).toMatchObject({
      room,
      reason: 'rewritten_entry',
      theirs: { cid: block.cid, index: entry.index },
      ours: { cid: row.cid, index: entry.index },
      namedBy: null,
    })
    const text = await bob.run(['group', 'info', '--room', room])
    expect(text.stderr).toContain(
      `warning: the server shows members different member lists (rewritten entry): theirs entry ${entry.index} ${block.cid}, ours entry ${entry.index} ${row.cid}\n`,
    )
  })
})
