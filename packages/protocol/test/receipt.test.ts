/**
 * Signed receipts (protocol.md §5.6): a fixed vector pins the leaf encoding, the tree and the
 * signature; every receipt of a batch verifies on every backend; a changed field, proof step,
 * root, signature or key fails; evidence checks name a real contradiction and refuse the rest.
 */
import {
  type CryptoBackend,
  checkReceiptEvidence,
  concatBytes,
  createKeyBundle,
  generateDmtpKeys,
  type KeyBundle,
  nobleBackend,
  type ReceiptFields,
  type RoomRecord,
  receiptContradiction,
  receiptLeaf,
  receiptSchema,
  type SignedAck,
  signReceiptBatch,
  toBase64Url,
  toBlock,
  utf8ToBytes,
  verifyReceipt,
  wrapDmtpKeys,
} from '@dmtp/protocol'
import { sha256 } from '@noble/hashes/sha2.js'
import { describe, expect, test } from 'vitest'
import { backends, makeEnvelope, testWallet } from './_util.js'

const ROOM = 'cm9vbS1yb29tLXJvb20tMQ'
const CID = 'bagaaierasords4njcts6vs7qvdjfcvgnume4hqohf65zsfguprqphs3icwea'

/** Three acks of one commit, signed with the seed 01 02 … 20 (RFC 8032 signing is deterministic). */
const vector = {
  seed: new Uint8Array(32).map((_, i) => i + 1),
  publicKey: 'ebVWLo_mVPlAeLES6KmLp5AfhTrmlb7X4OORC60ElmQ',
  key: 'bagaaieraserverkey',
  acks: [1, 2, 3].map((seq) => ({
    id: `AAAAAAAAAAAAAAAAAAAAA${'ABC'[seq - 1]}`,
    cid: CID,
    room: ROOM,
    seq,
    receivedAt: '2026-12-01T10:00:00.000Z',
  })),
  leaves: [
    'SNaAdNd6B41OV2k7_2o7hPDE1p-HnTlhYvKOCMmnra0',
    'mokilezc2L-zBiyOLq5GN3P00CQJ4z5lYLpuMvXfkxs',
    'enCNlNrAok-RKM9TPywz1P6f_qF2Oy1tNUXYoEMFThk',
  ],
  root: 'd2Jt0JKUdLvjORWHoQB9mWZ1BGmZioMpZeonVKK8vvM',
  proofs: [
    ['rmokilezc2L-zBiyOLq5GN3P00CQJ4z5lYLpuMvXfkxs', 'renCNlNrAok-RKM9TPywz1P6f_qF2Oy1tNUXYoEMFThk'],
    ['lSNaAdNd6B41OV2k7_2o7hPDE1p-HnTlhYvKOCMmnra0', 'renCNlNrAok-RKM9TPywz1P6f_qF2Oy1tNUXYoEMFThk'],
    ['l6tp_xAtJcMZIAtZcpQtnPsUrNmRasriNuRjqinJmu28'],
  ],
  signature: 'BD0OSWTJ4y0QBzZcVXWhqkusQbKRmNpCYgvtev_nsCL4LTuSKCK9BS8Svlkpw-DWenGUXPNep1jI6ejmGDITCw',
}

async function signed(backend: CryptoBackend, acks: ReceiptFields[], seed = vector.seed, key = vector.key): Promise<SignedAck[]> {
  const receipts = await signReceiptBatch(backend, { acks, signingKey: seed, key })
  return acks.map((ack, i) => ({ ...ack, receipt: receipts[i] as SignedAck['receipt'] }))
}

/** A server key bundle with known keys, signed by a fresh operator wallet. */
async function serverBundle(): Promise<{ bundle: KeyBundle; cid: string; secretKey: Uint8Array }> {
  const wallet = testWallet()
  const keys = await generateDmtpKeys(nobleBackend)
  const encrypted = await wrapDmtpKeys(nobleBackend, { keys, wallet })
  const bundle = await createKeyBundle(nobleBackend, {
    keys,
    encrypted,
    address: wallet.address,
    domain: 'localhost:8787',
    chainId: 1,
    signMessage: wallet.signMessage,
  })
  return { bundle, cid: toBlock(bundle).cid, secretKey: keys.ed25519.secretKey }
}

/** The history record of a sent envelope, at `seq`. */
async function recordOf(seq: number): Promise<{ ack: ReceiptFields; record: RoomRecord }> {
  const envelope = await makeEnvelope()
  const receivedAt = new Date().toISOString()
  const cid = toBlock(envelope).cid
  return {
    ack: { id: envelope.id, cid, room: envelope.room, seq, receivedAt },
    record: { cid, seq, e2ee: true, receivedAt, envelope } as RoomRecord,
  }
}

