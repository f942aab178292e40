/**
 * fast-check properties of the protocol's encodings and envelope: round trips, canonical form,
 * content addresses, tamper evidence and key agreement.
 */
import {
  base64UrlSchema,
  blockMatchesCid,
  bytesToUtf8,
  cidOfBlock,
  cidSchema,
  concatBytes,
  decodeCanonical,
  deriveConversationKey,
  type Envelope,
  type EnvelopeHeader,
  encodeCanonical,
  encryptEnvelope,
  envelopeBlock,
  envelopeSigningBytes,
  fromBase64Url,
  type Handoff,
  handoffAad,
  MAX_TEXT_LENGTH,
  openEnvelope,
  parseCid,
  sealEnvelope,
  toBase64Url,
  toBlock,
  utf8ToBytes,
  verifyEnvelopeSignature,
} from '@dmtp/protocol'
import { nodeCryptoBackend } from '@dmtp/protocol/node'
import * as dagJson from '@ipld/dag-json'
import { base64urlnopad } from '@scure/base'
import fc from 'fast-check'
import { beforeAll, describe, expect, test } from 'vitest'
import { backends, makeConversation, makeEnvelope, settle, toHex } from './_util.js'

const bytes = (length: number) => fc.uint8Array({ minLength: length, maxLength: length })

// DAG-JSON values: "/" is the key DAG-JSON reserves for links and bytes, -0 has no JSON form
// apart from 0, and lone surrogates are not text. "__proto__" is refused by encodeCanonical (its
// own test is below), so values holding it are not canonical values.
const jsonKey = fc.string({ unit: 'binary', maxLength: 12 }).filter((key) => key !== '/' && key !== '__proto__')
const { json } = fc.letrec<{ json: unknown }>((tie) => ({
  json: fc.oneof(
    { maxDepth: 4 },
    fc.constant(null),
    fc.boolean(),
    fc.maxSafeInteger(),
    fc.double({ noNaN: true, noDefaultInfinity: true }).filter((n) => !Object.is(n, -0)),
    fc.string({ unit: 'binary', maxLength: 40 }),
    fc.array(tie('json'), { maxLength: 5 }),
    fc.dictionary(jsonKey, tie('json'), { maxKeys: 6, noNullPrototype: true }),
  ),
}))
const object = fc.dictionary(jsonKey, json, { minKeys: 2, maxKeys: 6, noNullPrototype: true })

const canonicalText = (value: unknown) => bytesToUtf8(encodeCanonical(value))

/** The same value built with every object's keys inserted in reverse order. */
function reversedKeys(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(reversedKeys)
  if (value === null || typeof value !== 'object') return value
  return Object.fromEntries(
    Object.entries(value)
      .reverse()
      .map(([key, inner]) => [key, reversedKeys(inner)]),
  )
}

describe('utf8ToBytes', () => {
  // Node's Buffer writes it; TextEncoder is the oracle, lone surrogates included.
  const encoder = new TextEncoder()
  test('behavior: equals TextEncoder on any string', () => {
    fc.assert(
      fc.property(
        fc.oneof(fc.string({ unit: 'binary', maxLength: 300 }), fc.string({ unit: 'grapheme', maxLength: 300 })),
        (value) => {
          expect(toHex(utf8ToBytes(value))).toBe(toHex(encoder.encode(value)))
          expect(bytesToUtf8(utf8ToBytes(value))).toBe(bytesToUtf8(encoder.encode(value)))
        },
      ),
      { numRuns: 2000 },
    )
  })
})

describe('toBase64Url', () => {
  test('default', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 1024 }), (data) => {
        const text = toBase64Url(data)
        expect(text).toMatch(/^[A-Za-z0-9_-]*$/)
        expect(text.length).toBe(Math.ceil((data.length * 4) / 3))
        expect(toHex(fromBase64Url(text))).toBe(toHex(data))
      }),
    )
  })
})

