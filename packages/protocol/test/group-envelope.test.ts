/**
 * Private-group messages (`dmtp-group-v1`) and the small signed records of the flows (invite link,
 * rotation intent, rotation notice): round trips on every backend, and every field tampered with.
 */
import {
  createRoomKey,
  DecryptionFailedError,
  type GroupEnvelope,
  groupEnvelopeSchema,
  groupEnvelopeSigningBytes,
  inviteLinkSchema,
  inviteLinkText,
  MIN_PADDED_LENGTH,
  openGroupEnvelope,
  parseInviteLink,
  RecordExpiredError,
  RoomKeyMismatchError,
  roomKeyFromBytes,
  rotationApplies,
  rotationDueSchema,
  rotationIntentSchema,
  SignatureInvalidError,
  sealGroupEnvelope,
  signInviteLink,
  signRotationIntent,
  toBase64Url,
  toBlock,
  verifyGroupEnvelopeSignature,
  verifyInviteLink,
  verifyRotationIntent,
} from '@dmtp/protocol'
import { describe, expect, test } from 'vitest'
import { asMember, groupHeader } from './_private-group.js'
import { backends, makeRoomActor } from './_util.js'

const flip = (text: string, at = 3) => {
  const chars = [...text]
  chars[at] = chars[at] === 'A' ? 'B' : 'A'
  return chars.join('')
}
const nameOf = async (run: () => Promise<unknown>) =>
  run().then(
    () => 'accepted',
    (error: Error) => error.name,
  )

