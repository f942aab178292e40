/**
 * Replies, edits, reactions, recalls and pins in 1:1 rooms: pair envelopes with `type` and `ref`
 * (`messages/envelope.ts`). Both are bound by the AAD and the signature; the content must be of
 * the kind the header names; and an envelope without them keeps exactly the bytes it had before
 * they existed.
 */
import {
  type ActionType,
  bytesToUtf8,
  type EnvelopeHeader,
  encodeCanonical,
  encryptEnvelope,
  envelopeAad,
  envelopeSchema,
  envelopeSigningBytes,
  envelopeType,
  InvalidContentError,
  type MessageContent,
  openEnvelope,
  type PairEnvelope,
  sealEnvelope,
  toBase64Url,
  toBlock,
  verifyEnvelopeSignature,
} from '@dmtp/protocol'
import { nodeCryptoBackend } from '@dmtp/protocol/node'
import { beforeAll, describe, expect, test } from 'vitest'
import { backends, makeConversation, settle } from './_util.js'

const REF = 'cmVmZXJlbmNlZC1tc2ctMQ'

/** Each kind of message, and the content it carries. */
const KINDS: [{ type?: ActionType; ref?: string }, MessageContent][] = [
  [{}, { type: 'text', text: 'gm' }],
  [{ ref: REF }, { type: 'text', text: 'a reply', mentions: ['0x0000000000000000000000000000000000000007'] }],
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

/** Every header with content of another kind than it names. */
const MISMATCHED: [{ type?: ActionType; ref?: string }, MessageContent][] = [
  [{}, { type: 'reaction', emoji: '🦊' }],
  [{}, { type: 'none' }],
  [{ ref: REF }, { type: 'none' }],
  [
    { type: 'edit', ref: REF },
    { type: 'reaction', emoji: '🦊' },
  ],
  [
    { type: 'react', ref: REF },
    { type: 'text', text: '🦊' },
  ],
  [{ type: 'unreact', ref: REF }, { type: 'none' }],
  [
    { type: 'recall', ref: REF },
    { type: 'text', text: 'gone' },
  ],
  [
    { type: 'pin', ref: REF },
    { type: 'reaction', emoji: '📌' },
  ],
  [
    { type: 'unpin', ref: REF },
    { type: 'text', text: 'x' },
  ],
]

describe('sealEnvelope', () => {
  for (const backend of backends) {
    test(`behavior: ${backend.name}: every kind of message round-trips with its type and ref`, async () => {
      const { aliceKeys, key, header } = await makeConversation(backend)
      for (const [action, content] of KINDS) {
        const envelope = await sealEnvelope(backend, {
          header: { ...header, ...action } as EnvelopeHeader,
          content,
          key,
          signingKey: aliceKeys.ed25519.secretKey,
        })
        expect(envelope.type).toBe(action.type)
        expect(envelope.ref).toBe(action.ref)
        expect(envelopeType(envelope)).toBe(action.type ?? 'message')
        expect(envelopeSchema.parse(envelope)).toEqual(envelope)
        expect(await verifyEnvelopeSignature(backend, envelope, aliceKeys.ed25519.publicKey)).toBe(true)
        expect(await openEnvelope(backend, { envelope, key })).toEqual(content)
      }
    })
  }

  test('behavior: content of another kind than the header names is a TypeError, before any encryption', async () => {
    const { aliceKeys, key, header } = await makeConversation(nodeCryptoBackend)
    for (const [action, content] of MISMATCHED) {
      const parameters = { header: { ...header, ...action } as EnvelopeHeader, content, key }
      const sealed = await settle(() =>
        sealEnvelope(nodeCryptoBackend, { ...parameters, signingKey: aliceKeys.ed25519.secretKey }),
      )
      const encrypted = await settle(() => encryptEnvelope(nodeCryptoBackend, parameters))
      for (const result of [sealed, encrypted]) {
        expect(result.ok ? 'made' : (result.error as Error).name, `${action.type} with ${content.type}`).toBe('TypeError')
      }
    }
    const react = { ...header, type: 'react', ref: REF } as EnvelopeHeader
    await expect(
      sealEnvelope(nodeCryptoBackend, {
        header: react,
        content: { type: 'text', text: '🦊' },
        key,
        signingKey: aliceKeys.ed25519.secretKey,
      }),
    ).rejects.toThrowErrorMatchingInlineSnapshot(`[TypeError: "content" expected reaction content for a react, got text]`)
    await expect(
      encryptEnvelope(nodeCryptoBackend, { header, content: { type: 'none' }, key }),
    ).rejects.toThrowErrorMatchingInlineSnapshot(`[TypeError: "content" expected text content for a message, got none]`)
    // Relayed envelopes carry no action: they take text.
    const relayed = { ...header, suite: 'dmtp-relay-v1' } as EnvelopeHeader
    await expect(
      encryptEnvelope(nodeCryptoBackend, { header: relayed, content: { type: 'reaction', emoji: '🦊' }, key }),
    ).rejects.toThrowErrorMatchingInlineSnapshot(`[TypeError: "content" expected text content for a message, got reaction]`)
  })
})

describe('openEnvelope', () => {
  let conversation: Awaited<ReturnType<typeof makeConversation>>
  beforeAll(async () => {
    conversation = await makeConversation(nodeCryptoBackend)
  })
  const seal = (action: { type?: ActionType; ref?: string }, content: MessageContent) =>
    sealEnvelope(nodeCryptoBackend, {
      header: { ...conversation.header, ...action } as EnvelopeHeader,
      content,
      key: conversation.key,
      signingKey: conversation.aliceKeys.ed25519.secretKey,
    })
  const open = (envelope: PairEnvelope) => openEnvelope(nodeCryptoBackend, { envelope, key: conversation.key })
  /**
   * Encrypts and signs `content` under the header by hand, as a sender not using `sealEnvelope`
   * could (which refuses a mismatched pair): the AAD of the header, a fresh nonce, the sender's key.
   */
  const sealByHand = async (action: { type?: ActionType; ref?: string }, content: MessageContent) => {
    const header = { ...conversation.header, ...action } as EnvelopeHeader
    const nonce = nodeCryptoBackend.randomBytes(12)
    const ciphertext = await nodeCryptoBackend.aesGcmEncrypt(
      conversation.key,
      nonce,
      encodeCanonical(content),
      envelopeAad(header),
    )
    const unsigned = { ...header, nonce: toBase64Url(nonce), messages: toBase64Url(ciphertext) }
    const signature = await nodeCryptoBackend.ed25519Sign(
      conversation.aliceKeys.ed25519.secretKey,
      envelopeSigningBytes(unsigned),
    )
    return { ...unsigned, signature: toBase64Url(signature) } as PairEnvelope
  }

  test('behavior: the content must be of the kind the header names', async () => {
    // Made by hand, the envelopes are otherwise sound: with content of the right kind each opens.
    for (const [action, content] of KINDS) {
      const envelope = await sealByHand(action, content)
      expect(envelope).toEqual({
        ...(await seal(action, content)),
        nonce: envelope.nonce,
        messages: envelope.messages,
        signature: envelope.signature,
      })
      expect(await open(envelope)).toEqual(content)
    }
    for (const [action, content] of MISMATCHED) {
      const envelope = await sealByHand(action, content)
      // The signature and the AAD hold (the sender's mistake, or a forgery by the sender); every receiver checks the kind.
      expect(await verifyEnvelopeSignature(nodeCryptoBackend, envelope, conversation.aliceKeys.ed25519.publicKey)).toBe(true)
      const opened = await settle(() => open(envelope))
      expect(opened.ok ? 'opened' : (opened.error as Error).name, `${action.type} with ${content.type}`).toBe(
        'InvalidContentError',
      )
    }
    const envelope = await sealByHand({ type: 'react', ref: REF }, { type: 'text', text: '🦊' })
    await expect(open(envelope)).rejects.toThrowErrorMatchingInlineSnapshot(`
      [InvalidContentError: The message content is not a DMTP message content.
      Version: @dmtp/protocol@0.1.0]
    `)
    await expect(open(envelope)).rejects.toBeInstanceOf(InvalidContentError)
  })

  test('behavior: type and ref are bound: changed, added or removed, the message does not open or verify', async () => {
    const reaction = await seal({ type: 'react', ref: REF }, { type: 'reaction', emoji: '🦊' })
    const plain = await seal({}, { type: 'text', text: 'gm' })
    const reply = await seal({ ref: REF }, { type: 'text', text: 'gm' })
    const { type: _type, ...untyped } = reaction
    const { ref: _ref, ...unreferenced } = reply
    const altered = [
      ['type changed', { ...reaction, type: 'unreact' }],
      ['ref changed', { ...reaction, ref: 'b3RoZXItbWVzc2FnZS0wMQ' }],
      ['type removed', untyped],
      ['ref removed from a reply', unreferenced],
      ['type added', { ...reply, type: 'edit' }],
      ['ref added', { ...plain, ref: REF }],
    ] as [string, PairEnvelope][]
    for (const [how, envelope] of altered) {
      const opened = await settle(() => open(envelope))
      expect(opened.ok ? 'opened' : (opened.error as Error).name, how).toBe('DecryptionFailedError')
      expect(await verifyEnvelopeSignature(nodeCryptoBackend, envelope, conversation.aliceKeys.ed25519.publicKey), how).toBe(
        false,
      )
    }
  })
})

describe('envelopeAad', () => {
  // Fixed fields, so the expected bytes can be written out.
  const alice = '0x00000000000000000000000000000000000A11cE'
  const bob = '0x0000000000000000000000000000000000000B0b'
  const senderKey = toBlock({ key: 'alice' }).cid
  const receiverKey = toBlock({ key: 'bob' }).cid
  const header = {
    v: 1,
    suite: 'dmtp-p2p-v1',
    id: 'AAECAwQFBgcICQoLDA0ODw',
    room: 'EBESExQVFhcYGRobHB0eHw',
    sender: alice,
    receiver: bob,
    timestamp: '2026-06-01T12:00:00.000Z',
    senderKey,
    receiverKey,
  } as const satisfies EnvelopeHeader
  const headerText =
    `{"id":"AAECAwQFBgcICQoLDA0ODw","receiver":"${bob}","receiverKey":"${receiverKey}","room":"EBESExQVFhcYGRobHB0eHw",` +
    `"sender":"${alice}","senderKey":"${senderKey}","suite":"dmtp-p2p-v1","timestamp":"2026-06-01T12:00:00.000Z","v":1}`

  test('default', () => {
    expect(bytesToUtf8(envelopeAad(header))).toBe(`dmtp/v1/aad\n${headerText}`)
  })

  test('behavior: an envelope without type and ref keeps its exact bytes (AAD and signed bytes)', () => {
    const envelope = { ...header, nonce: 'AAAAAAAAAAAAAAAA', messages: 'Y2lwaGVydGV4dC1hbmQtdGFn', signature: 'c2ln' } as const
    const signedText =
      `{"id":"AAECAwQFBgcICQoLDA0ODw","messages":"Y2lwaGVydGV4dC1hbmQtdGFn","nonce":"AAAAAAAAAAAAAAAA","receiver":"${bob}",` +
      `"receiverKey":"${receiverKey}","room":"EBESExQVFhcYGRobHB0eHw","sender":"${alice}","senderKey":"${senderKey}",` +
      '"suite":"dmtp-p2p-v1","timestamp":"2026-06-01T12:00:00.000Z","v":1}'
    expect(bytesToUtf8(envelopeAad(envelope))).toBe(`dmtp/v1/aad\n${headerText}`)
    expect(bytesToUtf8(envelopeAad({ ...envelope, type: undefined, ref: undefined }))).toBe(`dmtp/v1/aad\n${headerText}`)
    expect(bytesToUtf8(envelopeSigningBytes(envelope))).toBe(`dmtp/v1/envelope\n${signedText}`)
    expect(bytesToUtf8(envelopeSigningBytes(envelope, toBlock(envelope).text))).toBe(`dmtp/v1/envelope\n${signedText}`)
  })

  test('behavior: sealing with type and ref undefined makes an envelope without them', async () => {
    const { aliceKeys, key, header: fresh } = await makeConversation(nodeCryptoBackend)
    const envelope = await sealEnvelope(nodeCryptoBackend, {
      header: { ...fresh, type: undefined, ref: undefined },
      content: { type: 'text', text: 'gm' },
      key,
      signingKey: aliceKeys.ed25519.secretKey,
    })
    expect(Object.keys(envelope).sort()).toEqual([
      'id',
      'messages',
      'nonce',
      'receiver',
      'receiverKey',
      'room',
      'sender',
      'senderKey',
      'signature',
      'suite',
      'timestamp',
      'v',
    ])
    expect(await verifyEnvelopeSignature(nodeCryptoBackend, envelope, aliceKeys.ed25519.publicKey)).toBe(true)
  })

  test('behavior: type and ref join the header in key order', () => {
    const withAction = { ...header, type: 'pin', ref: REF } as const
    expect(bytesToUtf8(envelopeAad(withAction))).toBe(
      `dmtp/v1/aad\n{"id":"AAECAwQFBgcICQoLDA0ODw","receiver":"${bob}","receiverKey":"${receiverKey}","ref":"${REF}",` +
        `"room":"EBESExQVFhcYGRobHB0eHw","sender":"${alice}","senderKey":"${senderKey}","suite":"dmtp-p2p-v1",` +
        '"timestamp":"2026-06-01T12:00:00.000Z","type":"pin","v":1}',
    )
  })

  test('behavior: relayed and migrated envelopes carry no action', () => {
    const relayed = { ...header, suite: 'dmtp-relay-v1' } as const
    const migrated = { ...header, suite: 'dmtp-migrated-v1', replaces: senderKey } as const
    for (const plain of [relayed, migrated]) {
      const withAction = { ...plain, type: 'pin', ref: REF } as unknown as EnvelopeHeader
      expect(bytesToUtf8(envelopeAad(withAction))).toBe(bytesToUtf8(envelopeAad(plain)))
      expect(bytesToUtf8(envelopeAad(plain))).not.toContain('"type"')
    }
  })
})
