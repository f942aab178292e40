/**
 * zod schemas of the HTTP and WebSocket API (docs/api.md). The server validates every request
 * with them and documents them in OpenAPI; the SDK and CLI parse every response with them.
 * Request bodies are strict: an unknown field is a 400, not silently dropped.
 */
import { z } from 'zod'
import { errorCodes } from '../errors.js'
import { MAX_CURSOR_VALUE } from '../rooms/limits.js'
import {
  addressInputSchema,
  addressSchema,
  cidSchema,
  envelopeSchema,
  handoffSchema,
  idSchema,
  keyBundleSchema,
  messageContentSchema,
  migratedEnvelopeSchema,
  signatureHexSchema,
  timestampSchema,
} from './records.js'
import { logRecordSchema, roomRecordSchema } from './room-records.js'

/**
 * Cursors and sequence numbers are 32-bit on every database; a larger one is a client error.
 * (A stream `hello` may name any cursor: one beyond the newest means "from the newest".)
 */
export const MAX_CURSOR = MAX_CURSOR_VALUE
const cursorInput = z.coerce.number().int().nonnegative().max(MAX_CURSOR)

export const errorResponseSchema = z.strictObject({
  error: z.strictObject({
    code: z.enum(Object.keys(errorCodes) as [keyof typeof errorCodes, ...(keyof typeof errorCodes)[]]),
    message: z.string(),
    /** What the client needs to act on the error (e.g. `stale_epoch`: the room's epoch and whether it is due). */
    details: z.record(z.string(), z.union([z.string(), z.number(), z.boolean(), z.null()])).optional(),
  }),
})

export const healthResponseSchema = z.strictObject({
  /** `degraded` (HTTP 503): the server runs but cannot do its job, `storage` says why. */
  status: z.enum(['ok', 'degraded']),
  /** `full`: the server cannot write (its disk is full); sends answer `507 storage_full` until space returns. */
  storage: z.enum(['ok', 'full']),
  version: z.string(),
  uptimeSeconds: z.number(),
})

export const serverInfoResponseSchema = z.strictObject({
  /** The domain sign-in messages and key bundles must name. */
  domain: z.string(),
  /** The public base URL (the `URI` of sign-in messages). */
  url: z.string(),
  chainId: z.number().int().positive(),
  version: z.string(),
  /** Where the registry lives, for clients that verify anchors; null when anchoring is off. */
  chain: z
    .strictObject({
      chainId: z.number().int().positive(),
      rpcUrl: z.string(),
      registry: z.string().regex(/^0x[0-9a-fA-F]{40}$/),
      operator: z.string().regex(/^0x[0-9a-fA-F]{40}$/),
    })
    .nullable(),
  limits: z.strictObject({
    maxTextLength: z.number().int(),
    maxBodyBytes: z.number().int(),
    messagesPerSecond: z.number(),
  }),
})

export const nonceResponseSchema = z.strictObject({ nonce: z.string(), expiresAt: timestampSchema })

export const signInRequestSchema = z.strictObject({
  message: z.string().min(1).max(16_384),
  signature: signatureHexSchema,
})

export const signInResponseSchema = z.strictObject({
  token: z.string(),
  address: addressSchema,
  expiresAt: timestampSchema,
})

export const addressParamsSchema = z.strictObject({ address: addressInputSchema })

export const keyBundleResponseSchema = z.strictObject({
  address: addressSchema,
  cid: cidSchema,
  bundle: keyBundleSchema,
  createdAt: timestampSchema,
})

export const keyHistoryResponseSchema = z.strictObject({
  address: addressSchema,
  bundles: z.array(
    z.strictObject({
      cid: cidSchema,
      bundle: keyBundleSchema,
      createdAt: timestampSchema,
      replacedAt: timestampSchema.nullable(),
    }),
  ),
})

export const keyByCidParamsSchema = z.strictObject({ cid: cidSchema })

export const putKeyBundleResponseSchema = z.strictObject({
  address: addressSchema,
  cid: cidSchema,
  /** The bundle this one replaced (key rotation), if any. */
  replaced: cidSchema.nullable(),
})

export const roomParamsSchema = z.strictObject({ room: idSchema })

/** Room history: `cursor` is the `seq` to continue from (exclusive); `order` picks the direction. */
export const messagesQuerySchema = z.strictObject({
  cursor: cursorInput.optional(),
  limit: z.coerce.number().int().min(1).max(500).default(50),
  order: z.enum(['asc', 'desc']).default('asc'),
})