describe('fromBase64Url', () => {
  // Node's native decoder is lenient; only canonical text may reach it. @scure/base is the oracle.
  test('behavior: decodes exactly what the strict decoder does, and refuses the rest', () => {
    const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_=+/ '
    const text = fc.string({ unit: fc.constantFrom(...alphabet), maxLength: 64 })
    fc.assert(
      fc.property(fc.oneof(text, fc.uint8Array({ maxLength: 48 }).map(toBase64Url)), (value) => {
        let expected: string | undefined
        try {
          expected = toHex(base64urlnopad.decode(value))
        } catch {
          expected = undefined
        }
        let actual: string | undefined
        try {
          actual = toHex(fromBase64Url(value))
        } catch {
          actual = undefined
        }
        expect(actual).toBe(expected)
        if (expected !== undefined) expect(toBase64Url(fromBase64Url(value))).toBe(base64urlnopad.encode(fromBase64Url(value)))
      }),
      { numRuns: 2000 },
    )
  })
})

describe('base64UrlSchema', () => {
  // The schema checks canonical form without decoding; it must agree with a decode/re-encode.
  test('behavior: accepts exactly the canonical encodings', () => {
    const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_'
    const text = fc.string({ unit: fc.constantFrom(...alphabet), maxLength: 64 })
    fc.assert(
      fc.property(fc.oneof(text, fc.uint8Array({ maxLength: 48 }).map(toBase64Url)), (value) => {
        let canonical: boolean
        try {
          canonical = toBase64Url(fromBase64Url(value)) === value
        } catch {
          canonical = false
        }
        expect(base64UrlSchema().safeParse(value).success).toBe(canonical)
        if (canonical) {
          const bytes = fromBase64Url(value).length
          expect(base64UrlSchema({ bytes }).safeParse(value).success).toBe(true)
          expect(base64UrlSchema({ bytes: bytes + 1 }).safeParse(value).success).toBe(false)
        }
      }),
      { numRuns: 2000 },
    )
  })
})

describe('encodeCanonical', () => {
  test('default', () => {
    fc.assert(
      fc.property(json, (value) => {
        expect(decodeCanonical(encodeCanonical(value))).toEqual(value)
      }),
    )
  })

  test('behavior: the bytes do not depend on key insertion order', () => {
    fc.assert(
      fc.property(json, (value) => {
        expect(toHex(encodeCanonical(reversedKeys(value)))).toBe(toHex(encodeCanonical(value)))
      }),
    )
  })

  // encodeCanonical takes a fast path for ASCII records; it must be byte-identical to the
  // reference DAG-JSON encoder on every value, ASCII-only or not.
  test('behavior: byte-identical to @ipld/dag-json', () => {
    const asciiKey = fc.string({ unit: fc.integer({ min: 0x20, max: 0x7e }).map((c) => String.fromCharCode(c)), maxLength: 12 })
    const asciiRecord = fc.dictionary(
      asciiKey.filter((key) => key !== '/' && key !== '__proto__'),
      fc.oneof(
        fc.string({ unit: fc.integer({ min: 0x20, max: 0x7e }).map((c) => String.fromCharCode(c)) }),
        fc.maxSafeInteger(),
        fc.boolean(),
      ),
      { maxKeys: 12, noNullPrototype: true },
    )
    fc.assert(
      fc.property(fc.oneof(json, asciiRecord), (value) => {
        expect(toHex(encodeCanonical(value))).toBe(toHex(dagJson.encode(value)))
      }),
      { numRuns: 500 },
    )
  })

  // JSON.parse gives objects an own "__proto__" key; whatever encodeCanonical accepts must come
  // back from decodeCanonical (or encodeCanonical must refuse it).
  test('behavior: a value with an own "__proto__" key is refused or round-trips', async () => {
    const value = JSON.parse('{"__proto__":{"admin":true},"a":1}')
    const encoded = await settle(() => encodeCanonical(value))
    if (encoded.ok) expect(decodeCanonical(encoded.value)).toEqual(value)
  })
})

