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
import { MAX_TEXT_LENGTH, MIGRATED_SUITE, RELAY_SUITE } from '../messages/envelope.js'
import { HANDOFF_SUITE } from '../messages/handoff.js'

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

/** An envelope of any suite (protocol.md §5): pattern α, relayed (β), or migrated. */
export const envelopeSchema = z.discriminatedUnion('suite', [
  z.strictObject({ ...envelopeFields, suite: z.literal(P2P_SUITE) }),
  z.strictObject({ ...envelopeFields, suite: z.literal(RELAY_SUITE) }),
  migratedEnvelopeSchema,
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
export const messageRecordSchema = z.strictObject({
  cid: cidSchema,
  /** Position in its room, from 1, gapless. */
  seq: z.number().int().positive(),
  /** True when encrypted end to end (pattern α); false for pattern β, readable by the server. */
  e2ee: z.boolean(),
  receivedAt: timestampSchema,
  envelope: envelopeSchema,
})

export type MessageRecord = z.infer<typeof messageRecordSchema>
