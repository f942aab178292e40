/**
 * Builds sync manifests from the CIDs table. A manifest is a pure function of the database: the
 * CIDs assigned to it (by `manifest_seq`), its creation time, the chain block it names as its lower
 * time bound, and the previous manifest. So after a crash the very same bytes, and the same CID,
 * can be rebuilt, and its blocks written again.
 */
import { type CryptoBackend, MANIFEST_VERSION, type Manifest, toBlock } from '@dmtp/protocol'
import type { Db } from '../../db/database.js'
import type { Block } from '../../ports/block-store/types.js'
import { AnchoringReader } from './reader.js'
import { AnchoringTransactor } from './transactor.js'

export type BuiltManifest = { manifest: Manifest; block: Block & { text: string }; contents: Block[] }

/** The manifest `seq` as stored, with the blocks it lists (envelopes and key bundles). */
export async function buildManifest(db: Db, crypto: CryptoBackend, seq: number): Promise<BuiltManifest> {
  const reader = new AnchoringReader(db)
  const row = await reader.findManifest(seq)
  const entries = await reader.listManifestEntries(seq)
  const rooms: Record<string, { roomSeq: number; cid: string }[]> = {}
  const logs: Record<string, { roomSeq: number; cid: string }[]> = {}
  const keys: Record<string, string[]> = {}
  const replaced: Record<string, string> = {}
  const contents: Block[] = []
  const encoder = new TextEncoder()
  for (const entry of entries) {
    const text = entry.envelope ?? entry.bundle
    if (text !== null) contents.push({ cid: entry.cid, bytes: encoder.encode(text) })
    // A message of a room without E2EE: its content block, unless recalled (then it is gone).
    if (entry.content !== null && entry.content_cid !== null)
      contents.push({ cid: entry.content_cid, bytes: encoder.encode(entry.content) })
    if (entry.replaces) replaced[entry.replaces] = entry.cid
    else if ((entry.kind === 'message' || entry.kind === 'log') && entry.room_id) {
      const byRoom = entry.kind === 'log' ? logs : rooms
      const list = byRoom[entry.room_id] ?? []
      byRoom[entry.room_id] = list
      list.push({ roomSeq: entry.room_seq ?? 0, cid: entry.cid })
    } else if (entry.kind === 'key' && entry.address) {
      const list = keys[entry.address] ?? []
      keys[entry.address] = list
      list.push(entry.cid)
    }
  }
  const inOrder = (byRoom: typeof rooms) =>
    Object.fromEntries(
      Object.entries(byRoom).map(([room, list]) => [room, list.sort((a, b) => a.roomSeq - b.roomSeq).map((item) => item.cid)]),
    )
  const manifest: Manifest = {
    v: MANIFEST_VERSION,
    index: row.seq,
    prev: row.prev_cid,
    createdAt: row.created_at,
    rooms: inOrder(rooms),
    keys,
    replaced,
    // Only when some are new: manifests from before groups keep their bytes (and CIDs).
    ...(Object.keys(logs).length > 0 ? { logs: inOrder(logs) } : {}),
    ...(row.after_block_number !== null && row.after_block_hash !== null
      ? { after: { number: row.after_block_number, hash: row.after_block_hash.toLowerCase() } }
      : {}),
  }
  const block = toBlock(manifest, crypto.sha256)
  return { manifest, block: { cid: block.cid, bytes: block.bytes, text: block.text }, contents }
}

/**
 * Claims up to `limit` unsynced CIDs for a new manifest and records it; returns it, built (so the
 * caller writes its blocks without reading them again), or undefined when nothing is waiting. Runs
 * inside the caller's transaction. `after` is the anchoring chain's newest block, read just before
 * (the manifest's lower time bound); none on a server without a chain.
 */
export async function claimManifest(
  db: Db,
  crypto: CryptoBackend,
  { limit, now, after }: { limit: number; now: string; after?: { number: bigint; hash: string } | undefined },
): Promise<{ seq: number; cid: string; count: number; bytes: number; built: BuiltManifest } | undefined> {
  const t = new AnchoringTransactor(db)
  const waiting = await t.listWaiting(limit)
  if (waiting.length === 0) return undefined
  const last = await t.findLastManifest()
  const seq = (last?.seq ?? 0) + 1
  // A placeholder CID until the content is known; replaced below in the same transaction.
  await t.insertManifest({
    seq,
    cid: `pending-${seq}`,
    prev_cid: last?.cid ?? null,
    created_at: now,
    cid_count: waiting.length,
    bytes: 0,
    status: 'built',
    after_block_number: after ? after.number.toString() : null,
    after_block_hash: after ? after.hash.toLowerCase() : null,
  })
  await t.assignCids(
    waiting.map((row) => row.seq),
    seq,
  )
  const built = await buildManifest(db, crypto, seq)
  await t.setManifestBlock(seq, { cid: built.block.cid, bytes: built.block.bytes.length })
  return { seq, cid: built.block.cid, count: waiting.length, bytes: built.block.bytes.length, built }
}