export const messagesResponseSchema = z.strictObject({
  /** Messages and membership-log entries, in room order. */
  messages: z.array(roomRecordSchema),
  /** Pass as `cursor` for the next page; null when there is none. */
  nextCursor: z.number().int().nullable(),
})

/** A signed envelope, and for a public room the content block it names. */
export const sendMessageRequestSchema = z.strictObject({
  envelope: envelopeSchema,
  content: messageContentSchema.optional(),
})

/**
 * The server's signed receipt of a stored message (protocol.md §5.6). Only the shape is checked
 * here, loosely: `verifyReceipt` judges the content, so that a client names a bad receipt as such.
 */
export const receiptSchema = z.strictObject({
  root: z.string().max(64),
  proof: z.array(z.string().max(64)).max(12),
  signature: z.string().max(128),
  key: z.string().max(128),
})

export const sendMessageResponseSchema = z.strictObject({
  id: idSchema,
  room: idSchema,
  cid: cidSchema,
  seq: z.number().int().positive(),
  receivedAt: timestampSchema,
  e2ee: z.boolean(),
  /** Always sent; optional here so that a client refuses an ack without one by name. */
  receipt: receiptSchema.optional(),
})

/**
 * The per-user inbox: every position of every room the user is in (messages and log entries),
 * in the order the server stored them, by stream cursor.
 */
export const inboxQuerySchema = z.strictObject({
  after: cursorInput.default(0),
  limit: z.coerce.number().int().min(1).max(1000).default(200),
})

export const inboxEntrySchema = z.strictObject({ cursor: z.number().int().positive(), message: roomRecordSchema })

export const inboxResponseSchema = z.strictObject({
  entries: z.array(inboxEntrySchema),
  /** The newest cursor in this inbox (what `after` would be once caught up). */
  latest: z.number().int().nonnegative(),
})

export const ackRequestSchema = z.strictObject({ cursor: z.number().int().nonnegative().max(MAX_CURSOR) })

/** WebSocket frames from client to server (`/v1/stream`). */
export const clientFrameSchema = z.discriminatedUnion('type', [
  z.strictObject({
    type: z.literal('hello'),
    token: z.string().min(1).max(512),
    /** Resume after this inbox cursor; omitted: from the last acknowledged one. */
    cursor: z.number().int().nonnegative().optional(),
  }),
  z.strictObject({
    type: z.literal('send'),
    ref: z.string().min(1).max(64),
    envelope: envelopeSchema,
    content: messageContentSchema.optional(),
  }),
  z.strictObject({ type: z.literal('ack'), cursor: z.number().int().nonnegative().max(MAX_CURSOR) }),
  z.strictObject({ type: z.literal('ping'), ref: z.string().max(64).optional() }),
])

/** WebSocket frames from server to client. */
export const serverFrameSchema = z.discriminatedUnion('type', [
  z.strictObject({
    type: z.literal('ready'),
    address: addressSchema,
    cursor: z.number().int().nonnegative(),
    latest: z.number().int().nonnegative(),
  }),
  z.strictObject({ type: z.literal('message'), cursor: z.number().int().positive(), message: roomRecordSchema }),
  z.strictObject({ type: z.literal('caught_up'), cursor: z.number().int().nonnegative() }),
  /** An invitation, for the invitee alone: the signed `invite` entry of the room's log. */
  z
    .strictObject({ type: z.literal('invitation'), room: z.string(), record: logRecordSchema })
    .refine((frame) => frame.record.entry.room === frame.room, { message: "expected the entry of the frame's room" }),
  /** Relayed messages wait for this wallet to make them end-to-end (pattern β). */
  z.strictObject({ type: z.literal('migrations'), pending: z.number().int().positive() }),
  z.strictObject({ type: z.literal('sent'), ref: z.string(), result: sendMessageResponseSchema }),
  z.strictObject({ type: z.literal('error'), ref: z.string().optional(), error: errorResponseSchema.shape.error }),
  z.strictObject({ type: z.literal('pong'), ref: z.string().optional() }),
])

export type ClientFrame = z.infer<typeof clientFrameSchema>
export type ServerFrame = z.infer<typeof serverFrameSchema>
export type SendMessageResult = z.infer<typeof sendMessageResponseSchema>
export type InboxEntry = z.infer<typeof inboxEntrySchema>
export type ServerInfo = z.infer<typeof serverInfoResponseSchema>

