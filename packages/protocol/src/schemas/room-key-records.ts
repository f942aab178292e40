/**
 * zod schemas of the private-group records (docs/private-groups.md): key-distribution pages and
 * deliveries, invite links, rotation intents and rotation notices.
 * Strict, as every DMTP record: unknown fields are refused, values in their one canonical form.
 */
import { z } from 'zod'
import { fromBase64Url } from '../encoding/bytes.js'
import { decodeCanonical } from '../encoding/canonical.js'
import { INVITE_LINK_SCHEME, type InviteLink } from '../rooms/invitation.js'
import { KEY_DISTRIBUTION_SUITE, MAX_KEY_PAGE_RECIPIENTS, MAX_KEY_PAGES } from '../rooms/key-distribution.js'
import { MAX_CURSOR_VALUE } from '../rooms/limits.js'
import { MAX_EPOCH } from '../rooms/room-key.js'
import { ROTATION_CAUSES } from '../rooms/rotation.js'
import { addressSchema, base64UrlSchema, cidSchema, epochSchema, idSchema, proofSchema, timestampSchema } from './records.js'

/** Most uses an invite link may allow. */
export const MAX_INVITE_LINK_USES = 1_000_000

const signatureSchema = base64UrlSchema({ bytes: 64 })
const logIndexSchema = z.number().int().positive().max(MAX_CURSOR_VALUE)

export const roomKeyWrapSchema = z.strictObject({
  recipient: addressSchema,
  recipientKey: cidSchema,
  nonce: base64UrlSchema({ bytes: 12 }),
  wrap: base64UrlSchema({ bytes: 48 }),
})

const distributionHeader = {
  v: z.literal(1),
  suite: z.literal(KEY_DISTRIBUTION_SUITE),
  room: idSchema,
  epoch: epochSchema,
  keyId: base64UrlSchema({ bytes: 32 }),
  distributor: addressSchema,
  distributorKey: cidSchema,
  logHead: cidSchema,
  logIndex: logIndexSchema,
  page: z
    .number()
    .int()
    .nonnegative()
    .max(MAX_KEY_PAGES - 1),
  pages: z.number().int().positive().max(MAX_KEY_PAGES),
  root: base64UrlSchema({ bytes: 32 }),
  signature: signatureSchema,
}
const pageInRange = (record: { page: number; pages: number }) => record.page < record.pages
const pageError = { message: 'expected page < pages', path: ['page'] }

/** One page of a key distribution, as its distributor uploads it. */
export const keyDistributionSchema = z
  .strictObject({ ...distributionHeader, recipients: z.array(roomKeyWrapSchema).min(1).max(MAX_KEY_PAGE_RECIPIENTS) })
  .refine(pageInRange, pageError)

/** One recipient's wrap with its path to the signed root, as the server delivers it. */
export const keyDeliverySchema = z
  .strictObject({ ...distributionHeader, recipient: roomKeyWrapSchema, proof: proofSchema })
  .refine(pageInRange, pageError)

const inviteLinkShape = {
  v: z.literal(1),
  id: idSchema,
  room: idSchema,
  issuer: addressSchema,
  issuerKey: cidSchema,
  logHead: cidSchema,
  at: timestampSchema,
  expiresAt: timestampSchema.nullable(),
  maxUses: z.number().int().positive().max(MAX_INVITE_LINK_USES).nullable(),
  approval: z.boolean(),
  signature: signatureSchema,
}
const expiresAfterAt: [(link: { at: string; expiresAt: string | null }) => boolean, { message: string; path: string[] }] = [
  (link) => link.expiresAt === null || link.expiresAt > link.at,
  { message: 'expected expiresAt after at', path: ['expiresAt'] },
]

export const inviteLinkSchema = z.strictObject(inviteLinkShape).refine(...expiresAfterAt)

/** An invite link as the server keeps it: the signed link, the uses counted so far, and whether it was revoked. */
export const inviteLinkStatusSchema = z
  .strictObject({
    ...inviteLinkShape,
    uses: z.number().int().nonnegative(),
    revoked: z.boolean(),
  })
  .refine(...expiresAfterAt)

export const rotationIntentSchema = z
  .strictObject({
    v: z.literal(1),
    room: idSchema,
    fromEpoch: z
      .number()
      .int()
      .nonnegative()
      .max(MAX_EPOCH - 1),
    toEpoch: epochSchema,
    keyId: base64UrlSchema({ bytes: 32 }),
    actor: addressSchema,
    actorKey: cidSchema,
    logHead: cidSchema,
    logIndex: logIndexSchema,
    at: timestampSchema,
    signature: signatureSchema,
  })
  .refine((intent) => intent.toEpoch === intent.fromEpoch + 1, { message: 'expected toEpoch = fromEpoch + 1', path: ['toEpoch'] })

const LOG_CAUSES: ReadonlySet<string> = new Set(['leave', 'kick', 'ban'])

export const rotationDueSchema = z
  .strictObject({
    v: z.literal(1),
    room: idSchema,
    epoch: epochSchema,
    cause: z.enum(ROTATION_CAUSES),
    entry: cidSchema.nullable(),
    at: timestampSchema,
  })
  .refine((notice) => LOG_CAUSES.has(notice.cause) === (notice.entry !== null), {
    message: 'a leave, kick or ban names its log entry; age and count name none',
    path: ['entry'],
  })

/**
 * Reads an invite link's text (`inviteLinkText`) back into its token; the signature is the
 * caller's to check (`verifyInviteLink`).
 * @throws {TypeError} when the text is not a DMTP invite link.
 * @throws {z.ZodError} when the token is not a valid invite link record.
 * @example
 * import { parseInviteLink } from '@dmtp/protocol'
 * const link = parseInviteLink(text)
 */
export function parseInviteLink(text: string): InviteLink {
  if (!text.startsWith(INVITE_LINK_SCHEME)) throw new TypeError(`"link" expected ${INVITE_LINK_SCHEME}…, got another text`)
  let value: unknown
  try {
    value = decodeCanonical(fromBase64Url(text.slice(INVITE_LINK_SCHEME.length)))
  } catch (cause) {
    throw new TypeError('"link" expected a canonical base64url token, got something else', { cause })
  }
  return inviteLinkSchema.parse(value)
}
