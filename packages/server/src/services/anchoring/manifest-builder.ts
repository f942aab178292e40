/**
 * Builds sync manifests from the CIDs table. A manifest is a pure function of the database: the
 * CIDs assigned to it (by `manifest_seq`), its creation time and the previous manifest. So after a
 * crash the very same bytes, and the same CID, can be rebuilt, and its blocks written again.
 */
import { type CryptoBackend, MANIFEST_VERSION, type Manifest, toBlock } from '@dmtp/protocol'
import type { Db } from '../../db/database.js'
import type { Block } from '../../ports/block-store/types.js'

export type BuiltManifest = { manifest: Manifest; block: Block & { text: string }; contents: Block[] }

/** The manifest `seq` as stored, with the blocks it lists (envelopes and key bundles). */
export async function buildManifest(db: Db, crypto: CryptoBackend, seq: number): Promise<BuiltManifest> {
  const row = await db
    .selectFrom('manifests')
    .select(['seq', 'prev_cid', 'created_at'])
    .where('seq', '=', seq)
    .executeTakeFirstOrThrow()
  const entries = await db
    .selectFrom('cids')
    .leftJoin('messages', 'messages.cid', 'cids.cid')
    .leftJoin('key_bundles', 'key_bundles.cid', 'cids.cid')
    .select([
      'cids.seq as seq',
      'cids.cid as cid',
      'cids.kind as kind',
      'cids.room_id as room_id',
      'cids.address as address',
      'cids.replaces as replaces',
      'messages.seq as room_seq',
      'messages.envelope as envelope',
      'key_bundles.bundle as bundle',
    ])
    .where('cids.manifest_seq', '=', seq)
    .orderBy('cids.seq')
    .execute()
  const rooms: Record<string, { roomSeq: number; cid: string }[]> = {}
  const keys: Record<string, string[]> = {}
  const replaced: Record<string, string> = {}
  const contents: Block[] = []
  for (const entry of entries) {
    const text = entry.envelope ?? entry.bundle
    if (text !== null) contents.push({ cid: entry.cid, bytes: new TextEncoder().encode(text) })
    if (entry.replaces) replaced[entry.replaces] = entry.cid
    else if (entry.kind === 'message' && entry.room_id) {
      const list = rooms[entry.room_id] ?? []
      rooms[entry.room_id] = list
      list.push({ roomSeq: entry.room_seq ?? 0, cid: entry.cid })
    } else if (entry.kind === 'key' && entry.address) {
      const list = keys[entry.address] ?? []
      keys[entry.address] = list
      list.push(entry.cid)
    }
  }
  const manifest: Manifest = {
    v: MANIFEST_VERSION,
    index: row.seq,
    prev: row.prev_cid,
    createdAt: row.created_at,
    rooms: Object.fromEntries(
      Object.entries(rooms).map(([room, list]) => [room, list.sort((a, b) => a.roomSeq - b.roomSeq).map((item) => item.cid)]),
    ),
    keys,
    replaced,
  }
  const block = toBlock(manifest, crypto.sha256)
  return { manifest, block: { cid: block.cid, bytes: block.bytes, text: block.text }, contents }
}

/**
 * Claims up to `limit` unsynced CIDs for a new manifest and records it; returns it, built (so the
 * caller writes its blocks without reading them again), or undefined when nothing is waiting. Runs
 * inside the caller's transaction.
 */
export async function claimManifest(
  db: Db,
  crypto: CryptoBackend,
  { limit, now }: { limit: number; now: string },
): Promise<{ seq: number; cid: string; count: number; bytes: number; built: BuiltManifest } | undefined> {
  const waiting = await db
    .selectFrom('cids')
    .select('seq')
    .where('manifest_seq', 'is', null)
    .orderBy('seq')
    .limit(limit)
    .execute()
  if (waiting.length === 0) return undefined
  const last = await db.selectFrom('manifests').select(['seq', 'cid']).orderBy('seq', 'desc').limit(1).executeTakeFirst()
  const seq = (last?.seq ?? 0) + 1
  // A placeholder CID until the content is known; replaced below in the same transaction.
  await db
    .insertInto('manifests')
    .values({
      seq,
      cid: `pending-${seq}`,
      prev_cid: last?.cid ?? null,
      created_at: now,
      cid_count: waiting.length,
      bytes: 0,
      status: 'built',
    })
    .execute()
  const seqs = waiting.map((row) => row.seq)
  for (let i = 0; i < seqs.length; i += 500) {
    await db
      .updateTable('cids')
      .set({ manifest_seq: seq })
      .where('seq', 'in', seqs.slice(i, i + 500))
      .execute()
  }
  const built = await buildManifest(db, crypto, seq)
  await db
    .updateTable('manifests')
    .set({ cid: built.block.cid, bytes: built.block.bytes.length })
    .where('seq', '=', seq)
    .execute()
  return { seq, cid: built.block.cid, count: waiting.length, bytes: built.block.bytes.length, built }
}