for (const backend of backends) {
  describe(`sealGroupEnvelope (${backend.name})`, async () => {
    const [alice, bob] = await Promise.all([makeRoomActor(backend), makeRoomActor(backend)]).then((a) => a.map(asMember))
    const room = toBase64Url(backend.randomBytes(16))
    const logHead = toBlock({ entry: 'head' }).cid
    const roomKey = await createRoomKey(backend, { room, epoch: 2 })
    const header = groupHeader(room, alice!, 2, logHead)
    const envelope = await sealGroupEnvelope(backend, {
      header,
      content: { type: 'text', text: 'gm' },
      roomKey,
      signingKey: alice!.keys.ed25519.secretKey,
    })
    const open = (e: GroupEnvelope, changes: Partial<Parameters<typeof openGroupEnvelope>[1]> = {}) =>
      nameOf(() =>
        openGroupEnvelope(backend, { envelope: e, roomKey, senderPublicKey: alice!.keys.ed25519.publicKey, ...changes }),
      )

    test('default', async () => {
      expect(groupEnvelopeSchema.parse(envelope)).toEqual(envelope)
      expect(await openGroupEnvelope(backend, { envelope, roomKey, senderPublicKey: alice!.keys.ed25519.publicKey })).toEqual({
        type: 'text',
        text: 'gm',
      })
      expect(await verifyGroupEnvelopeSignature(backend, envelope, alice!.keys.ed25519.publicKey)).toBe(true)
    })

    test('behavior: padded to a size class', async () => {
      expect(Buffer.from(envelope.messages, 'base64url')).toHaveLength(MIN_PADDED_LENGTH + 16)
    })

    test('behavior: an action round-trips and its kind is bound', async () => {
      const reaction = await sealGroupEnvelope(backend, {
        header: { ...header, type: 'react', ref: toBase64Url(backend.randomBytes(16)) },
        content: { type: 'reaction', emoji: '👍' },
        roomKey,
        signingKey: alice!.keys.ed25519.secretKey,
      })
      expect(
        await openGroupEnvelope(backend, { envelope: reaction, roomKey, senderPublicKey: alice!.keys.ed25519.publicKey }),
      ).toEqual({
        type: 'reaction',
        emoji: '👍',
      })
      await expect(
        sealGroupEnvelope(backend, {
          header: { ...header, type: 'react', ref: reaction.id },
          content: { type: 'text', text: 'x' },
          roomKey,
          signingKey: alice!.keys.ed25519.secretKey,
        }),
      ).rejects.toThrow(TypeError)
    })

    test('behavior: every header field is signed', async () => {
      const changes: Record<string, Partial<GroupEnvelope>> = {
        id: { id: flip(envelope.id) },
        sender: { sender: bob!.address },
        senderKey: { senderKey: bob!.actorKey },
        timestamp: { timestamp: '2020-01-01T00:00:00.000Z' },
        logHead: { logHead: toBlock({ entry: 'other' }).cid },
        type: { type: 'edit', ref: envelope.id },
        nonce: { nonce: flip(envelope.nonce) },
        messages: { messages: flip(envelope.messages, 30) },
        signature: { signature: flip(envelope.signature, 30) },
      }
      const outcomes = Object.fromEntries(
        await Promise.all(
          Object.entries(changes).map(async ([field, change]) => [field, await open({ ...envelope, ...change })]),
        ),
      )
      expect(Object.values(outcomes)).toEqual(Object.keys(changes).map(() => SignatureInvalidError.name))
    })

    test('behavior: a member re-signing another header cannot reuse the ciphertext (the header is in the AAD)', async () => {
      const { signature: _s, ...unsigned } = envelope
      // Bob, a member, takes Alice's ciphertext, names himself, another id or another epoch, and signs.
      const resign = async (change: Partial<GroupEnvelope>, key = roomKey) => {
        const forged = { ...unsigned, ...change }
        const signature = toBase64Url(await backend.ed25519Sign(bob!.keys.ed25519.secretKey, groupEnvelopeSigningBytes(forged)))
        return nameOf(() =>
          openGroupEnvelope(backend, {
            envelope: { ...forged, signature },
            roomKey: key,
            senderPublicKey: bob!.keys.ed25519.publicKey,
          }),
        )
      }
      expect(await resign({ sender: bob!.address, senderKey: bob!.actorKey })).toBe(DecryptionFailedError.name)
      expect(await resign({ id: flip(envelope.id) })).toBe(DecryptionFailedError.name)
      expect(await resign({ timestamp: '2020-01-01T00:00:00.000Z' })).toBe(DecryptionFailedError.name)
      expect(await resign({ logHead: toBlock({ entry: 'other' }).cid })).toBe(DecryptionFailedError.name)
      const epoch3 = await roomKeyFromBytes(backend, { room, epoch: 3, key: roomKey.key })
      expect(await resign({ epoch: 3 }, epoch3)).toBe(DecryptionFailedError.name)
    })

    test('behavior: the key must be the envelope room and epoch', async () => {
      const other = await createRoomKey(backend, { room, epoch: 3 })
      const sameEpoch = await createRoomKey(backend, { room, epoch: 2 })
      const otherRoom = await createRoomKey(backend, { room: flip(room), epoch: 2 })
      expect(await open(envelope, { roomKey: other })).toBe(RoomKeyMismatchError.name)
      expect(await open(envelope, { roomKey: otherRoom })).toBe(RoomKeyMismatchError.name)
      expect(await open(envelope, { roomKey: sameEpoch })).toBe(DecryptionFailedError.name)
      expect(await open(envelope, { senderPublicKey: bob!.keys.ed25519.publicKey })).toBe(SignatureInvalidError.name)
      await expect(
        sealGroupEnvelope(backend, {
          header: { ...header, epoch: 3 },
          content: { type: 'text', text: 'x' },
          roomKey,
          signingKey: alice!.keys.ed25519.secretKey,
        }),
      ).rejects.toThrow(RoomKeyMismatchError)
    })
  })
}