describe('receiptLeaf', () => {
  test('default: sha256 of the domain prefix and the canonical fields, keys sorted', () => {
    const [ack] = vector.acks as [ReceiptFields]
    const text = `dmtp/v1/receipt\n{"cid":"${CID}","id":"${ack.id}","receivedAt":"${ack.receivedAt}","room":"${ROOM}","seq":1}`
    expect(toBase64Url(receiptLeaf(nobleBackend, ack))).toBe(toBase64Url(sha256(utf8ToBytes(text))))
    expect(toBase64Url(receiptLeaf(nobleBackend, ack))).toBe(vector.leaves[0])
  })

  test('behavior: fields beyond the five are not covered', () => {
    const [ack] = vector.acks as [ReceiptFields]
    const extra = { ...ack, e2ee: true, receipt: {} } as ReceiptFields
    expect(receiptLeaf(nobleBackend, extra)).toEqual(receiptLeaf(nobleBackend, ack))
  })
})

describe('signReceiptBatch', () => {
  test.each(
    backends.map((backend) => [backend.name, backend] as const),
  )('vector: fixed root, proofs and signature (%s)', async (_, backend) => {
    expect(toBase64Url(await backend.ed25519PublicKey(vector.seed))).toBe(vector.publicKey)
    const receipts = await signReceiptBatch(backend, { acks: vector.acks, signingKey: vector.seed, key: vector.key })
    expect(receipts).toEqual(
      vector.proofs.map((proof) => ({ root: vector.root, proof, signature: vector.signature, key: vector.key })),
    )
    // By hand: the third leaf has no sibling at the bottom level and moves up unchanged.
    const node = (left: Uint8Array, right: Uint8Array) => sha256(concatBytes(utf8ToBytes('dmtp/v1/batch-node\n'), left, right))
    const [a, b, c] = vector.acks.map((ack) => receiptLeaf(backend, ack)) as [Uint8Array, Uint8Array, Uint8Array]
    expect(toBase64Url(node(node(a, b), c))).toBe(vector.root)
  })

  test('behavior: one signature for the whole batch, one receipt per ack', async () => {
    const acks = Array.from({ length: 100 }, (_, i) => ({ ...(vector.acks[0] as ReceiptFields), seq: i + 1 }))
    const receipts = await signReceiptBatch(nobleBackend, { acks, signingKey: vector.seed, key: vector.key })
    expect(new Set(receipts.map((receipt) => receipt.signature)).size).toBe(1)
    expect(new Set(receipts.map((receipt) => receipt.root)).size).toBe(1)
    expect(Math.max(...receipts.map((receipt) => receipt.proof.length))).toBe(7)
    expect(await signReceiptBatch(nobleBackend, { acks: [], signingKey: vector.seed, key: vector.key })).toEqual([])
  })

  test('behavior: a batch of one has an empty proof and its leaf as root', async () => {
    const [ack] = await signed(nobleBackend, [vector.acks[0] as ReceiptFields])
    expect(ack?.receipt.proof).toEqual([])
    expect(ack?.receipt.root).toBe(vector.leaves[0])
    expect(receiptSchema.safeParse(ack?.receipt).success).toBe(true)
  })
})

describe('verifyReceipt', () => {
  const publicKey = () => nobleBackend.ed25519PublicKey(vector.seed)

  test.each(
    backends.map((backend) => [backend.name, backend] as const),
  )('default: every receipt of a batch verifies (%s)', async (_, backend) => {
    const acks = await signed(backend, vector.acks)
    const key = await publicKey()
    for (const ack of acks) expect(await verifyReceipt(backend, ack, key)).toBe(true)
  })

  test('behavior: a shared cache checks each root and signature once', async () => {
    const acks = await signed(nobleBackend, vector.acks)
    const checked = new Map<string, Promise<boolean>>()
    const key = await publicKey()
    for (const ack of acks) expect(await verifyReceipt(nobleBackend, ack, key, { checked })).toBe(true)
    expect(checked.size).toBe(1)
    // The cache holds signature checks only: a changed field still fails the path to the root.
    expect(await verifyReceipt(nobleBackend, { ...(acks[0] as SignedAck), seq: 9 }, key, { checked })).toBe(false)
  })

  test('security: tampering with any field, step, root, signature or key fails', async () => {
    const [ack, second] = (await signed(nobleBackend, vector.acks)) as [SignedAck, SignedAck, SignedAck]
    const key = await publicKey()
    const other = await nobleBackend.ed25519PublicKey(new Uint8Array(32).fill(9))
    const flip = (text: string) => `${text.slice(0, -2)}${text.at(-2) === 'A' ? 'B' : 'A'}${text.at(-1)}`
    const cases: [string, SignedAck, Uint8Array][] = [
      ['changed seq', { ...ack, seq: 2 }, key],
      ['changed cid', { ...ack, cid: 'bagaaierasords4njcts6vs7qvdjfcvgnume4hqohf65zsfguprqphs3icweb' }, key],
      ['changed id', { ...ack, id: 'AAAAAAAAAAAAAAAAAAAAAZ' }, key],
      ['changed room', { ...ack, room: 'cm9vbS1yb29tLXJvb20tMg' }, key],
      ['changed receivedAt', { ...ack, receivedAt: '2026-12-01T10:00:00.001Z' }, key],
      [
        'changed proof step',
        { ...ack, receipt: { ...ack.receipt, proof: [flip(ack.receipt.proof[0] as string), ack.receipt.proof[1] as string] } },
        key,
      ],
      [
        'proof step side swapped',
        {
          ...ack,
          receipt: { ...ack.receipt, proof: [`l${(ack.receipt.proof[0] as string).slice(1)}`, ack.receipt.proof[1] as string] },
        },
        key,
      ],
      ['proof step dropped', { ...ack, receipt: { ...ack.receipt, proof: ack.receipt.proof.slice(1) } }, key],
      ["another ack's proof", { ...ack, receipt: second.receipt }, key],
      ['changed root', { ...ack, receipt: { ...ack.receipt, root: flip(ack.receipt.root) } }, key],
      ['changed signature', { ...ack, receipt: { ...ack.receipt, signature: flip(ack.receipt.signature) } }, key],
      ['no signature', { ...ack, receipt: { ...ack.receipt, signature: '' } }, key],
      ['malformed proof', { ...ack, receipt: { ...ack.receipt, proof: 'r' as never } }, key],
      ['no receipt', { ...ack, receipt: undefined as never }, key],
      ['wrong key', ack, other],
    ]
    const accepted = []
    for (const [name, tampered, publicKey] of cases)
      if (await verifyReceipt(nobleBackend, tampered, publicKey)) accepted.push(name)
    expect(accepted).toEqual([])
    expect(await verifyReceipt(nobleBackend, ack, key)).toBe(true)
  })
})

