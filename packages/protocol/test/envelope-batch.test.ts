/**
 * Batch-signed migrated envelopes (protocol.md §5.5): every envelope of a batch verifies alone and
 * through the grouped check, on every backend; anything that breaks the path from an envelope to
 * its signed root, or mixes batches, keys or suites, fails.
 */
import {
  type CryptoBackend,
  type EncryptEnvelopeReturnType,
  type Envelope,
  encryptEnvelope,
  envelopeBlock,
  envelopeSchema,
  envelopeSigningBytes,
  fromBase64Url,
  generateDmtpKeys,
  merkleTree,
  merkleTreeRoot,
  migratedEnvelopeSchema,
  sealEnvelope,
  signEnvelopeBatch,
  toBase64Url,
  toBlock,
  verifyEnvelopeSignature,
  verifyEnvelopeSignatures,
} from '@dmtp/protocol'
import { nodeCryptoBackend } from '@dmtp/protocol/node'
import fc from 'fast-check'
import { describe, expect, test } from 'vitest'
import { backends, makeConversation } from './_util.js'

type Migrated = Extract<Envelope, { suite: 'dmtp-migrated-v1' }>

async function unsignedBatch(backend: CryptoBackend, size: number) {
  const { key, header, bobKeys } = await makeConversation(backend)
  const envelopes: EncryptEnvelopeReturnType[] = []
  for (let i = 0; i < size; i++) {
    envelopes.push(
      await encryptEnvelope(backend, {
        header: {
          ...header,
          suite: 'dmtp-migrated-v1',
          id: toBase64Url(backend.randomBytes(16)),
          replaces: toBlock({ relayed: i }).cid,
        },
        content: { type: 'text', text: `message ${i}` },
        key,
      }),
    )
  }
  return { envelopes, keys: bobKeys }
}

async function signedBatch(backend: CryptoBackend, size: number) {
  const { envelopes, keys } = await unsignedBatch(backend, size)
  return { signed: await signEnvelopeBatch(backend, { envelopes, signingKey: keys.ed25519.secretKey }), keys }
}

const verifiesAlone = (backend: CryptoBackend, envelope: Envelope, publicKey: Uint8Array) =>
  verifyEnvelopeSignature(backend, envelope, publicKey)

/** One hash in one proof step changed by one bit. */
function flipProofBit(envelope: Migrated, step: number, bit: number): Migrated {
  const proof = [...(envelope.proof ?? [])]
  const at = step % proof.length
  const original = proof[at] as string
  const hash = fromBase64Url(original.slice(1))
  hash[(bit >> 3) % 32] = (hash[(bit >> 3) % 32] as number) ^ (1 << (bit & 7))
  proof[at] = `${original[0]}${toBase64Url(hash)}`
  return { ...envelope, proof }
}

describe('signEnvelopeBatch', () => {
  for (const backend of backends) {
    test(`default: every envelope of batches of 1 to 17 verifies alone and grouped (${backend.name})`, async () => {
      for (const size of [1, 2, 3, 5, 16, 17]) {
        const { signed, keys } = await signedBatch(backend, size)
        expect(signed).toHaveLength(size)
        expect(new Set(signed.map((envelope) => envelope.signature)).size).toBe(1)
        for (const envelope of signed) {
          expect(migratedEnvelopeSchema.parse(envelope)).toEqual(envelope)
          expect((envelope.proof ?? []).length).toBeLessThanOrEqual(Math.ceil(Math.log2(size)))
          expect(await verifiesAlone(backend, envelope, keys.ed25519.publicKey)).toBe(true)
          // The server's one-encoding path gives the same signed bytes with a proof present.
          const { signingBytes } = envelopeBlock(envelope, backend.sha256)
          expect(toBase64Url(signingBytes)).toBe(toBase64Url(envelopeSigningBytes(envelope)))
        }
        const grouped = await verifyEnvelopeSignatures(
          backend,
          signed.map((envelope) => ({ envelope })),
          keys.ed25519.publicKey,
        )
        expect(grouped).toEqual(signed.map(() => true))
      }
    })
  }

  test('behavior: the grouped check verifies each signed root once', async () => {
    const { signed, keys } = await signedBatch(nodeCryptoBackend, 16)
    let checks = 0
    const counting: CryptoBackend = {
      ...nodeCryptoBackend,
      ed25519Verify: (...args) => {
        checks++
        return nodeCryptoBackend.ed25519Verify(...args)
      },
    }
    const other = await signedBatch(nodeCryptoBackend, 3)
    const mixed = [...signed, ...other.signed.map((envelope) => ({ ...envelope }))]
    const results = await verifyEnvelopeSignatures(
      counting,
      mixed.map((envelope) => ({ envelope })),
      keys.ed25519.publicKey,
    )
    // The 16 share one root; the other batch is another root (and another key: false).
    expect(checks).toBe(2)
    expect(results).toEqual([...signed.map(() => true), ...other.signed.map(() => false)])
  })

  test('behavior: signs the bytes it is given, computes them when not', async () => {
    const { envelopes, keys } = await unsignedBatch(nodeCryptoBackend, 4)
    const computed = await signEnvelopeBatch(nodeCryptoBackend, {
      envelopes: envelopes.map(({ envelope }) => ({ envelope })),
      signingKey: keys.ed25519.secretKey,
    })
    const given = await signEnvelopeBatch(nodeCryptoBackend, { envelopes, signingKey: keys.ed25519.secretKey })
    expect(given).toEqual(computed)
    // Bytes of another envelope: the caller's mistake makes signatures that verify nowhere.
    const [first, second] = envelopes as [EncryptEnvelopeReturnType, EncryptEnvelopeReturnType]
    const [wrong] = await signEnvelopeBatch(nodeCryptoBackend, {
      envelopes: [{ envelope: first.envelope, signingBytes: second.signingBytes }],
      signingKey: keys.ed25519.secretKey,
    })
    expect(await verifiesAlone(nodeCryptoBackend, wrong as Migrated, keys.ed25519.publicKey)).toBe(false)
  })

  test('behavior: refuses envelopes of another suite', async () => {
    const { key, header, aliceKeys } = await makeConversation(nodeCryptoBackend)
    const p2p = await encryptEnvelope(nodeCryptoBackend, { header, content: { type: 'text', text: 'gm' }, key })
    await expect(
      signEnvelopeBatch(nodeCryptoBackend, { envelopes: [p2p], signingKey: aliceKeys.ed25519.secretKey }),
    ).rejects.toThrow(RangeError)
  })
})

