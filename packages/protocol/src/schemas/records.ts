/**
 * zod schemas for every record DMTP stores or signs. Records are strict: unknown fields are
 * rejected (a signed record must not carry unsigned extras), and every encoded value must be in
 * its one canonical form, so that equal records have equal bytes and equal CIDs.
 */
import { getAddress } from 'viem/utils'
import { z } from 'zod'
import { P2P_SUITE } from '../crypto/conversation-key.js'
import { WALLET_BOX_VERSION } from '../crypto/wallet-box.js'
import { isCanonicalBase64Url } from '../encoding/bytes.js'
import { parseCid } from '../encoding/canonical.js'
import { MAX_PROOF_LENGTH, PROOF_STEP } from '../encoding/merkle.js'
import { MAX_EMOJI_LENGTH, MAX_MENTIONS, MAX_TEXT_LENGTH } from '../messages/content.js'
import { MIGRATED_SUITE, RELAY_SUITE, SIGNED_SUITE } from '../messages/envelope.js'
import { GROUP_SUITE } from '../messages/group-envelope.js'
import { HANDOFF_SUITE } from '../messages/handoff.js'
import { MAX_EPOCH } from '../rooms/room-key.js'

/** An EIP-55 checksummed address, exactly (records). */
export const addressSchema = z
  .string()
  .regex(/^0x[0-9a-fA-F]{40}$/, { message: 'expected a 0x-prefixed 20-byte hex address', abort: true })
  .refine((value) => checksummed(value) === value, 'expected the EIP-55 checksummed form of the address')

/** An address as a person types it (any case, checksum checked when mixed), normalized to EIP-55. */
export const addressInputSchema = z
  .string()
  .regex(/^0x[0-9a-fA-F]{40}$/, { message: 'expected a 0x-prefixed 20-byte hex address', abort: true })
  .refine((value) => {
    const body = value.slice(2)
    return body === body.toLowerCase() || body === body.toUpperCase() || checksummed(value) === value
  }, 'the address has a wrong EIP-55 checksum')
  .transform((value) => getAddress(value.toLowerCase()))

/** EIP-55 form of a well-formed address, or undefined (never throws inside a schema). */
function checksummed(value: string): string | undefined {
  try {
    return getAddress(value)
  } catch {
    return undefined
  }
}

/** Canonical unpadded base64url; `bytes` fixes the decoded length. */
export function base64UrlSchema({ bytes, maxLength }: { bytes?: number; maxLength?: number } = {}) {
  const length = bytes === undefined ? undefined : Math.ceil((bytes * 4) / 3)
  let schema = z.string()
  if (length !== undefined) schema = schema.length(length, `expected ${bytes} bytes as base64url (${length} characters)`)
  if (maxLength !== undefined) schema = schema.max(maxLength)
  return schema
    .regex(/^[A-Za-z0-9_-]*$/, 'expected base64url without padding')
    .refine(isCanonicalBase64Url, 'expected canonical base64url')
}

export const base64Schema = z
  .string()
  .max(4096)
  .regex(/^[A-Za-z0-9+/]*={0,2}$/, 'expected standard base64')

// The address of a DAG-JSON block (every DMTP record): CIDv1 bytes 01 a9 02 12 20 and a 32-byte
// sha2-256 digest, in base32 the fixed prefix below, 51 characters, and a last one holding a single
// bit. Checked by its form (~0.1 µs) instead of parsed (~6 µs); a property test checks they agree.
// Other CIDs (raw blocks) are parsed.
const DAG_JSON_CID = /^baguqeera[a-z2-7]{51}[aq]$/

function isDmtpCid(value: string): boolean {
  if (DAG_JSON_CID.test(value)) return true
  try {
    parseCid(value)
    return true
  } catch {
    return false
  }
}

/** A canonical CIDv1 string with a sha2-256 multihash. */
export const cidSchema = z.string().max(128).refine(isDmtpCid, 'expected a CIDv1 (sha2-256)')

/** An ISO 8601 UTC time with milliseconds, as `Date.toISOString()` writes it. */
export const timestampSchema = z
  .string()
  .regex(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/, 'expected an ISO 8601 UTC time like 2026-01-31T12:00:00.000Z')
  .refine((value) => {
    const time = Date.parse(value)
    return Number.isFinite(time) && new Date(time).toISOString() === value
  }, 'expected a real calendar time')

