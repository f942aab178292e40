/**
 * Messages of rooms without E2EE (`dmtp-signed-v1`, `messages/signed-envelope.ts`): sealing on
 * every backend, what the signature covers (the header and the content block's CID, not the words,
 * so a recalled message still verifies), tampering, and the one function for signing bytes
 * (`envelopeSigningBytes`, with and without the block text at hand).
 */
import {
  bytesToUtf8,
  concatBytes,
  contentMatches,
  encodeCanonical,
  envelopeBlock,
  envelopeSchema,
  envelopeSigningBytes,
  envelopeType,
  fromBase64Url,
  type MessageContent,
  SIGNED_SUITE,
  type SignedEnvelope,
  type SignedEnvelopeHeader,
  sealSignedEnvelope,
  signedEnvelopeSchema,
  toBase64Url,
  toBlock,
  utf8ToBytes,
  verifyEnvelopeSignature,
} from '@dmtp/protocol'
import { nodeCryptoBackend } from '@dmtp/protocol/node'
import fc from 'fast-check'
import { beforeAll, describe, expect, test } from 'vitest'
import { backends, makeRoomActor, makeSignedEnvelope, type RoomActor, toHex } from './_util.js'

const MENTIONED = '0x0000000000000000000000000000000000000007'
const LOG_HEAD = toBlock({ entry: 'head' }).cid
const REF = 'cmVmZXJlbmNlZC1tc2ctMQ'

let sender: RoomActor
beforeAll(async () => {
  sender = await makeRoomActor(nodeCryptoBackend)
})

const header = (more: Partial<SignedEnvelopeHeader> = {}): SignedEnvelopeHeader => ({
  v: 1,
  suite: SIGNED_SUITE,
  id: 'AAECAwQFBgcICQoLDA0ODw',
  room: 'EBESExQVFhcYGRobHB0eHw',
  sender: sender.address,
  senderKey: sender.actorKey,
  timestamp: '2026-06-01T12:00:00.000Z',
  logHead: LOG_HEAD,
  ...more,
})

const seal = (content: MessageContent, more: Partial<SignedEnvelopeHeader> = {}, backend = nodeCryptoBackend) =>
  sealSignedEnvelope(backend, { header: header(more), content, signingKey: sender.keys.ed25519.secretKey })

/** A message and each action, with the content its type carries. */
const KINDS: [Partial<SignedEnvelopeHeader>, MessageContent][] = [
  [{}, { type: 'text', text: 'gm' }],
  [{}, { type: 'text', text: 'gm @you', mentions: [MENTIONED] }],
  [{ ref: REF }, { type: 'text', text: 'a reply' }],
  [
    { type: 'edit', ref: REF },
    { type: 'text', text: 'gm, fixed' },
  ],
  [
    { type: 'react', ref: REF },
    { type: 'reaction', emoji: '🦊' },
  ],
  [
    { type: 'unreact', ref: REF },
    { type: 'reaction', emoji: '🦊' },
  ],
  [{ type: 'recall', ref: REF }, { type: 'none' }],
  [{ type: 'pin', ref: REF }, { type: 'none' }],
  [{ type: 'unpin', ref: REF }, { type: 'none' }],
]

