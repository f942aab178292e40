/**
 * What a message or message action says (protocol.md §5.3, §6.6). In a 1:1 room it travels
 * inside the ciphertext; in a public room it is a block of its own, named by CID in the signed
 * envelope, so a recalled message's words can be deleted everywhere while its envelope still
 * verifies and its anchor still matches.
 *
 * - `text`: a message or an edit (`mentions`: addresses to highlight for);
 * - `reaction`: a reaction added or removed;
 * - `none`: recall, pin and unpin, which say nothing beyond their header.
 */
import { bytesToUtf8 } from '../encoding/bytes.js'
import { BaseError } from '../errors.js'
import type { RoomActionType } from '../rooms/rules.js'

export type TextContent = {
  type: 'text'
  text: string
  mentions?: string[] | undefined
  /** Relayed and migrated messages (pattern β): the sender's signature over the message. */
  author?: { key: string; sig: string } | undefined
}
export type ReactionContent = { type: 'reaction'; emoji: string }
export type NoContent = { type: 'none' }
export type MessageContent = TextContent | ReactionContent | NoContent

/** Longest text a message may carry, in UTF-16 code units (what a person can paste). */
export const MAX_TEXT_LENGTH = 16_000
/** Most addresses one message mentions. */
export const MAX_MENTIONS = 50
/** Longest reaction, in UTF-16 code units (an emoji sequence with modifiers and joiners). */
export const MAX_EMOJI_LENGTH = 32

const ADDRESS = /^0x[0-9a-fA-F]{40}$/
// A reaction is short and visible: no whitespace, no control or bidi-override characters.
const EMOJI = /^[^\s\p{Cc}\u202a-\u202e\u2066-\u2069]+$/u

/** The content type each header type carries. */
export function contentTypeOf(type: RoomActionType): MessageContent['type'] {
  switch (type) {
    case 'message':
    case 'edit':
      return 'text'
    case 'react':
    case 'unreact':
      return 'reaction'
    case 'recall':
    case 'pin':
    case 'unpin':
      return 'none'
  }
}

/** Parses content; anything that is not a DMTP message content is refused. */
export function decodeMessageContent(plaintext: Uint8Array): MessageContent {
  let value: unknown
  try {
    value = JSON.parse(bytesToUtf8(plaintext))
  } catch (cause) {
    throw new InvalidContentError({ cause })
  }
  return checkMessageContent(value)
}

/**
 * Checks a decoded value is message content, and returns it with only the known fields.
 * @throws {InvalidContentError}
 */
export function checkMessageContent(value: unknown): MessageContent {
  const content = value as { type?: unknown; text?: unknown; mentions?: unknown; author?: unknown; emoji?: unknown } | null
  switch (content?.type) {
    case 'text': {
      const { text, mentions } = content
      const author = content.author as { key?: unknown; sig?: unknown } | undefined
      if (typeof text !== 'string' || text.length === 0 || text.length > MAX_TEXT_LENGTH) throw new InvalidContentError({})
      if (
        mentions !== undefined &&
        (!Array.isArray(mentions) ||
          mentions.length > MAX_MENTIONS ||
          !mentions.every((m) => typeof m === 'string' && ADDRESS.test(m)) ||
          new Set(mentions).size !== mentions.length)
      ) {
        throw new InvalidContentError({})
      }
      if (author !== undefined && (typeof author?.key !== 'string' || typeof author.sig !== 'string')) {
        throw new InvalidContentError({})
      }
      return {
        type: 'text',
        text,
        ...(mentions ? { mentions: [...mentions] } : {}),
        ...(author ? { author: { key: author.key as string, sig: author.sig as string } } : {}),
      }
    }
    case 'reaction':
      if (typeof content.emoji !== 'string' || content.emoji.length > MAX_EMOJI_LENGTH || !EMOJI.test(content.emoji)) {
        throw new InvalidContentError({})
      }
      return { type: 'reaction', emoji: content.emoji }
    case 'none':
      return { type: 'none' }
    default:
      throw new InvalidContentError({})
  }
}

export type InvalidContentErrorType = InvalidContentError & { name: 'InvalidContentError' }

export class InvalidContentError extends BaseError {
  override name = 'InvalidContentError'
  constructor({ cause }: { cause?: unknown }) {
    super('The message content is not a DMTP message content.', { cause })
  }
}