describe('batch signatures, attacked', () => {
  test('behavior: one changed bit in any proof hash fails the envelope, alone and grouped', async () => {
    const { signed, keys } = await signedBatch(nodeCryptoBackend, 16)
    await fc.assert(
      fc.asyncProperty(fc.nat(15), fc.nat(), fc.nat(255), async (index, step, bit) => {
        const altered = flipProofBit(signed[index] as Migrated, step, bit)
        expect(await verifiesAlone(nodeCryptoBackend, altered, keys.ed25519.publicKey)).toBe(false)
        const grouped = await verifyEnvelopeSignatures(
          nodeCryptoBackend,
          signed.map((envelope, i) => ({ envelope: i === index ? altered : envelope })),
          keys.ed25519.publicKey,
        )
        expect(grouped).toEqual(signed.map((_, i) => i !== index))
      }),
      { numRuns: 100 },
    )
  })

  test('behavior: a reordered, swapped, shortened, lengthened or side-flipped proof fails', async () => {
    const { signed, keys } = await signedBatch(nodeCryptoBackend, 16)
    const [first, second] = signed as [Migrated, Migrated]
    const proof = first.proof as string[]
    const flipSide = (step: string) => `${step[0] === 'l' ? 'r' : 'l'}${step.slice(1)}`
    const variants: [string, Migrated][] = [
      ['reversed', { ...first, proof: [...proof].reverse() }],
      ["another envelope's proof", { ...first, proof: second.proof }],
      ['one step dropped', { ...first, proof: proof.slice(1) }],
      ['one step added', { ...first, proof: [...proof, proof[0] as string] }],
      ['a side flipped', { ...first, proof: [flipSide(proof[0] as string), ...proof.slice(1)] }],
      ['no proof (signed alone?)', { ...first, proof: undefined }],
      ['an empty proof', { ...first, proof: [] }],
    ]
    for (const [name, variant] of variants) {
      expect({ name, valid: await verifiesAlone(nodeCryptoBackend, variant, keys.ed25519.publicKey) }).toEqual({
        name,
        valid: false,
      })
      // Grouped, after and before the honest batch (whose inner nodes the check reuses).
      const grouped = await verifyEnvelopeSignatures(
        nodeCryptoBackend,
        [...signed, variant, ...signed].map((envelope) => ({ envelope })),
        keys.ed25519.publicKey,
      )
      expect({ name, grouped }).toEqual({ name, grouped: [...signed.map(() => true), false, ...signed.map(() => true)] })
    }
  })

  test("behavior: another batch's signature, another key, or a changed header fails", async () => {
    const a = await signedBatch(nodeCryptoBackend, 4)
    const b = await signedBatch(nodeCryptoBackend, 4)
    const envelope = a.signed[0] as Migrated
    const stranger = await generateDmtpKeys(nodeCryptoBackend)
    expect(
      await verifiesAlone(
        nodeCryptoBackend,
        { ...envelope, signature: (b.signed[0] as Migrated).signature },
        a.keys.ed25519.publicKey,
      ),
    ).toBe(false)
    expect(await verifiesAlone(nodeCryptoBackend, envelope, stranger.ed25519.publicKey)).toBe(false)
    expect(
      await verifiesAlone(nodeCryptoBackend, { ...envelope, timestamp: '2020-01-01T00:00:00.000Z' }, a.keys.ed25519.publicKey),
    ).toBe(false)
    expect(
      await verifiesAlone(nodeCryptoBackend, { ...envelope, replaces: toBlock({ other: 1 }).cid }, a.keys.ed25519.publicKey),
    ).toBe(false)
  })

  test('behavior: a directly signed envelope does not pass as a batch of one, nor the reverse', async () => {
    const { envelopes, keys } = await unsignedBatch(nodeCryptoBackend, 1)
    const [batched] = (await signEnvelopeBatch(nodeCryptoBackend, {
      envelopes,
      signingKey: keys.ed25519.secretKey,
    })) as [Migrated]
    expect(batched.proof).toEqual([])
    expect(await verifiesAlone(nodeCryptoBackend, batched, keys.ed25519.publicKey)).toBe(true)
    expect(await verifiesAlone(nodeCryptoBackend, { ...batched, proof: undefined }, keys.ed25519.publicKey)).toBe(false)
    const { header, key } = await makeConversation(nodeCryptoBackend)
    const direct = (await sealEnvelope(nodeCryptoBackend, {
      header: { ...header, suite: 'dmtp-migrated-v1', replaces: toBlock({ relayed: 0 }).cid },
      content: { type: 'text', text: 'gm' },
      key,
      signingKey: keys.ed25519.secretKey,
    })) as Migrated
    expect(await verifiesAlone(nodeCryptoBackend, direct, keys.ed25519.publicKey)).toBe(true)
    expect(await verifiesAlone(nodeCryptoBackend, { ...direct, proof: [] }, keys.ed25519.publicKey)).toBe(false)
  })

  test('behavior: a proof on an envelope of another suite fails and is refused by the schema', async () => {
    const { key, header, aliceKeys } = await makeConversation(nodeCryptoBackend)
    const p2p = await sealEnvelope(nodeCryptoBackend, {
      header,
      content: { type: 'text', text: 'gm' },
      key,
      signingKey: aliceKeys.ed25519.secretKey,
    })
    const withProof = { ...p2p, proof: [] } as unknown as Envelope
    expect(await verifiesAlone(nodeCryptoBackend, withProof, aliceKeys.ed25519.publicKey)).toBe(false)
    expect(envelopeSchema.safeParse(withProof).success).toBe(false)
  })

  test('behavior: malformed proofs are refused by the schema and fail verification', async () => {
    const { signed, keys } = await signedBatch(nodeCryptoBackend, 2)
    const envelope = signed[0] as Migrated
    const step = (envelope.proof as string[])[0] as string
    const hash = step.slice(1)
    // The last character of 43 holds 2 unused bits: `B` instead of `A` decodes to the same bytes.
    const nonCanonical = `${step.slice(0, 43)}${hash.endsWith('A') ? 'B' : String.fromCharCode(hash.charCodeAt(42) + 1)}`
    const malformed: unknown[][] = [
      [`x${hash}`],
      [step.slice(0, 43)],
      [`${step}A`],
      [`l${hash.slice(0, 42)}=`],
      [nonCanonical],
      [42],
      Array.from({ length: 13 }, () => step),
    ]
    for (const proof of malformed) {
      const candidate = { ...envelope, proof } as unknown as Envelope
      expect(migratedEnvelopeSchema.safeParse(candidate).success).toBe(false)
      expect(await verifiesAlone(nodeCryptoBackend, candidate, keys.ed25519.publicKey)).toBe(false)
    }
  })
})

