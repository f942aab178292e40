/**
 * A server that edits its database by hand cannot give a room key to an address of its choosing,
 * nor slip a member a key that is not the room's: the forged rows below bypass every server
 * check, and the members' clients refuse each (a refused rotation, a refused delivery, a message
 * shown as undecryptable or altered — never as readable text the server chose).
 */
import {
  createKeyDistribution,
  createRoomKey,
  type KeyDelivery,
  keyDeliveries,
  toBase64Url,
  type WrapParty,
} from '@dmtp/protocol'
import { nodeCryptoBackend as crypto } from '@dmtp/protocol/node'
import { describe, expect } from 'vitest'
import { currentKeys } from '../../src/_keyring.js'
import { keyRing } from '../../src/_room-keys.js'
import { DIALECTS, newClient, TestServer } from '../_util.js'
import { attack } from './attack.js'

type Client = ReturnType<typeof newClient>

const addressOf = async (client: Client) => (await client.getWallet()).address

/** A private room of alice with bob invited and joined, and one message that made its epoch. */
async function roomOfTwo(server: TestServer) {
  const [alice, bob] = [newClient(server.url), newClient(server.url)]
  for (const client of [alice, bob]) await client.setup()
  const { room } = await alice.rooms.create({ type: 'private', name: 'two' })
  await alice.rooms.invite(room.id, [await addressOf(bob)])
  await bob.rooms.join(room.id)
  await alice.send(room.id, 'first')
  return { alice, bob, room: room.id }
}

/** Replaces bob's newest delivery row by `forge(delivery)`, behind the server's back. */
async function forgeDelivery(
  server: TestServer,
  room: string,
  bob: string,
  forge: (delivery: KeyDelivery) => Promise<KeyDelivery>,
) {
  const db = server.ctx.database.db
  const row = await db
    .selectFrom('room_key_deliveries')
    .selectAll()
    .where('room_id', '=', room)
    .where('recipient', '=', bob)
    .orderBy('epoch', 'desc')
    .executeTakeFirstOrThrow()
  const forged = await forge(JSON.parse(row.delivery) as KeyDelivery)
  await db
    .updateTable('room_key_deliveries')
    .set({ delivery: JSON.stringify(forged) })
    .where('room_id', '=', room)
    .where('recipient', '=', bob)
    .where('epoch', '=', row.epoch)
    .execute()
}

describe.each(DIALECTS)('hostile server: private groups (%s)', (dialect) => {
  attack('a member written into the database behind the signed log, to get a room key', 'at once', async () => {
    await using server = await TestServer.create({ dialect })
    const { alice, room } = await roomOfTwo(server)
    const mallory = newClient(server.url)
    await mallory.setup()
    const malloryAddress = await addressOf(mallory)
    const db = server.ctx.database.db
    await db
      .insertInto('room_members')
      .values({
        room_id: room,
        address: malloryAddress,
        status: 'member',
        role: 'member',
        joined_seq: 0,
        joined_pos: 0,
        left_pos: null,
        muted_until: null,
        banned: 0,
        banned_until: null,
        read_seq: 0,
      })
      .execute()
    server.ctx.roomCache.clear()
    const before = (await alice.rooms.keys(room)).encryption.epoch
    // Alice wraps to the members her replay of the log proves: the server wants mallory too, and refuses.
    await expect(alice.rooms.rotateKey(room)).rejects.toMatchObject({
      code: 'invalid_key_distribution',
      data: { problem: 'incomplete' },
    })
    expect(await db.selectFrom('room_key_deliveries').select('epoch').where('recipient', '=', malloryAddress).execute()).toEqual(
      [],
    )
    expect((await alice.rooms.keys(room)).encryption.epoch).toBe(before)
  })

  attack('a room key delivery altered in the database', 'at once', async () => {
    await using server = await TestServer.create({ dialect })
    const { bob, room } = await roomOfTwo(server)
    const bobAddress = await addressOf(bob)
    await forgeDelivery(server, room, bobAddress, async (delivery) => {
      const bytes = Buffer.from(delivery.recipient.wrap, 'base64url')
      bytes[0] = (bytes[0] as number) ^ 1
      return { ...delivery, recipient: { ...delivery.recipient, wrap: toBase64Url(bytes) } }
    })
    const { epochs, problems } = await bob.rooms.keys(room)
    expect(epochs).toEqual([])
    expect(problems.join('\n')).toMatch(/not under the signed root/)
    const page = await bob.messages(room, { limit: 100 })
    const first = page.messages.find((m) => m.type === 'message')
    expect(first).toMatchObject({ text: null, status: 'undecryptable' })
  })

  attack('a room key chosen by the server, signed by a wallet that is not a member', 'at once', async () => {
    await using server = await TestServer.create({ dialect })
    const { bob, room } = await roomOfTwo(server)
    const mallory = newClient(server.url)
    await mallory.setup()
    const [malloryAddress, bobAddress] = [await addressOf(mallory), await addressOf(bob)]
    const own = await currentKeys(mallory)
    const bobKeys = await currentKeys(bob)
    await forgeDelivery(server, room, bobAddress, async (delivery) => {
      // A well-formed, correctly signed wrap of a key the server knows, to bob's real key.
      const roomKey = await createRoomKey(crypto, { room, epoch: delivery.epoch })
      const bobParty: WrapParty = { address: bobAddress, keyCid: bobKeys.cid, publicKey: bobKeys.keys.x25519.publicKey }
      const [page] = await createKeyDistribution(crypto, {
        roomKey,
        distributor: {
          address: malloryAddress,
          keyCid: own.cid,
          publicKey: own.keys.x25519.publicKey,
          secretKey: own.keys.x25519.secretKey,
          signingKey: own.keys.ed25519.secretKey,
        },
        recipients: [bobParty],
        members: new Set([malloryAddress, bobAddress]),
        logHead: { cid: delivery.logHead, index: delivery.logIndex },
      })
      return keyDeliveries(crypto.sha256, page as NonNullable<typeof page>)[0] as KeyDelivery
    })
    keyRing(bob, room).keys.clear()
    const { epochs, problems } = await bob.rooms.keys(room)
    expect(epochs).toEqual([])
    expect(problems.join('\n')).toMatch(/is not a member at log entry/)
  })

  attack('an encrypted message moved to another epoch in the database', 'at once', async () => {
    await using server = await TestServer.create({ dialect })
    const { bob, room } = await roomOfTwo(server)
    const db = server.ctx.database.db
    const row = await db
      .selectFrom('messages')
      .select(['id', 'envelope'])
      .where('room_id', '=', room)
      .where('kind', '=', 'envelope')
      .executeTakeFirstOrThrow()
    const envelope = JSON.parse(row.envelope)
    await db
      .updateTable('messages')
      .set({ envelope: JSON.stringify({ ...envelope, epoch: envelope.epoch + 1 }) })
      .where('id', '=', row.id)
      .execute()
    const page = await bob.messages(room, { limit: 100 })
    expect(page.messages.find((m) => m.id === row.id)).toMatchObject({ text: null, status: 'altered' })
  })
})
