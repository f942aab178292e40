/**
 * Issue 16 item 7: `verify` tells the truth in detail. A manifest block the server no longer
 * serves makes what it listed "unavailable", not "altered"; a record the history lists twice is
 * counted once (and flagged); the wallet's rooms come from the anchored manifests, so a room the
 * operator hides (its rows deleted from the database) fails verify; and a server without a chain
 * answers the stable `chain_unavailable`, on its anchoring route and through the SDK.
 */
import { describe, expect, test } from 'vitest'
import { NotAnchoredError } from '../../src/index.js'
import { DIALECTS } from '../_util.js'
import { again, anchorAll, deleteRoomRows, dropBlocks, proxiedServer, wallets } from '../hardening-fixtures.js'
import { attack } from './attack.js'

/**
 * alice ↔ bob: 3 messages, a sync, 3 more, a sync, 1 pending. alice ↔ carol: 2 messages and
 * carol ↔ dave: 2 messages (not alice's), both in the first sync.
 */
async function anchoredRooms(dialect: (typeof DIALECTS)[number]) {
  const setup = await proxiedServer(dialect)
  const url = setup.proxy.url
  const [alice, bob, carol, dave] = await wallets(url, 4)
  if (!alice || !bob || !carol || !dave) throw new Error('four wallets')
  const toBob = []
  for (let i = 0; i < 3; i++) toBob.push(await alice.send(bob.address, `first sync ${i}`))
  const toCarol = [await alice.send(carol.address, 'hi carol'), await carol.send(alice.address, 'hi alice')]
  await carol.send(dave.address, 'not for alice')
  await dave.send(carol.address, 'nor this')
  await anchorAll(setup.server, [alice.address, bob.address, carol.address, dave.address])
  for (let i = 0; i < 3; i++) toBob.push(await bob.send(alice.address, `second sync ${i}`))
  await setup.server.ctx.anchoring.syncNow()
  toBob.push(await alice.send(bob.address, 'not synced yet'))
  return { ...setup, url, alice, bob, carol, dave, toBob, toCarol }
}

