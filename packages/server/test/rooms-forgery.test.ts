/**
 * Nobody posts as someone else in a group: messages and membership events signed with another
 * member's key, naming another sender or actor, another member's key id, altered after signing,
 * or replayed, are refused by the server and store nothing. And what the server cannot be made
 * to accept, it cannot slip in either: a membership event written straight into the database
 * (unsigned, or by an actor without the permission) is flagged by any client replaying the log
 * the server serves.
 */
import { type LogEntry, type RoomEvent, toBlock } from '@dmtp/protocol'
import { nodeCryptoBackend as crypto } from '@dmtp/protocol/node'
import { afterAll, beforeAll, describe, expect, test } from 'vitest'
import { attack } from '../../sdk/test/hostile/attack.js'
import { type GroupWallet, groupWallets, keyring, replayLog, rolesOf, unlimited } from './_rooms.js'
import { DIALECTS, snapshotDb, TestServer } from './_util.js'
import { type ApiResponse, flipChar } from './_wallet.js'

describe.each(DIALECTS)('room forgery (%s)', (dialect) => {
  let server: TestServer
  let owner: GroupWallet
  let alice: GroupWallet
  let mallory: GroupWallet
  let room: string

  beforeAll(async () => {
    server = await TestServer.create({ dialect, configure: unlimited })
    ;[owner, alice, mallory] = (await groupWallets(server, 3)) as [GroupWallet, GroupWallet, GroupWallet]
    room = await owner.createRoom({ name: 'Forgeries' })
    await alice.must(room, { type: 'join' })
    await mallory.must(room, { type: 'join' })
  })
  afterAll(async () => {
    await server[Symbol.asyncDispose]()
  })

  /** Runs `post` and checks it changed nothing in the database; returns the response. */
  async function refused(post: () => Promise<ApiResponse>): Promise<ApiResponse> {
    const before = await snapshotDb(server)
    const response = await post()
    expect(await snapshotDb(server)).toEqual(before)
    return response
  }

  describe('messages', () => {
    test('default: a member posts as itself', async () => {
      const { envelope, content } = await mallory.sealSigned(room, { type: 'text', text: 'mine' })
      expect((await mallory.postSigned(envelope, content)).status).toBe(200)
    })

    // Each way of posting as another member: refused, and nothing is stored.
    attack('a group message posted as another member', 'at once', async () => {
      const text = { type: 'text' as const, text: 'I am Alice' }
      const aliceKey = alice.keys.ed25519.secretKey
      const cases: [string, () => Promise<ApiResponse>, number, string][] = [
        [
          "Alice's key, Mallory's name",
          async () => {
            const { envelope, content } = await mallory.sealSigned(room, text, { signingKey: aliceKey })
            return mallory.postSigned(envelope, content)
          },
          400,
          'invalid_signature',
        ],
        [
          "Alice's name, Mallory's key",
          async () => {
            const { envelope, content } = await mallory.sealSigned(room, text, { overrides: { sender: alice.address } })
            return mallory.postSigned(envelope, content)
          },
          403,
          'sender_mismatch',
        ],
        [
          "Alice's name, key id and key (a stolen key), posted by Mallory",
          async () => {
            const { envelope, content } = await mallory.sealSigned(room, text, {
              overrides: { sender: alice.address, senderKey: alice.bundleCid },
              signingKey: aliceKey,
            })
            return mallory.postSigned(envelope, content)
          },
          403,
          'sender_mismatch',
        ],
        [
          "Mallory's name, Alice's key id",
          async () => {
            const { envelope, content } = await mallory.sealSigned(room, text, { overrides: { senderKey: alice.bundleCid } })
            return mallory.postSigned(envelope, content)
          },
          409,
          'stale_key',
        ],
        [
          "Mallory's name, Alice's key id and key",
          async () => {
            const { envelope, content } = await mallory.sealSigned(room, text, {
              overrides: { senderKey: alice.bundleCid },
              signingKey: aliceKey,
            })
            return mallory.postSigned(envelope, content)
          },
          409,
          'stale_key',
        ],
        [
          "Alice's signed message, posted by Mallory",
          async () => {
            const { envelope, content } = await alice.sealSigned(room, text)
            return mallory.postSigned(envelope, content)
          },
          403,
          'sender_mismatch',
        ],
        [
          "Alice's signed message with other words",
          async () => {
            const { envelope } = await alice.sealSigned(room, text)
            return alice.postSigned(envelope, { type: 'text', text: 'I am someone else' })
          },
          400,
          'invalid_envelope',
        ],
        [
          "Alice's signed message with a field changed",
          async () => {
            const { envelope, content } = await alice.sealSigned(room, text)
            return alice.postSigned({ ...envelope, timestamp: new Date(Date.now() - 1000).toISOString() }, content)
          },
          400,
          'invalid_signature',
        ],
        [
          "Alice's signature flipped",
          async () => {
            const { envelope, content } = await alice.sealSigned(room, text)
            return alice.postSigned({ ...envelope, signature: flipChar(envelope.signature) }, content)
          },
          400,
          'invalid_signature',
        ],
      ]
      for (const [what, post, status, code] of cases) {
        const response = await refused(post)
        expect({ what, status: response.status, code: response.body.error?.code }).toEqual({ what, status, code })
      }
    })

    // Stored once; by another wallet, or with other bytes under its id, refused.
    attack('a signed group message posted again', 'at once', async () => {
      const { envelope, content } = await alice.sealSigned(room, { type: 'text', text: 'once' })
      const first = await alice.postSigned(envelope, content)
      expect(first.status).toBe(200)
      const again = await refused(() => alice.postSigned(envelope, content))
      expect(again.status).toBe(200)
      expect(again.body).toEqual(first.body)
      const stolen = await refused(() => mallory.postSigned(envelope, content))
      expect(stolen.body.error.code).toBe('sender_mismatch')
      // The same id with other bytes is not a retry.
      const { envelope: other } = await alice.sealSigned(room, content, { overrides: { id: envelope.id } })
      expect((await refused(() => alice.postSigned(other, content))).body.error.code).toBe('message_id_conflict')
    })
  })

  describe('events', () => {
    // Each way of acting as another member: refused, and nothing is stored.
    attack('a group event posted as another member', 'at once', async () => {
      const aliceKey = alice.keys.ed25519.secretKey
      const elsewhere = await alice.createRoom({ name: 'Elsewhere' })
      const kickOwner = { type: 'kick' as const, members: [owner.address] }
      const cases: [string, () => Promise<ApiResponse>, number, string][] = [
        [
          "Alice's key, Mallory's name",
          async () => mallory.postEvent(room, await mallory.signEvent(room, kickOwner, { signingKey: aliceKey })),
          400,
          'invalid_signature',
        ],
        [
          "Alice's name, Mallory's key",
          async () => mallory.postEvent(room, await mallory.signEvent(room, kickOwner, { overrides: { actor: alice.address } })),
          403,
          'sender_mismatch',
        ],
        [
          "Alice's name, key id and key, posted by Mallory",
          async () =>
            mallory.postEvent(
              room,
              await mallory.signEvent(room, kickOwner, {
                overrides: { actor: alice.address, actorKey: alice.bundleCid },
                signingKey: aliceKey,
              }),
            ),
          403,
          'sender_mismatch',
        ],
        [
          "Mallory's name, Alice's key id",
          async () =>
            mallory.postEvent(
              room,
              await mallory.signEvent(room, { type: 'leave' }, { overrides: { actorKey: alice.bundleCid } }),
            ),
          409,
          'stale_key',
        ],
        [
          "the owner's signed promotion of Mallory, posted by Mallory",
          async () =>
            mallory.postEvent(room, await owner.signEvent(room, { type: 'set_role', members: [mallory.address], role: 'admin' })),
          403,
          'sender_mismatch',
        ],
        [
          "the owner's signed event with the members changed",
          async () => {
            const event = await owner.signEvent(room, { type: 'set_role', members: [alice.address], role: 'admin' })
            return owner.postEvent(room, { ...event, members: [mallory.address] })
          },
          400,
          'invalid_signature',
        ],
        [
          "Alice's signed leave, moved to another room",
          async () => {
            const event = await alice.signEvent(elsewhere, { type: 'leave' })
            return alice.postEvent(room, { ...event, room })
          },
          400,
          'invalid_signature',
        ],
      ]
      for (const [what, post, status, code] of cases) {
        const response = await refused(post)
        expect({ what, status: response.status, code: response.body.error?.code }).toEqual({ what, status, code })
      }
      expect(await rolesOf(owner, room)).toMatchObject({ [owner.address]: 'owner', [mallory.address]: 'member' })
    })

    // No second entry, even once it would pass again.
    attack('a signed group event replayed', 'at once', async () => {
      const [victim] = (await groupWallets(server, 1)) as [GroupWallet]
      await victim.must(room, { type: 'join' })
      const kick = await owner.signEvent(room, { type: 'kick', members: [victim.address] })
      const first = await owner.postEvent(room, kick)
      expect(first.status).toBe(200)
      const entries = (await owner.log(room)).length
      const again = await refused(() => owner.postEvent(room, kick))
      expect(again.status).toBe(200)
      expect(again.body.entry).toEqual(first.body.entry)
      // The victim is back: the old kick, replayed, still changes nothing.
      await victim.must(room, { type: 'join' })
      const snapshot = await snapshotDb(server)
      const replayed = await owner.postEvent(room, kick)
      expect(replayed.body.entry).toEqual(first.body.entry)
      expect(await snapshotDb(server)).toEqual(snapshot)
      expect((await rolesOf(owner, room))[victim.address]).toBe('member')
      expect((await owner.log(room)).length).toBe(entries + 1)
      // Posted by another wallet, it is refused; a new event under its id is refused.
      expect((await refused(() => mallory.postEvent(room, kick))).body.error.code).toBe('sender_mismatch')
      const reused = await owner.signEvent(room, { type: 'kick', members: [victim.address] }, { overrides: { id: kick.id } })
      expect((await refused(() => owner.postEvent(room, reused))).body.error.code).toBe('message_id_conflict')
    })

    // Refused (clock_skew).
    attack('a group event signed long ago or far ahead', 'at once', async () => {
      for (const offset of [-10 * 60_000, 10 * 60_000]) {
        const event = await alice.signEvent(
          room,
          { type: 'leave' },
          { overrides: { at: new Date(Date.now() + offset).toISOString() } },
        )
        expect((await refused(() => alice.postEvent(room, event))).body.error.code).toBe('clock_skew')
      }
    })
  })

  describe('log written behind the server', () => {
    /** Appends `event` to the room's log the way the writer does, straight into the database. */
    async function insertLogEntry(roomId: string, event: RoomEvent): Promise<LogEntry> {
      const db = server.ctx.database.db
      const row = await db.selectFrom('rooms').selectAll().where('id', '=', roomId).executeTakeFirstOrThrow()
      const counter = await db.selectFrom('counters').select('value').where('name', '=', 'pos').executeTakeFirstOrThrow()
      const seq = row.seq + 1
      const pos = counter.value + 1
      const entry: LogEntry = { v: 1, room: roomId, seq, index: row.log_index + 1, prev: row.log_head, event }
      const block = toBlock(entry, crypto.sha256)
      const now = new Date().toISOString()
      await db
        .insertInto('messages')
        .values({
          id: event.id,
          room_id: roomId,
          seq,
          pos,
          kind: 'log',
          type: event.type,
          ref: null,
          sender: event.actor,
          receiver: null,
          timestamp: event.at,
          cid: block.cid,
          envelope: block.text,
          content: null,
          content_cid: null,
          e2ee: 0,
          received_at: now,
          recalled_by: null,
          pinned_by: null,
        })
        .execute()
      await db
        .insertInto('cids')
        .values({ cid: block.cid, kind: 'log', room_id: roomId, address: null, created_at: now })
        .execute()
      await db
        .updateTable('rooms')
        .set({ seq, last_pos: pos, log_index: entry.index, log_head: block.cid, log_head_seq: seq })
        .where('id', '=', roomId)
        .execute()
      await db.updateTable('counters').set({ value: pos }).where('name', '=', 'pos').execute()
      server.ctx.roomCache.forget(roomId)
      return entry
    }

    test('behavior: an event by an actor without the permission is flagged by a replay of the served log', async () => {
      const target = await owner.createRoom({ name: 'Tampered' })
      await alice.must(target, { type: 'join' })
      await mallory.must(target, { type: 'join' })
      // Signed by Mallory herself, but a member may not kick (let alone the owner).
      const forged = await mallory.signEvent(target, { type: 'kick', members: [owner.address] })
      const entry = await insertLogEntry(target, forged)
      // The server goes on from the entry it was made to serve.
      await alice.must(target, { type: 'leave' })
      const records = await owner.log(target)
      expect(records.map((record) => record.entry.index)).toEqual([1, 2, 3, 4, 5])
      const { problems, state } = await replayLog(target, records, keyring([owner, alice, mallory]))
      expect(problems).toEqual([
        { index: entry.index, type: 'kick', problem: expect.stringContaining('This needs the "kick" permission') },
      ])
      // The replay keeps the state an honest server would have: the owner was never kicked.
      expect(state.member(owner.address)).toMatchObject({ status: 'member', role: 'owner' })
    })

    test('behavior: an event without a valid signature is flagged by a replay of the served log', async () => {
      const target = await owner.createRoom({ name: 'Unsigned' })
      await mallory.must(target, { type: 'join' })
      // In the owner's name, signed by Mallory: the rules would pass it, the signature does not.
      const promoted = await mallory.signEvent(
        target,
        { type: 'set_role', members: [mallory.address], role: 'admin' },
        { overrides: { actor: owner.address, actorKey: owner.bundleCid } },
      )
      const noSignature = { ...(await owner.signEvent(target, { type: 'update', name: 'Pwned' })), signature: 'A'.repeat(86) }
      const first = await insertLogEntry(target, promoted)
      const second = await insertLogEntry(target, noSignature as RoomEvent)
      const records = await owner.log(target)
      expect(records.map((record) => record.entry.event.id)).toContain(promoted.id)
      const { problems } = await replayLog(target, records, keyring([owner, mallory]))
      expect(problems).toEqual([
        { index: first.index, type: 'set_role', problem: 'signature does not verify' },
        { index: second.index, type: 'update', problem: 'signature does not verify' },
      ])
    })
  })
})