describe('sealSignedEnvelope', () => {
  for (const backend of backends) {
    test(`default (${backend.name})`, async () => {
      for (const [more, content] of KINDS) {
        const sealed = await seal(content, more, backend)
        const block = toBlock(content)
        expect(sealed).toEqual({
          envelope: { ...header(more), content: block.cid, signature: expect.stringMatching(/^[A-Za-z0-9_-]{86}$/) },
          content: { text: block.text, cid: block.cid },
        })
        expect(signedEnvelopeSchema.parse(sealed.envelope)).toEqual(sealed.envelope)
        expect(envelopeSchema.parse(sealed.envelope)).toEqual(sealed.envelope)
        expect(await verifyEnvelopeSignature(backend, sealed.envelope, sender.keys.ed25519.publicKey)).toBe(true)
        expect(contentMatches(sealed.envelope, content, backend.sha256)).toBe(true)
        expect(envelopeType(sealed.envelope)).toBe(more.type ?? 'message')
      }
    })
  }

  test('behavior: every backend makes the same signature', async () => {
    for (const [more, content] of KINDS) {
      const signatures = await Promise.all(
        backends.map(async (backend) => (await seal(content, more, backend)).envelope.signature),
      )
      expect(new Set(signatures).size).toBe(1)
    }
  })

  test('behavior: the content block is the canonical text of the content', async () => {
    const { content } = await seal({ type: 'text', text: 'gm @you', mentions: [MENTIONED] })
    expect(content.text).toBe(`{"mentions":["${MENTIONED}"],"text":"gm @you","type":"text"}`)
    const reaction = await seal({ type: 'reaction', emoji: '🦊' }, { type: 'react', ref: REF })
    expect(reaction.content.text).toBe('{"emoji":"🦊","type":"reaction"}')
    expect((await seal({ type: 'none' }, { type: 'pin', ref: REF })).content.text).toBe('{"type":"none"}')
  })

  test('behavior: an absent type or ref is no member at all', async () => {
    const plain = await seal({ type: 'text', text: 'gm' })
    const explicit = await seal({ type: 'text', text: 'gm' }, { type: undefined, ref: undefined })
    expect(explicit).toEqual(plain)
    expect(Object.keys(explicit.envelope)).not.toContain('type')
    expect(Object.keys(explicit.envelope)).not.toContain('ref')
  })

  test('behavior: the signature covers the content CID, not the words: a recalled message still verifies', async () => {
    const { envelope } = await seal({ type: 'text', text: 'regret' })
    const other = toBlock({ type: 'text', text: 'rewritten' }).cid
    expect(await verifyEnvelopeSignature(nodeCryptoBackend, envelope, sender.keys.ed25519.publicKey)).toBe(true)
    expect(await verifyEnvelopeSignature(nodeCryptoBackend, { ...envelope, content: other }, sender.keys.ed25519.publicKey)).toBe(
      false,
    )
  })
})

describe('verifyEnvelopeSignature', () => {
  /** Each header field changed by one character (or value), removed, and a field added. */
  function alterations(envelope: SignedEnvelope): [string, SignedEnvelope][] {
    const out: [string, unknown][] = []
    for (const [field, value] of Object.entries(envelope)) {
      if (field === 'signature') continue
      if (typeof value === 'string') {
        const at = value.length >> 1
        const swapped = String.fromCharCode(value.charCodeAt(at) === 0x41 ? 0x42 : 0x41)
        out.push([`${field} changed`, { ...envelope, [field]: value.slice(0, at) + swapped + value.slice(at + 1) }])
        out.push([`${field} longer`, { ...envelope, [field]: `${value}A` }])
      } else {
        out.push([`${field} changed`, { ...envelope, [field]: (value as number) + 1 }])
      }
      const { [field]: _removed, ...rest } = envelope as Record<string, unknown>
      out.push([`${field} removed`, rest])
    }
    out.push(['type set to another', { ...envelope, type: envelope.type === 'pin' ? 'unpin' : 'pin', ref: envelope.ref ?? REF }])
    out.push(['ref added', { ...envelope, ref: `${REF.slice(0, -1)}w` }])
    out.push(['extra field', { ...envelope, note: 'hi' }])
    out.push(['proof added', { ...envelope, proof: [] }])
    return out as [string, SignedEnvelope][]
  }

  for (const backend of backends) {
    test(`behavior: ${backend.name}: any changed, added or removed header field fails`, async () => {
      const failures: string[] = []
      // Every kind on node; a plain message, a reaction and a pin on the slower backends.
      const kinds = backend.name === 'node' ? KINDS : [KINDS[0], KINDS[4], KINDS[7]]
      for (const [more, content] of kinds as typeof KINDS) {
        const { envelope } = await seal(content, more, backend)
        for (const [how, altered] of alterations(envelope)) {
          if (await verifyEnvelopeSignature(backend, altered, sender.keys.ed25519.publicKey)) {
            failures.push(`${envelope.type ?? 'message'}: ${how}`)
          }
        }
      }
      expect(failures).toEqual([])
    })

    test(`behavior: ${backend.name}: a changed signature byte or another key fails`, async () => {
      const { envelope } = await seal({ type: 'text', text: 'gm' }, {}, backend)
      const signature = fromBase64Url(envelope.signature)
      for (let index = 0; index < 64; index += 7) {
        const altered = signature.slice()
        altered[index] = (altered[index] as number) ^ 0x80
        const changed = { ...envelope, signature: toBase64Url(altered) }
        expect(await verifyEnvelopeSignature(backend, changed, sender.keys.ed25519.publicKey)).toBe(false)
      }
      expect(await verifyEnvelopeSignature(backend, { ...envelope, signature: 'A' }, sender.keys.ed25519.publicKey)).toBe(false)
      const other = await makeRoomActor(backend)
      expect(await verifyEnvelopeSignature(backend, envelope, other.keys.ed25519.publicKey)).toBe(false)
    })
  }
})