/** Random ids (rooms, messages): 16 random bytes, base64url. */
export const idSchema = base64UrlSchema({ bytes: 16 })

export const dmtpPublicKeysSchema = z.strictObject({
  x25519: base64UrlSchema({ bytes: 32 }),
  ed25519: base64UrlSchema({ bytes: 32 }),
})

export const ethEncryptedDataSchema = z.strictObject({
  version: z.literal(WALLET_BOX_VERSION),
  nonce: base64Schema,
  ephemPublicKey: base64Schema,
  ciphertext: base64Schema,
})

export const encryptedDmtpKeysSchema = z.discriminatedUnion('scheme', [
  z.strictObject({ scheme: z.literal('x25519-xsalsa20-poly1305'), encrypted: ethEncryptedDataSchema }),
  z.strictObject({
    scheme: z.literal('eip191-hkdf-aes256gcm'),
    salt: base64UrlSchema({ bytes: 16 }),
    nonce: base64UrlSchema({ bytes: 12 }),
    ciphertext: base64UrlSchema({ maxLength: 1024 }),
  }),
])

export const signatureHexSchema = z
  .string()
  .max(8192)
  .regex(/^0x([0-9a-fA-F]{2})+$/, 'expected a 0x-prefixed hex signature')

export const domainSchema = z
  .string()
  .min(1)
  .max(253)
  .regex(/^[A-Za-z0-9.\-[\]:]+$/, 'expected a host or host:port')

export const keyBundleSchema = z.strictObject({
  v: z.literal(1),
  address: addressSchema,
  DMTPpubKey: dmtpPublicKeysSchema,
  DMTPpriKey: encryptedDmtpKeysSchema,
  domain: domainSchema,
  chainId: z.number().int().positive().max(Number.MAX_SAFE_INTEGER),
  nonce: base64UrlSchema({ bytes: 16 }),
  issuedAt: timestampSchema,
  Signature: signatureHexSchema,
})

/** Ciphertext of the longest text: 16,000 UTF-16 units → ≤ 48,000 UTF-8 bytes + JSON + tag. */
export const MAX_CIPHERTEXT_BASE64URL_LENGTH = Math.ceil(((MAX_TEXT_LENGTH * 3 + 64 + 16) * 4) / 3)

const envelopeFields = {
  v: z.literal(1),
  id: idSchema,
  room: idSchema,
  sender: addressSchema,
  receiver: addressSchema,
  timestamp: timestampSchema,
  senderKey: cidSchema,
  receiverKey: cidSchema,
  nonce: base64UrlSchema({ bytes: 12 }),
  messages: base64UrlSchema({ maxLength: MAX_CIPHERTEXT_BASE64URL_LENGTH }).refine((value) => value.length >= 22, {
    message: 'ciphertext too short to hold a tag',
  }),
  signature: base64UrlSchema({ bytes: 64 }),
}

/** A batch signature's path from an envelope to its root (`encoding/merkle.ts`). */
export const proofSchema = z
  .array(
    z
      .string()
      .regex(PROOF_STEP, 'expected l or r and a 32-byte hash as base64url')
      .refine((step) => isCanonicalBase64Url(step.slice(1)), 'expected canonical base64url'),
  )
  .max(MAX_PROOF_LENGTH)

/** A migrated envelope only (what a receiver uploads after re-encrypting relayed messages). */
export const migratedEnvelopeSchema = z.strictObject({
  ...envelopeFields,
  suite: z.literal(MIGRATED_SUITE),
  replaces: cidSchema,
  proof: proofSchema.optional(),
})

/** Replies, reactions, edits, recalls and pins: the kind (absent for a plain message) and the message named. */
const actionFields = {
  type: z.enum(['edit', 'react', 'unreact', 'recall', 'pin', 'unpin']).optional(),
  ref: idSchema.optional(),
}
/** An action names the message it acts on (checked on each schema, so each refuses one without `ref`). */
const namesRef = (envelope: { type?: string | undefined; ref?: string | undefined }) =>
  envelope.type === undefined || envelope.ref !== undefined
const namesRefError = { message: 'an action names the message it acts on (ref)', path: ['ref'] }