/** Where a block stands in the sync: not yet in a manifest, in one, or in one that is on chain. */
export const anchorResponseSchema = z.strictObject({
  cid: cidSchema,
  kind: z.enum(['message', 'key']),
  status: z.enum(['pending', 'stored', 'anchored']),
  manifest: z
    .strictObject({
      seq: z.number().int().positive(),
      cid: cidSchema,
      chainIndex: z.number().int().nonnegative().nullable(),
      txHash: z.string().nullable(),
      blockNumber: z.string().nullable(),
      anchoredAt: timestampSchema.nullable(),
    })
    .nullable(),
})

export type AnchorInfo = z.infer<typeof anchorResponseSchema>

/** Where a page of handoffs ends: the last handoff's preparation time and message id. */
export const handoffCursorSchema = z
  .string()
  .regex(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z~[A-Za-z0-9_-]{22}$/, 'expected a cursor from `next`')

/** Most handoffs in one page, and most migrated envelopes in one upload. */
export const MAX_MIGRATION_BATCH = 500

/** Handoffs waiting for the signed-in wallet (pattern β), oldest first; `after` continues a listing. */
export const migrationsQuerySchema = z.strictObject({
  limit: z.coerce.number().int().min(1).max(MAX_MIGRATION_BATCH).default(200),
  after: handoffCursorSchema.optional(),
})

export const migrationsResponseSchema = z.strictObject({
  /** At most a page: a client asks for no more, and holds and uploads a page at a time. */
  handoffs: z.array(handoffSchema).max(MAX_MIGRATION_BATCH),
  /** How many relayed messages still wait for this wallet, handoffs included. */
  remaining: z.number().int().nonnegative(),
  /** Pass as `after` for the handoffs after these; null when this page is empty. */
  next: handoffCursorSchema.nullable(),
})

export const uploadMigrationsRequestSchema = z.strictObject({
  envelopes: z.array(migratedEnvelopeSchema).min(1).max(MAX_MIGRATION_BATCH),
})

export const uploadMigrationsResponseSchema = z.strictObject({
  results: z.array(
    z.strictObject({
      id: idSchema,
      status: z.enum(['migrated', 'already_migrated']),
      cid: cidSchema,
    }),
  ),
  remaining: z.number().int().nonnegative(),
})

/** Longest API key name, in characters. */
export const MAX_API_KEY_NAME_LENGTH = 64

/** The most requests per minute any API key may be given. */
export const MAX_API_KEY_RATE_LIMIT = 1_000_000

/** An API key's public id (never the secret): what lists show and revocation names. */
export const apiKeyIdSchema = z.string().min(1).max(64)

/** A new API key for a dApp of the signed-in wallet (`POST /v1/api-keys`). */
export const createApiKeyRequestSchema = z.strictObject({
  name: z
    .string()
    .trim()
    .min(1)
    .max(MAX_API_KEY_NAME_LENGTH)
    .regex(/^[^\p{Cc}]*$/u, 'expected no control characters'),
  /** Requests per minute this key may make; the server's default (and the most a wallet may ask for) when left out. */
  rateLimitPerMinute: z.number().int().min(1).max(MAX_API_KEY_RATE_LIMIT).optional(),
})

/** An API key without its secret. */
export const apiKeySchema = z.strictObject({
  id: apiKeyIdSchema,
  name: z.string(),
  rateLimitPerMinute: z.number().int().positive(),
  createdAt: timestampSchema,
  revokedAt: timestampSchema.nullable(),
})

/** The one answer that shows the key itself (`dmtp_…`); only its SHA-256 is stored. */
export const createApiKeyResponseSchema = z.strictObject({
  id: apiKeyIdSchema,
  name: z.string(),
  key: z.string().startsWith('dmtp_'),
  rateLimitPerMinute: z.number().int().positive(),
  createdAt: timestampSchema,
})

export const apiKeysResponseSchema = z.strictObject({ apiKeys: z.array(apiKeySchema) })

export const apiKeyParamsSchema = z.strictObject({ id: apiKeyIdSchema })

export type ApiKey = z.infer<typeof apiKeySchema>
export type CreatedApiKey = z.infer<typeof createApiKeyResponseSchema>
