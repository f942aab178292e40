/**
 * Message content (`messages/content.ts`): what a message or action says, checked on the way in
 * (`checkMessageContent`, `decodeMessageContent`) and by the schema of public-room content blocks
 * (`messageContentSchema`): kinds, limits, and the kind each header type carries.
 */
import {
  checkMessageContent,
  contentTypeOf,
  decodeMessageContent,
  emojiSchema,
  InvalidContentError,
  MAX_EMOJI_LENGTH,
  MAX_MENTIONS,
  MAX_TEXT_LENGTH,
  messageContentSchema,
  utf8ToBytes,
} from '@dmtp/protocol'
import { describe, expect, test } from 'vitest'

const ADDRESS = '0x0000000000000000000000000000000000000007'
const CHECKSUMMED = '0x00000000000000000000000000000000000A11cE'
const mentions = (count: number) => Array.from({ length: count }, (_, n) => `0x${String(n + 1).padStart(40, '0')}`)

describe('checkMessageContent', () => {
  test('default', () => {
    expect(checkMessageContent({ type: 'text', text: 'gm' })).toEqual({ type: 'text', text: 'gm' })
  })

  test('behavior: each kind, with only its known fields', () => {
    expect(checkMessageContent({ type: 'text', text: 'gm', mentions: [ADDRESS], note: 'x' })).toEqual({
      type: 'text',
      text: 'gm',
      mentions: [ADDRESS],
    })
    expect(checkMessageContent({ type: 'text', text: 'gm', author: { key: 'k', sig: 's', extra: 1 } })).toEqual({
      type: 'text',
      text: 'gm',
      author: { key: 'k', sig: 's' },
    })
    expect(checkMessageContent({ type: 'reaction', emoji: '🦊', text: 'x' })).toEqual({ type: 'reaction', emoji: '🦊' })
    expect(checkMessageContent({ type: 'none', text: 'x' })).toEqual({ type: 'none' })
  })

  test('behavior: the result is a copy: changing the input later changes nothing', () => {
    const input = { type: 'text', text: 'gm', mentions: [ADDRESS] }
    const checked = checkMessageContent(input)
    input.mentions.push(CHECKSUMMED)
    expect(checked).toEqual({ type: 'text', text: 'gm', mentions: [ADDRESS] })
  })

  test('behavior: text up to MAX_TEXT_LENGTH UTF-16 units', () => {
    expect(MAX_TEXT_LENGTH).toBe(16_000)
    expect(checkMessageContent({ type: 'text', text: 'x'.repeat(16_000) })).toEqual({ type: 'text', text: 'x'.repeat(16_000) })
    expect(checkMessageContent({ type: 'text', text: '🦊'.repeat(8_000) }).type).toBe('text')
    expect(() => checkMessageContent({ type: 'text', text: 'x'.repeat(16_001) })).toThrow(InvalidContentError)
    expect(() => checkMessageContent({ type: 'text', text: `${'🦊'.repeat(8_000)}x` })).toThrow(InvalidContentError)
    // As messageContentSchema (rooms without E2EE): a text says something.
    expect(() => checkMessageContent({ type: 'text', text: '' })).toThrow(InvalidContentError)
  })

  test('behavior: mentions: at most MAX_MENTIONS addresses', () => {
    expect(MAX_MENTIONS).toBe(50)
    expect(checkMessageContent({ type: 'text', text: 'hi', mentions: mentions(50) })).toEqual({
      type: 'text',
      text: 'hi',
      mentions: mentions(50),
    })
    expect(checkMessageContent({ type: 'text', text: 'hi', mentions: [] })).toEqual({ type: 'text', text: 'hi', mentions: [] })
    // @NOTE the form is checked, not the checksum (messageContentSchema asks for EIP-55); each address once.
    const lower = `0x${'ab'.repeat(20)}`
    expect(checkMessageContent({ type: 'text', text: 'hi', mentions: [lower] })).toEqual({
      type: 'text',
      text: 'hi',
      mentions: [lower],
    })
    expect(() => checkMessageContent({ type: 'text', text: 'hi', mentions: [lower, lower] })).toThrow(InvalidContentError)
    const refused: unknown[] = [
      mentions(51),
      [ADDRESS.slice(0, -1)],
      [`${ADDRESS}0`],
      [ADDRESS.replace('0x', '0X')],
      [`0x${'g'.repeat(40)}`],
      [` ${ADDRESS}`],
      [42],
      [null],
      ADDRESS,
      { 0: ADDRESS, length: 1 },
      null,
    ]
    for (const value of refused) {
      expect(() => checkMessageContent({ type: 'text', text: 'hi', mentions: value }), JSON.stringify(value)).toThrow(
        InvalidContentError,
      )
    }
  })

  test('behavior: a reaction: one short visible sequence', () => {
    expect(MAX_EMOJI_LENGTH).toBe(32)
    for (const emoji of ['🦊', '👍🏽', '👩‍👩‍👧‍👦', '🏳️‍🌈', '+1', 'x'.repeat(32), 'ok!']) {
      expect(checkMessageContent({ type: 'reaction', emoji })).toEqual({ type: 'reaction', emoji })
    }
    const refused: unknown[] = [
      '',
      'x'.repeat(33),
      '🦊'.repeat(17),
      'thumbs up',
      ' 🦊',
      '🦊\n',
      '\t',
      '\u0000',
      '\u007f',
      '\u0085',
      '🦊\u202e',
      '\u2066🦊',
      42,
      null,
      ['🦊'],
    ]
    for (const emoji of refused) {
      expect(() => checkMessageContent({ type: 'reaction', emoji }), JSON.stringify(emoji)).toThrow(InvalidContentError)
    }
  })

  test('behavior: anything that is not message content is refused', () => {
    const refused: unknown[] = [
      undefined,
      null,
      42,
      'gm',
      [],
      [{ type: 'text', text: 'gm' }],
      {},
      { type: 'Text', text: 'gm' },
      { type: 'image', url: 'x' },
      { type: 'text' },
      { type: 'text', text: 42 },
      { type: 'text', text: null },
      { type: 'text', text: 'gm', author: 'me' },
      { type: 'text', text: 'gm', author: { key: 'k' } },
      { type: 'text', text: 'gm', author: { key: 1, sig: 's' } },
      { type: 'text', text: 'gm', author: null },
      { type: 'reaction' },
    ]
    for (const value of refused) expect(() => checkMessageContent(value), JSON.stringify(value)).toThrow(InvalidContentError)
    expect(() => checkMessageContent({ type: 'image' })).toThrowErrorMatchingInlineSnapshot(`
      [InvalidContentError: The message content is not a DMTP message content.
      Version: @dmtp/protocol@0.1.0]
    `)
  })
})