const p2pEnvelopeSchema = z
  .strictObject({ ...envelopeFields, suite: z.literal(P2P_SUITE), ...actionFields })
  .refine(namesRef, namesRefError)

export const signedEnvelopeSchema = z
  .strictObject({
    v: z.literal(1),
    suite: z.literal(SIGNED_SUITE),
    id: idSchema,
    room: idSchema,
    ...actionFields,
    sender: addressSchema,
    senderKey: cidSchema,
    timestamp: timestampSchema,
    logHead: cidSchema,
    content: cidSchema,
    signature: base64UrlSchema({ bytes: 64 }),
  })
  .refine(namesRef, namesRefError)

export const epochSchema = z.number().int().positive().max(MAX_EPOCH)

/** A private-group message under an epoch's key (docs/private-groups.md §5). */
export const groupEnvelopeSchema = z
  .strictObject({
    v: z.literal(1),
    suite: z.literal(GROUP_SUITE),
    id: idSchema,
    room: idSchema,
    epoch: epochSchema,
    ...actionFields,
    sender: addressSchema,
    senderKey: cidSchema,
    timestamp: timestampSchema,
    logHead: cidSchema,
    nonce: envelopeFields.nonce,
    messages: envelopeFields.messages,
    signature: base64UrlSchema({ bytes: 64 }),
  })
  .refine(namesRef, namesRefError)

/** An envelope of any suite (protocol.md §5, §6.6): pattern α, relayed (β), migrated, public, or private group. */
export const envelopeSchema = z.discriminatedUnion('suite', [
  p2pEnvelopeSchema,
  z.strictObject({ ...envelopeFields, suite: z.literal(RELAY_SUITE) }),
  migratedEnvelopeSchema,
  signedEnvelopeSchema,
  groupEnvelopeSchema,
])

/** An emoji (or any short visible sequence) as a reaction. */
// Lengths in UTF-16 code units, as `content.ts` counts them (zod's `max` counts code points).
const units = (min: number, max: number) => (value: string) => value.length >= min && value.length <= max

export const emojiSchema = z
  .string()
  .refine(units(1, MAX_EMOJI_LENGTH), `expected 1 to ${MAX_EMOJI_LENGTH} UTF-16 units`)
  .regex(/^[^\s\p{Cc}\u202a-\u202e\u2066-\u2069]+$/u, 'expected a short visible reaction without spaces')

/** The content block of a public-room message (`content.ts`). */
export const messageContentSchema = z.discriminatedUnion('type', [
  z.strictObject({
    type: z.literal('text'),
    text: z.string().refine(units(1, MAX_TEXT_LENGTH), `expected 1 to ${MAX_TEXT_LENGTH} UTF-16 units`),
    mentions: z
      .array(addressSchema)
      .max(MAX_MENTIONS)
      .refine((list) => new Set(list).size === list.length, 'expected each address once')
      .optional(),
  }),
  z.strictObject({ type: z.literal('reaction'), emoji: emojiSchema }),
  z.strictObject({ type: z.literal('none') }),
])

export const handoffSchema = z.strictObject({
  v: z.literal(1),
  suite: z.literal(HANDOFF_SUITE),
  original: z.strictObject({ ...envelopeFields, suite: z.literal(RELAY_SUITE) }),
  serverKey: cidSchema,
  receiverKey: cidSchema,
  nonce: base64UrlSchema({ bytes: 12 }),
  messages: envelopeFields.messages,
  signature: base64UrlSchema({ bytes: 64 }),
})

/** A message as the server returns it: the signed envelope plus what the server knows of it. */
export const messageRecordSchema = z
  .strictObject({
    cid: cidSchema,
    /** Position in its room, from 1, gapless (shared with membership-log entries). */
    seq: z.number().int().positive(),
    /** True when encrypted end to end (pattern α); false for pattern β and public rooms. */
    e2ee: z.boolean(),
    receivedAt: timestampSchema,
    envelope: envelopeSchema,
    /** Public rooms: the content block the envelope names; null once recalled. */
    content: messageContentSchema.nullable().optional(),
  })
  .refine((record) => (record.envelope.suite === SIGNED_SUITE) === (record.content !== undefined), {
    message: 'a public message carries its content (null once recalled); no other does',
    path: ['content'],
  })

export type MessageRecord = z.infer<typeof messageRecordSchema>
