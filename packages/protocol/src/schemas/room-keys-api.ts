/**
 * zod schemas of the room-key API of private groups (docs/api.md, "Private rooms"): a room's
 * encryption state, uploading a rotation, and fetching one's own key deliveries.
 */
import { z } from 'zod'
import { MAX_CURSOR_VALUE } from '../rooms/limits.js'
import { ROTATION_CAUSES } from '../rooms/rotation.js'
import { base64UrlSchema, epochSchema } from './records.js'
import { keyDeliverySchema, keyDistributionSchema, rotationIntentSchema } from './room-key-records.js'

/** Most distribution pages one upload carries (the route's body limit holds them): 32 × 1,024 members. */
export const MAX_UPLOAD_KEY_PAGES = 32
/** Most deliveries one read returns. */
export const MAX_KEY_DELIVERIES_PAGE = 100

export const roomEncryptionSchema = z.strictObject({
  /** End-to-end encryption is on: messages are encrypted under the current epoch's key. */
  e2ee: z.boolean(),
  /** With `e2ee`: members may still choose to send a message in plaintext. */
  plain: z.boolean(),
  /** The current epoch; 0 before the first key. */
  epoch: z.number().int().nonnegative().max(MAX_CURSOR_VALUE),
  /** The current epoch's key id (the commitment every wrap of it names); null before the first. */
  keyId: base64UrlSchema({ bytes: 32 }).nullable(),
  /** Why the next encrypted message must come under a new epoch; null when it need not. */
  due: z.enum(ROTATION_CAUSES).nullable(),
})

export const rotateRoomKeyRequestSchema = z.strictObject({
  intent: rotationIntentSchema,
  pages: z.array(keyDistributionSchema).min(1).max(MAX_UPLOAD_KEY_PAGES),
})

export const rotateRoomKeyResponseSchema = z.strictObject({ encryption: roomEncryptionSchema })

export const roomKeysQuerySchema = z.strictObject({
  /** Deliveries of epochs after this one (0: all). */
  after: z.coerce.number().int().nonnegative().max(MAX_CURSOR_VALUE).default(0),
  limit: z.coerce.number().int().positive().max(MAX_KEY_DELIVERIES_PAGE).default(MAX_KEY_DELIVERIES_PAGE),
})

export const roomKeysResponseSchema = z.strictObject({
  encryption: roomEncryptionSchema,
  /** The signed-in member's wrapped keys, oldest epoch first. */
  deliveries: z.array(keyDeliverySchema),
  /** The `after` of the next page; null when this is the last. */
  next: epochSchema.nullable(),
})

export type RoomEncryption = z.infer<typeof roomEncryptionSchema>
export type RotateRoomKeyRequest = z.infer<typeof rotateRoomKeyRequestSchema>
export type RoomKeysResponse = z.infer<typeof roomKeysResponseSchema>