for (const dialect of DIALECTS) {
  describe(`verify, in detail (${dialect}, anvil)`, () => {
    test('default: an honest server verifies; rooms of other wallets are not counted as yours', async () => {
      await using setup = await anchoredRooms(dialect)
      const report = await again(setup.url, setup.alice).verify()
      expect(report).toMatchObject({
        anchored: 8,
        pending: 1,
        missing: 0,
        altered: 0,
        unavailable: 0,
        hiddenRooms: [],
        keys: { anchored: 3, mismatched: 0 },
        ok: true,
      })
      expect(report.details).toEqual([expect.objectContaining({ status: 'pending', cid: setup.toBob[6]?.cid })])
    })

    // What it listed is unavailable, not altered.
    attack('a manifest block withheld from verify', 'on verify', async () => {
      await using setup = await anchoredRooms(dialect)
      const first = await setup.server.ctx.database.db
        .selectFrom('manifests')
        .select('cid')
        .where('seq', '=', 1)
        .executeTakeFirstOrThrow()
      await setup.server.stop()
      dropBlocks(setup.server, [first.cid])
      await setup.server.restart()
      const report = await again(setup.url, setup.alice).verify()
      expect(report).toMatchObject({ anchored: 3, pending: 1, missing: 0, altered: 0, unavailable: 5, ok: false })
      expect(report.manifests).toMatchObject({ count: 2, unavailable: 1 })
      const unavailable = report.details.filter((detail) => detail.status === 'unavailable')
      expect(unavailable.map((detail) => detail.cid).sort()).toEqual(
        [...setup.toBob.slice(0, 3), ...setup.toCarol].map((sent) => sent.cid).sort(),
      )
      expect(new Set(unavailable.map((detail) => detail.reason))).toEqual(
        new Set(['the anchored manifest that would list it is not served']),
      )
    })

    // Counted once, and flagged.
    attack('a record listed twice in the history verify reads', 'on verify', async () => {
      await using setup = await anchoredRooms(dialect)
      const room = setup.toBob[0]?.room as string
      const twice = setup.toBob[1]?.cid
      setup.proxy.rewrite = (request, answer) => {
        if (request.path !== `/v1/rooms/${room}/messages` || answer.status !== 200) return undefined
        const body = JSON.parse(answer.body)
        const index = body.messages.findIndex((record: { cid: string }) => record.cid === twice)
        if (index >= 0) body.messages.splice(index + 1, 0, body.messages[index])
        return JSON.stringify(body)
      }
      const report = await again(setup.url, setup.alice).verify({ room })
      expect(report).toMatchObject({ anchored: 6, pending: 1, missing: 0, altered: 1, ok: false })
      expect(report.details.filter((detail) => detail.status === 'altered')).toEqual([
        expect.objectContaining({ cid: twice, reason: 'the history lists this record twice' }),
      ])
    })

    // Its rows deleted from the database: found in the anchored manifests, and verify fails.
    attack('a whole conversation hidden from the room list', 'on verify', async () => {
      await using setup = await anchoredRooms(dialect)
      const room = setup.toCarol[0]?.room as string
      await deleteRoomRows(setup.server, room)
      await setup.server.restart()
      const alice = again(setup.url, setup.alice)
      expect((await alice.rooms.list()).map((entry) => entry.room.id)).not.toContain(room)
      const report = await alice.verify()
      expect(report).toMatchObject({ hiddenRooms: [room], missing: 2, altered: 0, ok: false })
      expect(report.details.filter((detail) => detail.status === 'missing').map((detail) => detail.cid)).toEqual(
        setup.toCarol.map((sent) => sent.cid),
      )
      // Its peer's key is checked as for any room of the wallet.
      expect(report.keyDetails.map((key) => key.address)).toContain(setup.carol.address)
    })

    // Found in the anchored log, and verify fails.
    attack('a wallet dropped from a group it is in', 'on verify', async () => {
      await using setup = await anchoredRooms(dialect)
      const { room } = await setup.alice.rooms.create({ type: 'public', name: 'anchored group' })
      await setup.bob.rooms.join(room.id)
      await setup.alice.send(room.id, 'in the group')
      await setup.server.ctx.anchoring.syncNow()
      const honest = await again(setup.url, setup.bob).verify()
      expect(honest).toMatchObject({ hiddenRooms: [], ok: true })

      await setup.server.ctx.database.db
        .deleteFrom('room_members')
        .where('room_id', '=', room.id)
        .where('address', '=', setup.bob.address)
        .execute()
      await setup.server.restart()
      const bob = again(setup.url, setup.bob)
      expect((await bob.rooms.list()).map((entry) => entry.room.id)).not.toContain(room.id)
      const report = await bob.verify()
      expect(report).toMatchObject({ hiddenRooms: [room.id], ok: false })
      // The rooms of other wallets stay out of it.
      expect(report.details.filter((detail) => detail.room !== room.id)).toEqual([])
    })
  })

  describe(`a server without a chain (${dialect})`, () => {
    test('behavior: its anchoring route and the SDK answer chain_unavailable, never internal_error', async () => {
      await using setup = await proxiedServer(dialect, { chain: false })
      const [alice, bob] = await wallets(setup.proxy.url, 2)
      if (!alice || !bob) throw new Error('two wallets')
      const sent = await alice.send(bob.address, 'never anchored')
      const response = await fetch(`${setup.proxy.url}/v1/anchors/${sent.cid}`)
      expect(response.status).toBe(503)
      expect(await response.json()).toEqual({
        error: {
          code: 'chain_unavailable',
          message: 'This server does not anchor on a chain: nothing it stores is anchored.',
        },
      })
      const error = await alice.verify().catch((caught: unknown) => caught)
      expect(error).toBeInstanceOf(NotAnchoredError)
      expect(error).toMatchObject({ code: 'chain_unavailable', status: 503 })
      await expect(alice.recover({ room: sent.room })).rejects.toMatchObject({ code: 'chain_unavailable' })
    })
  })
}