describe('decodeMessageContent', () => {
  test('default', () => {
    expect(decodeMessageContent(utf8ToBytes('{"text":"gm","type":"text"}'))).toEqual({ type: 'text', text: 'gm' })
  })

  test('behavior: any JSON text of content (not only canonical)', () => {
    expect(decodeMessageContent(utf8ToBytes(' { "type" : "reaction", "emoji": "🦊" } '))).toEqual({
      type: 'reaction',
      emoji: '🦊',
    })
    expect(decodeMessageContent(utf8ToBytes('{"type":"none"}'))).toEqual({ type: 'none' })
  })

  test('behavior: not UTF-8, not JSON, or not content: InvalidContentError, with the cause', () => {
    const error = (() => {
      try {
        decodeMessageContent(utf8ToBytes('{"type":"text","text":'))
      } catch (thrown) {
        return thrown
      }
    })()
    expect(error).toBeInstanceOf(InvalidContentError)
    expect((error as InvalidContentError).cause).toBeInstanceOf(SyntaxError)
    expect(() => decodeMessageContent(new Uint8Array([0x7b, 0xff, 0x7d]))).toThrow(InvalidContentError)
    expect(() => decodeMessageContent(new Uint8Array())).toThrow(InvalidContentError)
    expect(() => decodeMessageContent(utf8ToBytes('"gm"'))).toThrow(InvalidContentError)
    expect(() => decodeMessageContent(utf8ToBytes(`{"type":"text","text":"${'x'.repeat(16_001)}"}`))).toThrow(InvalidContentError)
  })
})