describe('decodeCanonical', () => {
  test('behavior: rejects unsorted keys', () => {
    fc.assert(
      fc.property(object, (value) => {
        // Of one key order and its reverse, at most one is the canonical (sorted) one.
        const entries = Object.entries(value).map(([key, inner]) => `${JSON.stringify(key)}:${canonicalText(inner)}`)
        const texts = [entries, entries.slice().reverse()]
          .map((order) => `{${order.join(',')}}`)
          .filter((candidate) => candidate !== canonicalText(value))
        expect(texts.length).toBeGreaterThan(0)
        for (const candidate of texts) expect(() => decodeCanonical(utf8ToBytes(candidate))).toThrow()
      }),
    )
  })

  test('behavior: rejects whitespace around or inside a value', () => {
    fc.assert(
      fc.property(json, fc.constantFrom(' ', '\n', '\t', '\r\n'), fc.boolean(), (value, space, before) => {
        const text = canonicalText(value)
        expect(() => decodeCanonical(utf8ToBytes(before ? space + text : text + space))).toThrow()
        if (typeof value === 'object' && value !== null && Object.keys(value).length > 0) {
          expect(() => decodeCanonical(utf8ToBytes(JSON.stringify(value, null, 2)))).toThrow()
        }
      }),
    )
  })
})

describe('toBlock', () => {
  test('default', () => {
    fc.assert(
      fc.property(json, (value) => {
        const block = toBlock(value)
        expect(toBlock(value)).toEqual(block)
        expect(toBlock(reversedKeys(value)).cid).toBe(block.cid)
        expect(cidOfBlock(block.bytes, nodeCryptoBackend.sha256)).toBe(block.cid)
        expect(blockMatchesCid(block.bytes, block.cid)).toBe(true)
      }),
    )
  })

  test('behavior: any changed byte no longer matches the CID', () => {
    fc.assert(
      fc.property(json, fc.nat(), fc.integer({ min: 1, max: 255 }), (value, index, delta) => {
        const { bytes: data, cid } = toBlock(value)
        const altered = data.slice()
        const at = index % altered.length
        altered[at] = ((altered[at] as number) + delta) % 256
        expect(blockMatchesCid(altered, cid)).toBe(false)
      }),
    )
  })
})

describe('cidSchema', () => {
  // It checks a DAG-JSON CID by its form, without parsing: the answer must be parseCid's.
  const parses = (value: string) => {
    try {
      parseCid(value)
      return true
    } catch {
      return false
    }
  }
  const base32 = 'abcdefghijklmnopqrstuvwxyz234567'
  // The right prefix and length with any last character, or one thing off.
  const near = fc
    .tuple(
      fc.constantFrom('baguqeera', 'baguqeera', 'baguqeerb', 'bafkreia', 'Baguqeera'),
      fc.string({ unit: fc.constantFrom(...base32), minLength: 51, maxLength: 51 }),
      fc.constantFrom(...base32, 'A', '1', '='),
      fc.constantFrom('', '', 'a', 'q'),
    )
    .map((parts) => parts.join(''))

  test('behavior: agrees with parseCid on real CIDs, near misses and any string', () => {
    fc.assert(
      fc.property(
        fc.oneof(
          json.map((value) => toBlock(value).cid),
          near,
          fc.string({ maxLength: 70 }),
        ),
        (value) => {
          expect(cidSchema.safeParse(value).success).toBe(parses(value))
        },
      ),
      { numRuns: 5000 },
    )
  })
})

// Text a person can send: 1 to MAX_TEXT_LENGTH UTF-16 units, any code points.
const text = fc.oneof(
  fc.string({ unit: 'binary', minLength: 1, maxLength: 64 }),
  fc.string({ unit: 'grapheme-ascii', minLength: 1, maxLength: MAX_TEXT_LENGTH, size: 'max' }),
  fc.string({ unit: 'binary', minLength: 1, maxLength: MAX_TEXT_LENGTH / 2, size: 'max' }),
  fc.constant('x'.repeat(MAX_TEXT_LENGTH)),
  fc.constant('🦊'.repeat(MAX_TEXT_LENGTH / 2)),
)

const HEADER_FIELDS = ['v', 'suite', 'id', 'room', 'sender', 'receiver', 'timestamp', 'senderKey', 'receiverKey'] as const
const tamperable = [...HEADER_FIELDS, 'messages', 'nonce'] as const

