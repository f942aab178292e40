/**
 * Sync manifests (seeds 001–002): periodically the server lists, in the seeds' shape
 * `{ROOM_ID: [CID, …]}`, the CIDs stored since the last sync, stores that list as a block, and
 * anchors its CID on chain with `storeCID`. Unlike the seeds' flat file, each manifest holds only
 * what is new and links the previous manifest by CID, so a sync costs what is new, and the chain
 * of manifests is the complete, ordered history.
 *
 * Within a room, CIDs are in the room's message order; across manifests, a room's order continues.
 * A public message's content block is not listed: its envelope names it by CID.
 *
 * Time bounds: the anchor proves a manifest existed by its anchoring block; `after` names a block
 * of the same chain that was the newest when the manifest was made, whose hash no one knew before
 * it was mined, so the manifest (and its `createdAt`) cannot be older than that block either.
 */
import { z } from 'zod'
import { addressSchema, cidSchema, timestampSchema } from '../schemas/records.js'

export const MANIFEST_VERSION = 1

/** A block of the chain the manifest is anchored on: its number (decimal) and hash. */
export const blockRefSchema = z.strictObject({
  number: z.string().regex(/^(0|[1-9][0-9]{0,19})$/, 'expected a decimal block number'),
  hash: z.string().regex(/^0x[0-9a-f]{64}$/, 'expected a 0x-prefixed 32-byte lowercase hex hash'),
})

export type BlockRef = z.infer<typeof blockRefSchema>

export const manifestSchema = z.strictObject({
  v: z.literal(MANIFEST_VERSION),
  /** 1 for the first manifest, +1 each sync. */
  index: z.number().int().positive(),
  /** The previous manifest's CID; null for the first. */
  prev: cidSchema.nullable(),
  createdAt: timestampSchema,
  /** Message envelope CIDs stored since `prev`, per room, in room order (the seeds' shape). */
  rooms: z.record(z.string().min(1).max(64), z.array(cidSchema)),
  /** Key bundle CIDs registered since `prev`, per wallet, oldest first. */
  keys: z.record(addressSchema, z.array(cidSchema)),
  /**
   * Replacement records: a relayed (server-readable) envelope CID, anchored earlier, replaced by the
   * end-to-end envelope its receiver made (pattern β). The new envelope takes the old one's place
   * in its room; the old block is deleted.
   */
  replaced: z.record(cidSchema, cidSchema),
  /**
   * Membership-log entry CIDs stored since `prev`, per room, in log order (protocol.md §6.4).
   * Present only when some are new, so manifests from before groups keep their bytes.
   */
  logs: z.record(z.string().min(1).max(64), z.array(cidSchema)).optional(),
  /**
   * The newest block of the anchoring chain when the manifest was made: its lower time bound
   * (protocol.md §5.4). Absent from manifests made before it existed (they keep their bytes) and
   * from servers that anchor on no chain.
   */
  after: blockRefSchema.optional(),
})

export type Manifest = z.infer<typeof manifestSchema>