describe('contentTypeOf', () => {
  test('default', () => {
    expect(
      Object.fromEntries(
        (['message', 'edit', 'react', 'unreact', 'recall', 'pin', 'unpin'] as const).map((t) => [t, contentTypeOf(t)]),
      ),
    ).toEqual({
      message: 'text',
      edit: 'text',
      react: 'reaction',
      unreact: 'reaction',
      recall: 'none',
      pin: 'none',
      unpin: 'none',
    })
  })
})

describe('messageContentSchema', () => {
  const accepts = (value: unknown) => messageContentSchema.safeParse(value).success

  test('default', () => {
    expect(messageContentSchema.parse({ type: 'text', text: 'gm' })).toEqual({ type: 'text', text: 'gm' })
    expect(messageContentSchema.parse({ type: 'text', text: 'gm', mentions: [CHECKSUMMED] })).toEqual({
      type: 'text',
      text: 'gm',
      mentions: [CHECKSUMMED],
    })
    expect(messageContentSchema.parse({ type: 'reaction', emoji: '👍🏽' })).toEqual({ type: 'reaction', emoji: '👍🏽' })
    expect(messageContentSchema.parse({ type: 'none' })).toEqual({ type: 'none' })
  })

  test('behavior: text of 1 to MAX_TEXT_LENGTH units', () => {
    expect(accepts({ type: 'text', text: 'x'.repeat(16_000) })).toBe(true)
    expect(accepts({ type: 'text', text: 'x'.repeat(16_001) })).toBe(false)
    expect(accepts({ type: 'text', text: '' })).toBe(false)
  })

  test('behavior: up to MAX_MENTIONS EIP-55 addresses', () => {
    expect(accepts({ type: 'text', text: 'hi', mentions: mentions(50) })).toBe(true)
    expect(accepts({ type: 'text', text: 'hi', mentions: mentions(51) })).toBe(false)
    expect(accepts({ type: 'text', text: 'hi', mentions: [] })).toBe(true)
    expect(accepts({ type: 'text', text: 'hi', mentions: [CHECKSUMMED.toLowerCase()] })).toBe(false)
    expect(accepts({ type: 'text', text: 'hi', mentions: ['alice.eth'] })).toBe(false)
  })

  test('behavior: strict: no unknown field, no author signature, no other kind', () => {
    expect(accepts({ type: 'text', text: 'gm', note: 'x' })).toBe(false)
    expect(accepts({ type: 'text', text: 'gm', author: { key: 'k', sig: 's' } })).toBe(false)
    expect(accepts({ type: 'reaction', emoji: '🦊', text: 'x' })).toBe(false)
    expect(accepts({ type: 'none', text: 'x' })).toBe(false)
    expect(accepts({ type: 'image' })).toBe(false)
    expect(accepts({ type: 'text', text: 'gm', mentions: undefined })).toBe(true)
  })

  test('behavior: reactions as checkMessageContent takes them', () => {
    for (const emoji of ['🦊', '👩‍👩‍👧‍👦', 'x'.repeat(32)]) expect(emojiSchema.safeParse(emoji).success).toBe(true)
    for (const emoji of ['', 'x'.repeat(33), 'a b', '\u0085', '🦊\u202e', '\u2069']) {
      expect(emojiSchema.safeParse(emoji).success, JSON.stringify(emoji)).toBe(false)
      expect(accepts({ type: 'reaction', emoji })).toBe(false)
    }
  })
})