describe('merkleTree', () => {
  test('behavior: refuses no leaves and more than 4,096', () => {
    expect(() => merkleTree(nodeCryptoBackend.sha256, [])).toThrow(RangeError)
    const leaf = new Uint8Array(32)
    expect(() =>
      merkleTree(
        nodeCryptoBackend.sha256,
        Array.from({ length: 4097 }, () => leaf),
      ),
    ).toThrow(RangeError)
    expect(
      merkleTree(
        nodeCryptoBackend.sha256,
        Array.from({ length: 4096 }, () => leaf),
      ).proofs[0],
    ).toHaveLength(12)
  })

  test('behavior: merkleTreeRoot is the root of merkleTree for any number of leaves, and refuses the same sizes', () => {
    fc.assert(
      fc.property(fc.array(fc.uint8Array({ minLength: 32, maxLength: 32 }), { minLength: 1, maxLength: 70 }), (leaves) => {
        const root = merkleTreeRoot(nodeCryptoBackend.sha256, leaves)
        expect(toBase64Url(root)).toBe(toBase64Url(merkleTree(nodeCryptoBackend.sha256, leaves).root))
      }),
    )
    expect(() => merkleTreeRoot(nodeCryptoBackend.sha256, [])).toThrow(RangeError)
    expect(() =>
      merkleTreeRoot(
        nodeCryptoBackend.sha256,
        Array.from({ length: 4097 }, () => new Uint8Array(32)),
      ),
    ).toThrow(RangeError)
  })
})