describe('invite links, rotation records', async () => {
  const backend = backends[0]!
  const [alice, bob] = await Promise.all([makeRoomActor(backend), makeRoomActor(backend)])
  const room = toBase64Url(backend.randomBytes(16))
  const logHead = toBlock({ entry: 'head' }).cid
  const at = '2026-06-01T12:00:00.000Z'
  const before = new Date('2026-06-01T13:00:00.000Z')

  test('signInviteLink / verifyInviteLink / parseInviteLink', async () => {
    const link = await signInviteLink(backend, {
      link: {
        v: 1,
        id: toBase64Url(backend.randomBytes(16)),
        room,
        issuer: alice!.address,
        issuerKey: alice!.actorKey,
        logHead,
        at,
        expiresAt: null,
        maxUses: 25,
        approval: true,
      },
      signingKey: alice!.keys.ed25519.secretKey,
    })
    expect(inviteLinkSchema.parse(link)).toEqual(link)
    expect(parseInviteLink(inviteLinkText(link))).toEqual(link)
    const verify = (l: typeof link, now = before) =>
      nameOf(() => verifyInviteLink(backend, { link: l, issuerPublicKey: alice!.keys.ed25519.publicKey, now }))
    expect(await verify(link, new Date('2100-01-01T00:00:00.000Z'))).toBe('accepted')
    expect(await verify({ ...link, approval: false })).toBe(SignatureInvalidError.name)
    expect(await verify({ ...link, maxUses: null })).toBe(SignatureInvalidError.name)
    const expiring = await signInviteLink(backend, {
      link: { ...link, expiresAt: '2026-06-01T12:30:00.000Z' },
      signingKey: alice!.keys.ed25519.secretKey,
    })
    expect(await verify(expiring)).toBe(RecordExpiredError.name)
    expect(() => parseInviteLink('https://example.org/join')).toThrow(TypeError)
    expect(() => parseInviteLink(`${inviteLinkText(link)}x`)).toThrow()
    expect(inviteLinkSchema.safeParse({ ...link, maxUses: 0 }).success).toBe(false)
  })

  test('signRotationIntent / verifyRotationIntent / rotationApplies', async () => {
    const { keyId } = await createRoomKey(backend, { room, epoch: 4 })
    const intent = await signRotationIntent(backend, {
      intent: {
        v: 1,
        room,
        fromEpoch: 3,
        toEpoch: 4,
        keyId,
        actor: bob!.address,
        actorKey: bob!.actorKey,
        logHead,
        logIndex: 9,
        at,
      },
      signingKey: bob!.keys.ed25519.secretKey,
    })
    expect(rotationIntentSchema.parse(intent)).toEqual(intent)
    const verify = (i: typeof intent) =>
      nameOf(() => verifyRotationIntent(backend, { intent: i, actorPublicKey: bob!.keys.ed25519.publicKey }))
    expect(await verify(intent)).toBe('accepted')
    expect(await verify({ ...intent, fromEpoch: 2, toEpoch: 3 })).toBe(SignatureInvalidError.name)
    expect(await verify({ ...intent, keyId: flip(keyId) })).toBe(SignatureInvalidError.name)
    expect(rotationApplies(3, intent)).toBe(true)
    // The racing loser: the server's epoch moved on to 4, its intent from 3 no longer applies.
    expect(rotationApplies(4, intent)).toBe(false)
    expect(rotationApplies(3, { fromEpoch: 3, toEpoch: 5 })).toBe(false)
    expect(rotationIntentSchema.safeParse({ ...intent, toEpoch: 5 }).success).toBe(false)
    expect(rotationIntentSchema.safeParse({ ...intent, fromEpoch: 0, toEpoch: 1 }).success).toBe(true)
  })

  test('rotationDueSchema', () => {
    const entry = toBlock({ entry: 'kick' }).cid
    expect(rotationDueSchema.safeParse({ v: 1, room, epoch: 3, cause: 'kick', entry, at }).success).toBe(true)
    expect(rotationDueSchema.safeParse({ v: 1, room, epoch: 3, cause: 'age', entry: null, at }).success).toBe(true)
    expect(rotationDueSchema.safeParse({ v: 1, room, epoch: 3, cause: 'kick', entry: null, at }).success).toBe(false)
    expect(rotationDueSchema.safeParse({ v: 1, room, epoch: 3, cause: 'count', entry, at }).success).toBe(false)
    expect(rotationDueSchema.safeParse({ v: 1, room, epoch: 3, cause: 'whim', entry: null, at }).success).toBe(false)
  })
})