/** One changed byte (ciphertext, nonce) or character (header strings) in one field. */
function tamper(envelope: Envelope, field: (typeof tamperable)[number], index: number, delta: number): Envelope {
  if (field === 'v') return { ...envelope, v: (1 + delta) as 1 }
  if (field === 'messages' || field === 'nonce') {
    const data = fromBase64Url(envelope[field])
    data[index % data.length] = ((data[index % data.length] as number) + delta) % 256
    return { ...envelope, [field]: toBase64Url(data) }
  }
  const value = envelope[field] as string
  const at = index % value.length
  const replaced = String.fromCharCode(((value.charCodeAt(at) - 32 + delta) % 95) + 32)
  return { ...envelope, [field]: value.slice(0, at) + replaced + value.slice(at + 1) }
}

describe('sealEnvelope', () => {
  let conversation: Awaited<ReturnType<typeof makeConversation>>
  beforeAll(async () => {
    conversation = await makeConversation(nodeCryptoBackend)
  })
  const seal = (body: string) =>
    sealEnvelope(nodeCryptoBackend, {
      header: conversation.header,
      content: { type: 'text', text: body },
      key: conversation.key,
      signingKey: conversation.aliceKeys.ed25519.secretKey,
    })

  test('default', async () => {
    await fc.assert(
      fc.asyncProperty(text, async (body) => {
        expect(body.length).toBeLessThanOrEqual(MAX_TEXT_LENGTH)
        const envelope = await seal(body)
        expect(await verifyEnvelopeSignature(nodeCryptoBackend, envelope, conversation.aliceKeys.ed25519.publicKey)).toBe(true)
        expect(await openEnvelope(nodeCryptoBackend, { envelope, key: conversation.key })).toEqual({ type: 'text', text: body })
      }),
      { numRuns: 60 },
    )
  })

  test('behavior: one changed byte in messages, nonce or any header field fails decryption and the signature', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.string({ unit: 'binary', maxLength: 200 }),
        fc.constantFrom(...tamperable),
        fc.nat(),
        fc.integer({ min: 1, max: 94 }),
        async (body, field, index, delta) => {
          const altered = tamper(await seal(body), field, index, delta)
          const opened = await settle(() => openEnvelope(nodeCryptoBackend, { envelope: altered, key: conversation.key }))
          expect(opened.ok ? 'opened' : (opened.error as Error).name).toBe('DecryptionFailedError')
          expect(await verifyEnvelopeSignature(nodeCryptoBackend, altered, conversation.aliceKeys.ed25519.publicKey)).toBe(false)
        },
      ),
      { numRuns: 200 },
    )
  })

  test('behavior: one changed signature byte fails the signature', async () => {
    await fc.assert(
      fc.asyncProperty(fc.nat(), fc.integer({ min: 1, max: 255 }), async (index, delta) => {
        const envelope = await seal('gm')
        const signature = fromBase64Url(envelope.signature)
        signature[index % 64] = ((signature[index % 64] as number) + delta) % 256
        const altered = { ...envelope, signature: toBase64Url(signature) }
        expect(await verifyEnvelopeSignature(nodeCryptoBackend, altered, conversation.aliceKeys.ed25519.publicKey)).toBe(false)
      }),
    )
  })
})