describe('receiptContradiction', () => {
  test('default: the receipted message at its position is no contradiction', async () => {
    const { ack, record } = await recordOf(4)
    expect(receiptContradiction(ack, record)).toBeUndefined()
  })

  test('behavior: a missing position, another message, another envelope, a log entry', async () => {
    const { ack, record } = await recordOf(4)
    const other = await recordOf(4)
    expect(receiptContradiction(ack, null)).toBe(`position 4 of room ${ack.room} is missing`)
    expect(receiptContradiction(ack, other.record)).toMatch(/^position 4 holds message /)
    const envelope = { ...(record as { envelope: object }).envelope, timestamp: '2026-12-01T10:00:00.000Z' }
    expect(receiptContradiction(ack, { ...record, envelope } as RoomRecord)).toMatch(/^position 4 holds envelope bagu/)
    // The record's own `cid` field is not believed: the envelope's is computed.
    expect(receiptContradiction(ack, { ...record, cid: CID, envelope } as RoomRecord)).toMatch(/holds envelope/)
    expect(receiptContradiction(ack, { cid: CID, seq: 4, receivedAt: ack.receivedAt, entry: {} } as RoomRecord)).toMatch(
      /membership-log entry/,
    )
  })
})

describe('checkReceiptEvidence', () => {
  test('default: a signed receipt and a history without the message are valid evidence', async () => {
    const server = await serverBundle()
    const { ack } = await recordOf(3)
    const [receipt] = (await signed(nobleBackend, [ack], server.secretKey, server.cid)) as [SignedAck]
    const verdict = await checkReceiptEvidence(nobleBackend, { evidence: { receipt, found: null }, bundle: server.bundle })
    expect(verdict).toEqual({ valid: true, signer: server.bundle.address, reason: `position 3 of room ${ack.room} is missing` })
    const other = await recordOf(3)
    expect(
      await checkReceiptEvidence(nobleBackend, { evidence: { receipt, found: other.record }, bundle: server.bundle }),
    ).toMatchObject({ valid: true, reason: expect.stringMatching(/^position 3 holds message /) })
  })

  test('security: evidence that proves nothing is refused, with the reason', async () => {
    const server = await serverBundle()
    const stranger = await serverBundle()
    const { ack, record } = await recordOf(3)
    const [receipt] = (await signed(nobleBackend, [ack], server.secretKey, server.cid)) as [SignedAck]
    const check = (evidence: { receipt: SignedAck; found: RoomRecord | null }, bundle = server.bundle) =>
      checkReceiptEvidence(nobleBackend, { evidence, bundle })
    expect(await check({ receipt, found: record })).toEqual({
      valid: false,
      reason: 'the record served is the receipted message',
    })
    expect(await check({ receipt, found: null }, stranger.bundle)).toEqual({
      valid: false,
      reason: 'the key bundle is not the one the receipt names',
    })
    const [forged] = (await signed(nobleBackend, [ack], stranger.secretKey, server.cid)) as [SignedAck]
    expect(await check({ receipt: forged, found: null })).toEqual({
      valid: false,
      reason: 'the receipt does not verify with the key bundle',
    })
    expect(await check({ receipt: { ...receipt, seq: 4 }, found: null })).toMatchObject({ valid: false })
    expect(await check({ receipt, found: { ...record, seq: 5 } as RoomRecord })).toEqual({
      valid: false,
      reason: 'the record served is at position 5, not 3',
    })
    const resigned = { ...server.bundle, nonce: 'AAAAAAAAAAAAAAAAAAAAAA' }
    const [onResigned] = (await signed(nobleBackend, [ack], server.secretKey, toBlock(resigned).cid)) as [SignedAck]
    expect(await check({ receipt: onResigned, found: null }, resigned)).toEqual({
      valid: false,
      reason: `the key bundle is not signed by ${server.bundle.address}`,
    })
  })
})
