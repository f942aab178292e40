/**
 * Length padding (messages/padding.ts, docs/metadata.md): ciphertexts of texts in one bucket are
 * the same length, buckets double from 256 bytes up to the largest message, and content from
 * before padding (no trailing spaces) still opens.
 */
import {
  encodeCanonical,
  envelopeAad,
  fromBase64Url,
  MAX_PADDED_LENGTH,
  MIN_PADDED_LENGTH,
  openEnvelope,
  type PairEnvelope,
  paddedLength,
  sealEnvelope,
  toBase64Url,
} from '@dmtp/protocol'
import { nodeCryptoBackend as backend } from '@dmtp/protocol/node'
import { describe, expect, test } from 'vitest'
import { makeConversation } from './_util.js'

describe('padding', () => {
  test('behavior: buckets double from the smallest and stop at the largest message', () => {
    expect(paddedLength(0)).toBe(MIN_PADDED_LENGTH)
    expect(paddedLength(MIN_PADDED_LENGTH)).toBe(MIN_PADDED_LENGTH)
    expect(paddedLength(MIN_PADDED_LENGTH + 1)).toBe(MIN_PADDED_LENGTH * 2)
    expect(paddedLength(5_000)).toBe(8_192)
    expect(paddedLength(40_000)).toBe(MAX_PADDED_LENGTH)
    // Never shorter than the content itself.
    expect(paddedLength(MAX_PADDED_LENGTH + 10)).toBe(MAX_PADDED_LENGTH + 10)
  })

  test('security: "yes" and a 200-character text have ciphertexts of one length; a longer text the next bucket', async () => {
    const { aliceKeys, key, header } = await makeConversation(backend)
    const seal = (text: string) =>
      sealEnvelope(backend, { header, content: { type: 'text', text }, key, signingKey: aliceKeys.ed25519.secretKey })
    const [yes, no, long, longer] = await Promise.all([seal('yes'), seal('no'), seal('y'.repeat(200)), seal('y'.repeat(300))])
    const length = (envelope: PairEnvelope) => fromBase64Url(envelope.messages).length
    expect(length(yes)).toBe(MIN_PADDED_LENGTH + 16)
    expect(length(no)).toBe(length(yes))
    expect(length(long)).toBe(length(yes))
    expect(length(longer)).toBe(MIN_PADDED_LENGTH * 2 + 16)
    for (const [envelope, text] of [
      [yes, 'yes'],
      [longer, 'y'.repeat(300)],
    ] as const) {
      expect(await openEnvelope(backend, { envelope, key })).toEqual({ type: 'text', text })
    }
  })

  test('behavior: an envelope from before padding (exact-length content) still opens', async () => {
    const { key, header } = await makeConversation(backend)
    const nonce = backend.randomBytes(12)
    const content = { type: 'text' as const, text: 'from the release before' }
    const ciphertext = await backend.aesGcmEncrypt(key, nonce, encodeCanonical(content), envelopeAad(header))
    const envelope = { ...header, nonce: toBase64Url(nonce), messages: toBase64Url(ciphertext), signature: '' } as PairEnvelope
    expect(await openEnvelope(backend, { envelope, key })).toEqual(content)
  })
})