describe('envelopeBlock', () => {
  // The server takes an envelope's CID and its signing bytes from one encoding; both must be what
  // toBlock and envelopeSigningBytes give, for real envelopes and for any object posing as one.
  const agrees = (envelope: Envelope) => {
    const block = envelopeBlock(envelope, nodeCryptoBackend.sha256)
    const reference = toBlock(envelope, nodeCryptoBackend.sha256)
    expect(block.cid).toBe(reference.cid)
    expect(block.text).toBe(reference.text)
    expect(toHex(block.signingBytes)).toBe(toHex(envelopeSigningBytes(envelope)))
  }

  test('default', async () => {
    await fc.assert(
      fc.asyncProperty(text, async (body) => {
        const envelope = await makeEnvelope(nodeCryptoBackend)
        agrees({ ...envelope, messages: toBase64Url(utf8ToBytes(body)) })
      }),
      { numRuns: 60 },
    )
  })

  test('behavior: odd members take the reference path and still agree', () => {
    const ascii = fc.string({ unit: fc.integer({ min: 0x20, max: 0x7e }).map((c) => String.fromCharCode(c)), maxLength: 20 })
    const value = fc.oneof(ascii, fc.string({ unit: 'binary', maxLength: 8 }), fc.maxSafeInteger(), fc.constant('gm'))
    const odd = fc.record(
      {
        messages: value,
        signature: fc.oneof(value, fc.constant(',"signature":"x"'), fc.constant('x')),
        senderKey: fc.oneof(value, fc.constant('x",'), fc.record({ signature: fc.constant('x') })),
        suite: value,
        aaa: fc.record({ signature: fc.constant('x'), zzz: value }),
        // A batch proof: well formed, odd, or a look-alike of a nested one.
        proof: fc.oneof(
          value,
          fc.constant(['x']),
          fc.constant([]),
          fc.array(fc.oneof(ascii, fc.constant('x'), fc.constant('"'), fc.maxSafeInteger()), { maxLength: 3 }),
          fc.record({ proof: fc.constant(['x']) }),
        ),
        aab: fc.oneof(value, fc.record({ a: value, proof: fc.constant(['x']) })),
        // A nested member like the top-level one, which is missing when `messages` is.
        zzz: fc.oneof(value, fc.record({ a: value, signature: fc.constant('x') })),
      },
      { requiredKeys: ['signature'] },
    )
    fc.assert(
      fc.property(odd, (envelope) => {
        agrees(envelope as unknown as Envelope)
      }),
      { numRuns: 2000 },
    )
  })

  test('behavior: an inherited or hidden signature does not let a nested member be cut instead', async () => {
    const envelope = await makeEnvelope(nodeCryptoBackend)
    const { signature, ...unsigned } = envelope
    const nested = { a: 1, signature }
    agrees(Object.assign(Object.create({ signature }), unsigned, { x: nested }) as Envelope)
    const hidden = { ...unsigned, x: nested } as Envelope
    Object.defineProperty(hidden, 'signature', { value: signature, enumerable: false })
    agrees(hidden)
    agrees(Object.assign(Object.create({ messages: envelope.messages }), { ...envelope, x: nested }) as Envelope)
  })

  test('behavior: an inherited, hidden or computed proof does not let a nested member be cut instead', async () => {
    const envelope = { ...(await makeEnvelope(nodeCryptoBackend)), suite: 'dmtp-migrated-v1' as const, replaces: 'x' }
    const proof = [`l${'A'.repeat(43)}`]
    const nested = { a: 1, proof }
    agrees(Object.assign(Object.create({ proof }), envelope, { x: nested }) as Envelope)
    const hidden = { ...envelope, x: nested } as Envelope
    Object.defineProperty(hidden, 'proof', { value: proof, enumerable: false })
    agrees(hidden)
    agrees({ ...envelope, proof, x: nested } as Envelope)
    // A getter answering differently on each read, and an array iterating other steps than its
    // own, each with a nested look-alike of what the second look would see.
    const other = [`l${'B'.repeat(43)}`]
    let reads = 0
    const computed = { ...envelope, x: { a: 1, proof: other } } as Envelope
    Object.defineProperty(computed, 'proof', { get: () => (reads++ === 0 ? proof : other), enumerable: true })
    // (No reference to agree with: each encoding reads another value. What is signed must be what is stored.)
    const block = envelopeBlock(computed, nodeCryptoBackend.sha256)
    expect(toHex(block.signingBytes)).toBe(toHex(envelopeSigningBytes(JSON.parse(block.text))))
    const iterating = [...proof]
    Object.defineProperty(iterating, Symbol.iterator, {
      value: function* () {
        yield* other
      },
    })
    agrees({ ...envelope, proof: iterating, x: { a: 1, proof } } as Envelope)
  })
})