describe('contentMatches', () => {
  test('default', async () => {
    const { envelope } = await seal({ type: 'text', text: 'gm', mentions: [MENTIONED] })
    expect(contentMatches(envelope, { type: 'text', text: 'gm', mentions: [MENTIONED] }, nodeCryptoBackend.sha256)).toBe(true)
    // Key order does not matter: the block is canonical.
    expect(contentMatches(envelope, { mentions: [MENTIONED], text: 'gm', type: 'text' }, nodeCryptoBackend.sha256)).toBe(true)
    expect(
      contentMatches(envelope, JSON.parse(`{"type":"text","mentions":["${MENTIONED}"],"text":"gm"}`), nodeCryptoBackend.sha256),
    ).toBe(true)
  })

  test('behavior: tampered content no longer matches', async () => {
    const { envelope } = await seal({ type: 'text', text: 'gm', mentions: [MENTIONED] })
    const tampered: unknown[] = [
      { type: 'text', text: 'gn', mentions: [MENTIONED] },
      { type: 'text', text: 'gm ', mentions: [MENTIONED] },
      { type: 'text', text: 'gm' },
      { type: 'text', text: 'gm', mentions: [] },
      { type: 'text', text: 'gm', mentions: [MENTIONED.replace('7', '8')] },
      { type: 'text', text: 'gm', mentions: [MENTIONED], note: 'hi' },
      { type: 'reaction', emoji: 'gm' },
      { type: 'none' },
      null,
      'gm',
    ]
    for (const content of tampered) expect(contentMatches(envelope, content, nodeCryptoBackend.sha256)).toBe(false)
  })

  test('behavior: the content block of another message does not match', async () => {
    const first = await seal({ type: 'text', text: 'first' })
    const second = await seal({ type: 'text', text: 'second' }, { id: 'ICEiIyQlJicoKSorLC0uLw' })
    expect(contentMatches(first.envelope, JSON.parse(second.content.text), nodeCryptoBackend.sha256)).toBe(false)
    expect(contentMatches(second.envelope, JSON.parse(first.content.text), nodeCryptoBackend.sha256)).toBe(false)
    // Moving the other message's block into this envelope breaks its signature.
    const moved = { ...first.envelope, content: second.content.cid }
    expect(contentMatches(moved, JSON.parse(second.content.text), nodeCryptoBackend.sha256)).toBe(true)
    expect(await verifyEnvelopeSignature(nodeCryptoBackend, moved, sender.keys.ed25519.publicKey)).toBe(false)
  })

  test('behavior: every backend hash agrees', async () => {
    const { envelope } = await seal({ type: 'reaction', emoji: '👍🏽' }, { type: 'react', ref: REF })
    for (const backend of backends) {
      expect(contentMatches(envelope, { type: 'reaction', emoji: '👍🏽' }, backend.sha256)).toBe(true)
      expect(contentMatches(envelope, { type: 'reaction', emoji: '👍' }, backend.sha256)).toBe(false)
    }
  })
})

