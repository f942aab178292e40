/**
 * Issue 16 items 7 and 18: `recover` with pieces missing from a real block store. It must name
 * every block it could not fetch, by kind (manifest, envelope, log entry, content, key bundle),
 * count as readable only what it could read, and never pass off an empty history as complete.
 */
import fs from 'node:fs'
import path from 'node:path'
import { describe, expect } from 'vitest'
import { DIALECTS } from '../_util.js'
import { again, anchorAll, dropBlocks, loseDatabase, proxiedServer, storedBlocks, wallets } from '../hardening-fixtures.js'
import { attack } from './attack.js'

/** alice ↔ bob: 20 messages, anchored, with both keys on chain. */
async function anchoredPair(dialect: (typeof DIALECTS)[number]) {
  const setup = await proxiedServer(dialect)
  const [alice, bob] = await wallets(setup.proxy.url, 2)
  if (!alice || !bob) throw new Error('two wallets')
  const sent = []
  for (let i = 0; i < 20; i++)
    sent.push(await (i % 2 ? bob.send(alice.address, `to alice ${i}`) : alice.send(bob.address, `to bob ${i}`)))
  await anchorAll(setup.server, [alice.address, bob.address])
  const db = setup.server.ctx.database.db
  const keys = await db.selectFrom('key_bundles').select(['address', 'cid']).execute()
  const manifests = await db.selectFrom('manifests').select('cid').orderBy('seq').execute()
  return {
    ...setup,
    alice,
    bob,
    sent,
    room: sent[0]?.room as string,
    keyOf: (address: string) => keys.find((key) => key.address === address)?.cid as string,
    manifests: manifests.map((row) => row.cid),
  }
}

for (const dialect of DIALECTS) {
  describe(`recover with blocks missing (${dialect}, anvil)`, () => {
    // Nothing is counted readable, and both bundles are named.
    attack('key bundle blocks withheld from recover', 'at once', async () => {
      await using setup = await anchoredPair(dialect)
      await setup.server.stop()
      await loseDatabase(setup.server)
      dropBlocks(setup.server, [setup.keyOf(setup.alice.address), setup.keyOf(setup.bob.address)])
      await setup.server.restart()
      const recovered = await again(setup.proxy.url, setup.bob).recover({ room: setup.room })
      expect(recovered.messages).toHaveLength(20)
      expect(new Set(recovered.messages.map((message) => message.status))).toEqual(new Set(['unknown_key']))
      expect(recovered.readable).toBe(0)
      expect(recovered.unavailable.map(({ kind, cid }) => ({ kind, cid })).sort((a, b) => a.cid.localeCompare(b.cid))).toEqual(
        [setup.keyOf(setup.alice.address), setup.keyOf(setup.bob.address)].sort().map((cid) => ({ kind: 'key_bundle', cid })),
      )
    })

    // Each is named, and the history is not passed off as empty.
    attack('manifest blocks withheld from recover', 'at once', async () => {
      await using setup = await anchoredPair(dialect)
      await setup.server.stop()
      await loseDatabase(setup.server)
      dropBlocks(setup.server, setup.manifests)
      await setup.server.restart()
      const recovered = await again(setup.proxy.url, setup.bob).recover({ room: setup.room })
      expect(recovered).toEqual({
        room: setup.room,
        messages: [],
        readable: 0,
        unavailable: setup.manifests.map((cid) => ({
          kind: 'manifest',
          cid,
          reason: 'the server does not serve this anchored manifest',
        })),
      })
    })

    // The database kept: every manifest is named.
    attack('the whole block store withheld from recover', 'at once', async () => {
      await using setup = await anchoredPair(dialect)
      await setup.server.stop()
      for (const suffix of ['', '-wal', '-shm'])
        fs.rmSync(path.join(setup.server.options.dataDir, `blocks.sqlite${suffix}`), { force: true })
      await setup.server.restart()
      const recovered = await again(setup.proxy.url, setup.bob).recover({ room: setup.room })
      expect(recovered.messages).toEqual([])
      expect(recovered.unavailable.map(({ kind, cid }) => ({ kind, cid }))).toEqual(
        setup.manifests.map((cid) => ({ kind: 'manifest', cid })),
      )
    })

    // Both named; a recall's deleted words are not.
    attack("a group's log entry and content block withheld from recover", 'at once', async () => {
      await using setup = await proxiedServer(dialect)
      const [alice, bob] = await wallets(setup.proxy.url, 2)
      if (!alice || !bob) throw new Error('two wallets')
      const { room } = await alice.rooms.create({ type: 'public', name: 'recovered group' })
      await bob.rooms.join(room.id)
      const one = await alice.send(room.id, 'one')
      const two = await alice.send(room.id, 'two')
      await alice.recall(room.id, two.id)
      await anchorAll(setup.server, [alice.address, bob.address])
      const rows = await setup.server.ctx.database.db
        .selectFrom('messages')
        .select(['id', 'type', 'cid', 'content_cid'])
        .where('room_id', '=', room.id)
        .execute()
      const join = rows.find((row) => row.type === 'join')?.cid as string
      const content = rows.find((row) => row.id === one.id)?.content_cid as string
      await setup.server.stop()
      await loseDatabase(setup.server)
      // The recalled message's content block was deleted by the server, as a recall must.
      const recalledEnvelope = [...storedBlocks(setup.server).values()].find((block) => block.id === two.id)
      expect(storedBlocks(setup.server).has(recalledEnvelope?.content)).toBe(false)
      dropBlocks(setup.server, [join, content])
      await setup.server.restart()

      const recovered = await again(setup.proxy.url, bob).recover({ room: room.id })
      expect(recovered.unavailable.map(({ kind, cid }) => ({ kind, cid }))).toEqual([
        { kind: 'log_entry', cid: join },
        { kind: 'content', cid: content },
      ])
      expect(recovered.messages.map((message) => [message.type, message.text, message.status])).toEqual([
        ['system', expect.stringContaining('created the public room "recovered group"'), 'ok'],
        ['message', null, 'withheld'],
        ['message', null, 'withheld'],
        ['recall', null, 'ok'],
      ])
      expect(recovered.readable).toBe(2)
    })
  })
}