describe('encryptEnvelope', () => {
  // It gives the signing bytes written from the AAD text (a signature does not encode the envelope
  // again): they must be the reference encoding, for any header strings.
  const anyString = fc.oneof(fc.string({ unit: 'binary', maxLength: 12 }), fc.string({ maxLength: 12 }))

  test('behavior: its signing bytes equal the reference encoding', async () => {
    const { key, header } = await makeConversation(nodeCryptoBackend)
    const prefix = utf8ToBytes('dmtp/v1/envelope\n')
    await fc.assert(
      fc.asyncProperty(
        fc.record({ id: anyString, room: anyString, sender: anyString, timestamp: anyString, replaces: anyString }),
        fc.constantFrom('dmtp-p2p-v1', 'dmtp-relay-v1', 'dmtp-migrated-v1'),
        text,
        async (fields, suite, body) => {
          const { envelope, signingBytes } = await encryptEnvelope(nodeCryptoBackend, {
            header: { ...header, ...fields, suite } as EnvelopeHeader,
            content: { type: 'text', text: body },
            key,
          })
          const expected = toHex(concatBytes(prefix, encodeCanonical(envelope)))
          expect(toHex(signingBytes)).toBe(expected)
          expect(toHex(envelopeSigningBytes(envelope))).toBe(expected)
        },
      ),
      { numRuns: 300 },
    )
  })
})

describe('handoffAad', () => {
  // Written member by member so a receiver encodes the original once; it must be exactly the
  // canonical encoding protocol.md gives, for real handoffs and for any strings in them.
  const prefix = utf8ToBytes('dmtp/v1/handoff-aad\n')
  const anyString = fc.oneof(fc.string({ unit: 'binary', maxLength: 16 }), fc.string({ maxLength: 16 }))

  test('behavior: equals the prefixed canonical encoding, with or without the original text given', async () => {
    const original = { ...(await makeEnvelope(nodeCryptoBackend)), suite: 'dmtp-relay-v1' as const }
    fc.assert(
      fc.property(
        anyString,
        anyString,
        anyString,
        fc.oneof(fc.constant(original), json),
        (serverKey, receiverKey, suite, value) => {
          const handoff = { v: 1 as const, suite, original: value, serverKey, receiverKey } as unknown as Handoff
          const expected = toHex(concatBytes(prefix, encodeCanonical({ v: 1, suite, original: value, serverKey, receiverKey })))
          expect(toHex(handoffAad(handoff))).toBe(expected)
          expect(toHex(handoffAad(handoff, toBlock(value).text))).toBe(expected)
        },
      ),
      { numRuns: 1000 },
    )
  })
})

describe('deriveConversationKey', () => {
  const address = bytes(20).map((data) => `0x${toHex(data)}`)

  for (const backend of backends) {
    test(`behavior: ${backend.name} derives the same key on both sides`, async () => {
      await fc.assert(
        fc.asyncProperty(
          bytes(32),
          bytes(32),
          address,
          fc.oneof(address, fc.constant(undefined)),
          async (a, b, addressA, maybeB) => {
            // Also covers two keys of one wallet talking to each other (equal addresses).
            const addressB = maybeB ?? addressA
            const [publicA, publicB] = await Promise.all([backend.x25519PublicKey(a), backend.x25519PublicKey(b)])
            const fromA = await deriveConversationKey(backend, {
              secretKey: a,
              publicKey: publicA,
              address: addressA,
              peerPublicKey: publicB,
              peerAddress: addressB,
            })
            const fromB = await deriveConversationKey(backend, {
              secretKey: b,
              publicKey: publicB,
              address: addressB.toUpperCase().replace('0X', '0x'),
              peerPublicKey: publicA,
              peerAddress: addressA,
            })
            expect(fromA.length).toBe(32)
            expect(toHex(fromB)).toBe(toHex(fromA))
          },
        ),
        { numRuns: backend.name === 'noble' ? 40 : 100 },
      )
    })
  }

  test('behavior: every backend derives the same key', async () => {
    await fc.assert(
      fc.asyncProperty(bytes(32), bytes(32), address, address, async (a, b, addressA, addressB) => {
        const keys = await Promise.all(
          backends.map(async (backend) =>
            toHex(
              await deriveConversationKey(backend, {
                secretKey: a,
                publicKey: await backend.x25519PublicKey(a),
                address: addressA,
                peerPublicKey: await backend.x25519PublicKey(b),
                peerAddress: addressB,
              }),
            ),
          ),
        )
        expect(new Set(keys).size).toBe(1)
      }),
      { numRuns: 30 },
    )
  })
})
