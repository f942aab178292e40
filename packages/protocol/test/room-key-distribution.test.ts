/**
 * Room keys, their wraps and key-distribution records (docs/private-groups.md §2–4), on every
 * backend, against rooms whose membership is a real replayed log: round trips, paging, and every
 * field of a wrap, page and delivery tampered with.
 */
import {
  type CryptoBackend,
  createKeyDistribution,
  createRoomKey,
  InvalidKeyError,
  type KeyDelivery,
  type KeyDistribution,
  KeyDistributionError,
  type KeyDistributionProblem,
  keyDeliveries,
  keyDeliverySchema,
  keyDistributionSchema,
  logHeadMembers,
  MAX_EPOCH,
  openKeyDelivery,
  type RoomKey,
  RoomKeyMismatchError,
  roomKeyFromBytes,
  toBase64Url,
  unwrapRoomKey,
  verifyKeyDistribution,
  WrapKeyCache,
  wrapRoomKey,
} from '@dmtp/protocol'
import { describe, expect, test } from 'vitest'
import { asMember, type Member, makePrivateRoom } from './_private-group.js'
import { backends, makeRoomActor } from './_util.js'

const flip = (text: string, at = 3) => {
  const chars = [...text]
  chars[at] = chars[at] === 'A' ? 'B' : 'A'
  return chars.join('')
}

async function problemOf(run: () => Promise<unknown>): Promise<KeyDistributionProblem | string> {
  try {
    await run()
    return 'accepted'
  } catch (error) {
    if (error instanceof KeyDistributionError) return error.problem
    return (error as Error).name
  }
}

