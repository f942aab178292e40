import type { Generated } from 'kysely'

/** Seed's CIDs table: every block the server stored, in order, for the periodic manifest sync. */
export interface CidsTable {
  seq: Generated<number>
  cid: string
  /** `message` (envelopes), `key` (key bundles) or `log` (membership-log entries). */
  kind: string
  room_id: string | null
  address: string | null
  created_at: string
  /** The manifest that lists this CID; null until the next sync. */
  manifest_seq: number | null
  /** For a migrated envelope: the relayed envelope's CID it replaces (pattern β). */
  replaces: string | null
}
export const tableName = 'cids'
export type PartialDB = { [tableName]: CidsTable }