describe('envelopeSigningBytes', () => {
  test('behavior: a signed envelope signs its header and content CID under the envelope prefix', async () => {
    const { envelope } = await seal({ type: 'reaction', emoji: '🦊' }, { type: 'react', ref: REF })
    const cid = toBlock({ type: 'reaction', emoji: '🦊' }).cid
    expect(bytesToUtf8(envelopeSigningBytes(envelope))).toBe(
      'dmtp/v1/envelope\n' +
        `{"content":"${cid}","id":"AAECAwQFBgcICQoLDA0ODw","logHead":"${LOG_HEAD}","ref":"${REF}",` +
        `"room":"EBESExQVFhcYGRobHB0eHw","sender":"${envelope.sender}","senderKey":"${envelope.senderKey}",` +
        '"suite":"dmtp-signed-v1","timestamp":"2026-06-01T12:00:00.000Z","type":"react","v":1}',
    )
  })

  // The server cuts the signed text out of the block text it stores; for any signed envelope (and
  // any object posing as one) that must be what encoding the envelope without its signature gives.
  test('behavior: with the block text at hand, the same bytes as without', async () => {
    const { envelope: base } = await makeSignedEnvelope(nodeCryptoBackend)
    const prefix = utf8ToBytes('dmtp/v1/envelope\n')
    const anyString = fc.oneof(
      fc.string({ unit: 'binary', maxLength: 16 }),
      fc.string({ maxLength: 16 }),
      fc.constantFrom(',"signature":"x"', base.signature, `${base.signature}"`, '"'),
    )
    const signed = fc.record(
      {
        id: anyString,
        room: anyString,
        sender: anyString,
        senderKey: anyString,
        timestamp: anyString,
        logHead: anyString,
        content: fc.oneof(anyString, fc.constant(base.content)),
        signature: fc.oneof(fc.constant(base.signature), anyString),
        type: fc.constantFrom('edit', 'react', 'unreact', 'recall', 'pin', 'unpin'),
        ref: anyString,
        aaa: fc.record({ a: fc.nat(), signature: fc.constant(base.signature) }),
      },
      { requiredKeys: ['id', 'signature'] },
    )
    fc.assert(
      fc.property(signed, (fields) => {
        const envelope = { ...base, ...fields } as SignedEnvelope
        for (const candidate of [envelope, { ...base, ...fields, aaa: undefined }]) {
          const clean = JSON.parse(JSON.stringify(candidate)) as SignedEnvelope
          const { signature: _signature, ...unsigned } = clean
          const expected = toHex(concatBytes(prefix, encodeCanonical(unsigned)))
          expect(toHex(envelopeSigningBytes(clean))).toBe(expected)
          expect(toHex(envelopeSigningBytes(clean, toBlock(clean).text))).toBe(expected)
          expect(toHex(envelopeBlock(clean, nodeCryptoBackend.sha256).signingBytes)).toBe(expected)
        }
      }),
      { numRuns: 100 },
    )
  })

  test('behavior: real signed envelopes of every kind agree, and verify with the bytes from their block', async () => {
    for (const [more, content] of KINDS) {
      const { envelope } = await seal(content, more)
      const block = envelopeBlock(envelope, nodeCryptoBackend.sha256)
      expect(block.cid).toBe(toBlock(envelope).cid)
      expect(toHex(block.signingBytes)).toBe(toHex(envelopeSigningBytes(envelope)))
      expect(toHex(envelopeSigningBytes(envelope, block.text))).toBe(toHex(envelopeSigningBytes(envelope)))
      expect(await verifyEnvelopeSignature(nodeCryptoBackend, envelope, sender.keys.ed25519.publicKey, block.signingBytes)).toBe(
        true,
      )
    }
  })

  test('behavior: a text without the signature member is not cut: the envelope is encoded again', async () => {
    const { envelope } = await seal({ type: 'text', text: 'gm' })
    const expected = toHex(envelopeSigningBytes(envelope))
    for (const text of ['', '{}', `{"signature":"${envelope.signature}"}`, toBlock({ ...envelope, signature: 'x' }).text]) {
      expect(toHex(envelopeSigningBytes(envelope, text))).toBe(expected)
    }
  })
})