for (const backend of backends) {
  describe(`${backend.name}`, () => {
    describe('createRoomKey', () => {
      test('default', async () => {
        const room = toBase64Url(backend.randomBytes(16))
        const [a, b] = await Promise.all([createRoomKey(backend, { room, epoch: 1 }), createRoomKey(backend, { room, epoch: 1 })])
        expect(a.key).toHaveLength(32)
        expect(a.messageKey).toHaveLength(32)
        expect(toBase64Url(a.key)).not.toBe(toBase64Url(b.key))
        expect(a.keyId).not.toBe(b.keyId)
        expect(toBase64Url(a.messageKey)).not.toBe(toBase64Url(a.key))
      })

      test('behavior: the derived keys name room and epoch', async () => {
        const room = toBase64Url(backend.randomBytes(16))
        const key = backend.randomBytes(32)
        const one = await roomKeyFromBytes(backend, { room, epoch: 1, key })
        const two = await roomKeyFromBytes(backend, { room, epoch: 2, key })
        const other = await roomKeyFromBytes(backend, { room: toBase64Url(backend.randomBytes(16)), epoch: 1, key })
        const ids = new Set([one, two, other].map((roomKey) => roomKey.keyId))
        const messageKeys = new Set([one, two, other].map((roomKey) => toBase64Url(roomKey.messageKey)))
        expect(ids.size).toBe(3)
        expect(messageKeys.size).toBe(3)
      })

      test('behavior: epochs outside 1 … MAX_EPOCH are refused', async () => {
        const room = toBase64Url(backend.randomBytes(16))
        for (const epoch of [0, -1, 1.5, MAX_EPOCH + 1]) {
          await expect(createRoomKey(backend, { room, epoch })).rejects.toThrow(RangeError)
        }
        await expect(createRoomKey(backend, { room, epoch: 0 })).rejects.toThrowErrorMatchingInlineSnapshot(
          `[RangeError: "epoch" expected an integer from 1 to 2147483647, got 0]`,
        )
      })
    })

    describe('wrapRoomKey', () => {
      const setup = async () => {
        const [alice, bob, carol] = await Promise.all([1, 2, 3].map(async () => asMember(await makeRoomActor(backend))))
        const roomKey = await createRoomKey(backend, { room: toBase64Url(backend.randomBytes(16)), epoch: 7 })
        const wrap = await wrapRoomKey(backend, { roomKey, distributor: alice!.distributor, recipient: bob!.party })
        const context = { ...roomKey, distributor: alice!.address, distributorKey: alice!.actorKey }
        return { alice: alice!, bob: bob!, carol: carol!, roomKey, wrap, context }
      }
      const unwrap = (s: Awaited<ReturnType<typeof setup>>, changes: Partial<Parameters<typeof unwrapRoomKey>[1]> = {}) =>
        unwrapRoomKey(backend, {
          context: s.context,
          wrap: s.wrap,
          distributor: s.alice.party,
          recipient: s.bob.recipient,
          ...changes,
        })

      test('default', async () => {
        const s = await setup()
        const opened = await unwrap(s)
        expect(toBase64Url(opened.key)).toBe(toBase64Url(s.roomKey.key))
        expect(opened.keyId).toBe(s.roomKey.keyId)
        expect(toBase64Url(opened.messageKey)).toBe(toBase64Url(s.roomKey.messageKey))
        expect(s.wrap.wrap).toHaveLength(64)
      })

      test('behavior: a cached pair key wraps and unwraps the same', async () => {
        const s = await setup()
        const cache = new WrapKeyCache()
        const second = await createRoomKey(backend, { room: s.roomKey.room, epoch: 8 })
        for (const roomKey of [s.roomKey, second]) {
          const wrap = await wrapRoomKey(backend, { roomKey, distributor: s.alice.distributor, recipient: s.bob.party, cache })
          const context = { ...roomKey, distributor: s.alice.address, distributorKey: s.alice.actorKey }
          expect((await unwrap({ ...s, wrap, context })).keyId).toBe(roomKey.keyId)
          expect((await unwrap({ ...s, wrap, context }, { cache: new WrapKeyCache() })).keyId).toBe(roomKey.keyId)
        }
      })

      test('behavior: the cache holds a pair key to the X25519 keys it was made for, not only to their names', async () => {
        const s = await setup()
        const cache = new WrapKeyCache()
        await wrapRoomKey(backend, { roomKey: s.roomKey, distributor: s.alice.distributor, recipient: s.bob.party, cache })
        // The same wallet and bundle CID with Carol's X25519 key: a hit by name alone would wrap
        // under Bob's pair key, and Carol could not open it.
        const swapped = { ...s.bob.party, publicKey: s.carol.party.publicKey }
        const wrap = await wrapRoomKey(backend, {
          roomKey: s.roomKey,
          distributor: s.alice.distributor,
          recipient: swapped,
          cache,
        })
        const recipient = { ...s.carol.recipient, address: s.bob.address, keyCid: s.bob.party.keyCid }
        expect((await unwrap(s, { wrap, recipient })).keyId).toBe(s.roomKey.keyId)
        expect(await problemOf(() => unwrap(s, { wrap }))).toBe('DecryptionFailedError')
      })

      test('behavior: every bound field and byte is checked', async () => {
        const s = await setup()
        const outcomes: Record<string, string> = {}
        const attempt = async (name: string, run: () => Promise<unknown>) => {
          outcomes[name] = await problemOf(run)
        }
        await attempt('another member opens it', () => unwrap(s, { recipient: s.carol.recipient }))
        await attempt('renamed to another member', () =>
          unwrap(s, {
            wrap: { ...s.wrap, recipient: s.carol.address, recipientKey: s.carol.actorKey },
            recipient: { ...s.carol.recipient },
          }),
        )
        await attempt('wrong epoch', () => unwrap(s, { context: { ...s.context, epoch: 8 } }))
        await attempt('wrong room', () => unwrap(s, { context: { ...s.context, room: toBase64Url(backend.randomBytes(16)) } }))
        await attempt('wrong key id', () => unwrap(s, { context: { ...s.context, keyId: flip(s.context.keyId) } }))
        await attempt('wrong distributor', () => unwrap(s, { context: { ...s.context, distributor: s.carol.address } }))
        await attempt('wrong distributor bundle', () =>
          unwrap(s, { context: { ...s.context, distributorKey: s.carol.actorKey } }),
        )
        await attempt('distributor X25519 key of another', () =>
          unwrap(s, { distributor: { ...s.alice.party, publicKey: s.carol.party.publicKey } }),
        )
        await attempt('wrong recipient bundle', () =>
          unwrap(s, {
            wrap: { ...s.wrap, recipientKey: s.carol.actorKey },
            recipient: { ...s.bob.recipient, keyCid: s.carol.actorKey },
          }),
        )
        await attempt('flipped ciphertext bit', () => unwrap(s, { wrap: { ...s.wrap, wrap: flip(s.wrap.wrap, 10) } }))
        await attempt('flipped tag bit', () => unwrap(s, { wrap: { ...s.wrap, wrap: flip(s.wrap.wrap, 60) } }))
        await attempt('flipped nonce bit', () => unwrap(s, { wrap: { ...s.wrap, nonce: flip(s.wrap.nonce) } }))
        expect(outcomes).toEqual({
          'another member opens it': 'RoomKeyMismatchError',
          'renamed to another member': 'DecryptionFailedError',
          'wrong epoch': 'DecryptionFailedError',
          'wrong room': 'DecryptionFailedError',
          'wrong key id': 'DecryptionFailedError',
          'wrong distributor': 'DecryptionFailedError',
          'wrong distributor bundle': 'DecryptionFailedError',
          'distributor X25519 key of another': 'DecryptionFailedError',
          'wrong recipient bundle': 'DecryptionFailedError',
          'flipped ciphertext bit': 'DecryptionFailedError',
          'flipped tag bit': 'DecryptionFailedError',
          'flipped nonce bit': 'DecryptionFailedError',
        })
      })

      test('behavior: a key other than the one the key id commits to is refused', async () => {
        const s = await setup()
        const decoy = await roomKeyFromBytes(backend, { room: s.roomKey.room, epoch: 7, key: backend.randomBytes(32) })
        // The distributor wraps one key but signs another's id (a split view of one epoch).
        const wrap = await wrapRoomKey(backend, {
          roomKey: { ...decoy, keyId: s.roomKey.keyId },
          distributor: s.alice.distributor,
          recipient: s.bob.party,
        })
        await expect(unwrap(s, { wrap })).rejects.toThrow(RoomKeyMismatchError)
      })

      test('behavior: a low-order recipient key is refused', async () => {
        const s = await setup()
        const recipient = { ...s.bob.party, publicKey: new Uint8Array(32) }
        await expect(wrapRoomKey(backend, { roomKey: s.roomKey, distributor: s.alice.distributor, recipient })).rejects.toThrow(
          InvalidKeyError,
        )
      })
    })

    describe('createKeyDistribution', () => {
      test('default (every member opens its delivery; the page verifies whole)', async () => {
        const { room, members, owner, state } = await makePrivateRoom(4, backend)
        const { logHead, members: set } = logHeadMembers(state)
        const roomKey = await createRoomKey(backend, { room, epoch: 1 })
        const pages = await createKeyDistribution(backend, {
          roomKey,
          distributor: owner.distributor,
          recipients: members.map((m) => m.party),
          members: set,
          logHead,
        })
        expect(pages).toHaveLength(1)
        const [page] = pages as [KeyDistribution]
        expect(keyDistributionSchema.parse(page)).toEqual(page)
        expect(page.recipients.map((w) => w.recipient.toLowerCase())).toEqual(members.map((m) => m.address.toLowerCase()).sort())
        await verifyKeyDistribution(backend, {
          distribution: page,
          distributorPublicKey: owner.keys.ed25519.publicKey,
          members: set,
          logHead,
        })
        await expectEveryMemberOpens(backend, page, members, roomKey, set, logHead)
      })

      test('behavior: pages, each signed, cover every member once', async () => {
        const { room, members, owner, state } = await makePrivateRoom(5, backend)
        const { logHead, members: set } = logHeadMembers(state)
        const roomKey = await createRoomKey(backend, { room, epoch: 3 })
        const pages = await createKeyDistribution(backend, {
          roomKey,
          distributor: owner.distributor,
          recipients: members.map((m) => m.party),
          members: set,
          logHead,
          pageSize: 2,
        })
        expect(pages.map((p) => [p.page, p.pages, p.recipients.length])).toEqual([
          [0, 3, 2],
          [1, 3, 2],
          [2, 3, 1],
        ])
        for (const page of pages) {
          await verifyKeyDistribution(backend, {
            distribution: page,
            distributorPublicKey: owner.keys.ed25519.publicKey,
            members: set,
            logHead,
          })
          await expectEveryMemberOpens(backend, page, members, roomKey, set, logHead)
        }
        expect(new Set(pages.flatMap((p) => p.recipients.map((w) => w.recipient))).size).toBe(5)
      })

      test('behavior: a removed member is no recipient, and a client refuses to wrap to one', async () => {
        const { room, members, owner, state, append } = await makePrivateRoom(3, backend)
        const removed = members[2] as Member
        await append(owner, { type: 'kick', members: [removed.address] })
        const { logHead, members: set } = logHeadMembers(state)
        expect(set.has(removed.address)).toBe(false)
        const roomKey = await createRoomKey(backend, { room, epoch: 2 })
        const attempt = problemOf(() =>
          createKeyDistribution(backend, {
            roomKey,
            distributor: owner.distributor,
            recipients: members.map((m) => m.party),
            members: set,
            logHead,
          }),
        )
        expect(await attempt).toBe('recipient_not_member')
        const byRemoved = problemOf(() =>
          createKeyDistribution(backend, {
            roomKey,
            distributor: removed.distributor,
            recipients: [removed.party],
            members: set,
            logHead,
          }),
        )
        expect(await byRemoved).toBe('distributor_not_member')
      })
    })
  })
}

async function expectEveryMemberOpens(
  backend: CryptoBackend,
  page: KeyDistribution,
  members: Member[],
  roomKey: RoomKey,
  set: ReadonlySet<string>,
  logHead: { cid: string; index: number },
) {
  const deliveries = keyDeliveries(backend.sha256, page)
  expect(deliveries).toHaveLength(page.recipients.length)
  const owner = members.find((m) => m.address === page.distributor) as Member
  for (const delivery of deliveries) {
    expect(keyDeliverySchema.parse(delivery)).toEqual(delivery)
    const member = members.find((m) => m.address === delivery.recipient.recipient) as Member
    const opened = await openKeyDelivery(backend, {
      delivery,
      distributor: { ed25519: owner.keys.ed25519.publicKey, x25519: owner.keys.x25519.publicKey },
      recipient: member.recipient,
      members: set,
      logHead,
    })
    expect(opened.keyId).toBe(roomKey.keyId)
    expect(toBase64Url(opened.messageKey)).toBe(toBase64Url(roomKey.messageKey))
  }
}

describe('verifyKeyDistribution (tampering)', async () => {
  const backend = backends[0] as CryptoBackend
  const { room, members, owner, state } = await makePrivateRoom(4, backend)
  const { logHead, members: set } = logHeadMembers(state)
  const outsider = asMember(await makeRoomActor(backend))
  const carol = members[2] as Member
  const roomKey = await createRoomKey(backend, { room, epoch: 5 })
  const [page] = (await createKeyDistribution(backend, {
    roomKey,
    distributor: owner.distributor,
    recipients: members.map((m) => m.party),
    members: set,
    logHead,
  })) as [KeyDistribution]
  const verify = (distribution: KeyDistribution, changes: Partial<Parameters<typeof verifyKeyDistribution>[1]> = {}) =>
    problemOf(() =>
      verifyKeyDistribution(backend, {
        distribution,
        distributorPublicKey: owner.keys.ed25519.publicKey,
        members: set,
        logHead,
        ...changes,
      }),
    )
  const outsiderWrap = await wrapRoomKey(backend, { roomKey, distributor: owner.distributor, recipient: outsider.party })
  const resign = async (record: KeyDistribution, signer: Member) =>
    (
      await createKeyDistribution(backend, {
        roomKey: { ...roomKey, room: record.room, epoch: record.epoch },
        distributor: { ...signer.distributor, address: record.distributor, keyCid: record.distributorKey },
        recipients: members.map((m) => m.party),
        members: new Set([...set, record.distributor]),
        logHead,
      })
    )[0] as KeyDistribution

  test('default', async () => {
    expect(await verify(page)).toBe('accepted')
  })

  test.each<
    [string, () => Promise<KeyDistribution> | KeyDistribution, Partial<Parameters<typeof verifyKeyDistribution>[1]>, string]
  >([
    ['checked at another log head', () => page, { logHead: { ...logHead, cid: members[0]!.actorKey } }, 'log_head'],
    ['another log index', () => ({ ...page, logIndex: page.logIndex - 1 }), {}, 'log_head'],
    [
      'a wrap for a non-member added',
      () => ({
        ...page,
        recipients: [...page.recipients, outsiderWrap].sort((a, b) =>
          a.recipient.toLowerCase() < b.recipient.toLowerCase() ? -1 : 1,
        ),
      }),
      {},
      'recipient_not_member',
    ],
    [
      'a wrap for a non-member in place of a member',
      () => ({ ...page, recipients: page.recipients.map((w, i) => (i === 0 ? { ...w, recipient: outsider.address } : w)) }),
      {},
      'recipient_not_member',
    ],
    ['a member named twice', () => ({ ...page, recipients: [page.recipients[0]!, ...page.recipients] }), {}, 'recipient_order'],
    ['recipients reordered', () => ({ ...page, recipients: [...page.recipients].reverse() }), {}, 'recipient_order'],
    ['a wrap removed', () => ({ ...page, recipients: page.recipients.slice(1) }), {}, 'root'],
    [
      'a flipped wrap bit',
      () => ({ ...page, recipients: page.recipients.map((w, i) => (i === 1 ? { ...w, wrap: flip(w.wrap, 9) } : w)) }),
      {},
      'root',
    ],
    [
      'a flipped nonce bit',
      () => ({ ...page, recipients: page.recipients.map((w, i) => (i === 1 ? { ...w, nonce: flip(w.nonce) } : w)) }),
      {},
      'root',
    ],
    [
      'a wrap to another bundle',
      () => ({ ...page, recipients: page.recipients.map((w, i) => (i === 1 ? { ...w, recipientKey: outsider.actorKey } : w)) }),
      {},
      'root',
    ],
    ['a stale bundle of a member', () => page, { recipientKeys: new Map([[carol.address, outsider.actorKey]]) }, 'recipient_key'],
    ['another root', () => ({ ...page, root: flip(page.root) }), {}, 'root'],
    ['another epoch', () => ({ ...page, epoch: 6 }), {}, 'signature'],
    ['another room', () => ({ ...page, room: flip(page.room) }), {}, 'signature'],
    ['another key id', () => ({ ...page, keyId: flip(page.keyId) }), {}, 'signature'],
    ['another distributor bundle', () => ({ ...page, distributorKey: carol.actorKey }), {}, 'signature'],
    ['another page count', () => ({ ...page, pages: 2 }), {}, 'signature'],
    ['page past the count', () => ({ ...page, page: 1 }), {}, 'page'],
    ['a flipped signature bit', () => ({ ...page, signature: flip(page.signature, 20) }), {}, 'signature'],
    ['signed by a member who is not the distributor', () => resign(page, carol), {}, 'signature'],
    [
      'by a distributor who is not a member',
      () => resign({ ...page, distributor: outsider.address, distributorKey: outsider.actorKey }, outsider),
      { distributorPublicKey: outsider.keys.ed25519.publicKey },
      'distributor_not_member',
    ],
  ])('behavior: %s', async (_name, make, changes, expected) => {
    expect(await verify(await make(), changes)).toBe(expected)
  })

  test('behavior: deliveries are checked as the page', async () => {
    const bob = members[1] as Member
    const deliveries = keyDeliveries(backend.sha256, page)
    const mine = deliveries.find((d) => d.recipient.recipient === bob.address) as KeyDelivery
    const other = deliveries.find((d) => d.recipient.recipient === carol.address) as KeyDelivery
    const open = (delivery: KeyDelivery, changes: Partial<Parameters<typeof openKeyDelivery>[1]> = {}) =>
      problemOf(() =>
        openKeyDelivery(backend, {
          delivery,
          distributor: { ed25519: owner.keys.ed25519.publicKey, x25519: owner.keys.x25519.publicKey },
          recipient: bob.recipient,
          members: set,
          logHead,
          ...changes,
        }),
      )
    expect(await open(mine)).toBe('accepted')
    expect(await open(other)).toBe('RoomKeyMismatchError')
    expect(await open({ ...mine, recipient: other.recipient })).toBe('root')
    expect(await open({ ...mine, proof: other.proof })).toBe('root')
    expect(await open({ ...mine, proof: [...mine.proof].reverse() })).toBe(mine.proof.length > 1 ? 'root' : 'accepted')
    expect(await open({ ...mine, recipient: { ...mine.recipient, wrap: flip(mine.recipient.wrap, 5) } })).toBe('root')
    expect(await open({ ...mine, epoch: 4 })).toBe('signature')
    expect(await open({ ...mine, signature: flip(mine.signature, 8) })).toBe('signature')
    expect(await open(mine, { logHead: { ...logHead, index: logHead.index + 1 } })).toBe('log_head')
    expect(await open(mine, { members: new Set([...set].filter((a) => a !== bob.address)) })).toBe('recipient_not_member')
    expect(await open(mine, { members: new Set([...set].filter((a) => a !== owner.address)) })).toBe('distributor_not_member')
    expect(
      await open(mine, { distributor: { ed25519: carol.keys.ed25519.publicKey, x25519: owner.keys.x25519.publicKey } }),
    ).toBe('signature')
  })

  test('behavior: errors say what is wrong', async () => {
    await expect(
      verifyKeyDistribution(backend, {
        distribution: page,
        distributorPublicKey: owner.keys.ed25519.publicKey,
        members: new Set([owner.address]),
        logHead,
      }),
    ).rejects.toThrow(/Invalid key distribution: a key is wrapped to 0x[0-9a-fA-F]{40}, not a member at log entry \d+/)
  })
})
