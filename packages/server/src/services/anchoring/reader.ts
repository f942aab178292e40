/**
 * Queries of sync manifests, the CIDs they list and the anchoring state of key bundles (no
 * writes: `transactor.ts` adds those).
 */
import type { Db } from '../../db/database.js'

/** The sync state of one CID: its CIDs row joined with the manifest that lists it. */
export function findAnchorOf(db: Db, cid: string) {
  return db
    .selectFrom('cids')
    .leftJoin('manifests', 'manifests.seq', 'cids.manifest_seq')
    .select([
      'cids.cid as cid',
      'cids.kind as kind',
      'manifests.seq as seq',
      'manifests.cid as manifest_cid',
      'manifests.status as status',
      'manifests.chain_index as chain_index',
      'manifests.tx_hash as tx_hash',
      'manifests.block_number as block_number',
      'manifests.anchored_at as anchored_at',
    ])
    .where('cids.cid', '=', cid)
    .executeTakeFirst()
}

export class AnchoringReader {
  constructor(readonly db: Db) {}

  findAnchorOf(cid: string) {
    return findAnchorOf(this.db, cid)
  }

  /** Manifests stored but not anchored yet, oldest first. */
  listUnfinished() {
    return this.db
      .selectFrom('manifests')
      .select(['seq', 'cid', 'status', 'tx_hash', 'tx_nonce'])
      .where('status', '!=', 'anchored')
      .orderBy('seq')
      .execute()
  }

  /** How many CIDs wait for a manifest, counting no further than `limit`. */
  async countWaiting(limit: number): Promise<number> {
    const waiting = await this.db
      .selectFrom((eb) => eb.selectFrom('cids').select('seq').where('manifest_seq', 'is', null).limit(limit).as('waiting'))
      .select((eb) => eb.fn.countAll<number>().as('count'))
      .executeTakeFirstOrThrow()
    return Number(waiting.count)
  }

  /** The oldest `limit` CIDs no manifest lists yet. */
  listWaiting(limit: number) {
    return this.db.selectFrom('cids').select('seq').where('manifest_seq', 'is', null).orderBy('seq').limit(limit).execute()
  }

  findManifest(seq: number) {
    return this.db
      .selectFrom('manifests')
      .select(['seq', 'prev_cid', 'created_at', 'after_block_number', 'after_block_hash'])
      .where('seq', '=', seq)
      .executeTakeFirstOrThrow()
  }

  /** The newest manifest, anchored or not. */
  findLastManifest() {
    return this.db.selectFrom('manifests').select(['seq', 'cid']).orderBy('seq', 'desc').limit(1).executeTakeFirst()
  }

  /** The newest anchored manifest (where the chain is searched from). */
  findLastAnchored() {
    return this.db
      .selectFrom('manifests')
      .select('chain_index')
      .where('status', '=', 'anchored')
      .orderBy('seq', 'desc')
      .limit(1)
      .executeTakeFirst()
  }

  /** The CIDs manifest `seq` lists, in order, with the blocks the database holds for them. */
  listManifestEntries(seq: number) {
    return this.db
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
        'messages.content as content',
        'messages.content_cid as content_cid',
        'key_bundles.bundle as bundle',
      ])
      .where('cids.manifest_seq', '=', seq)
      .orderBy('cids.seq')
      .execute()
  }

  /** Up to `limit` current key bundles not anchored yet, oldest first. */
  listUnanchoredKeys(limit: number) {
    return this.db
      .selectFrom('key_bundles')
      .select(['cid', 'address', 'anchor_tx'])
      .where('replaced_at', 'is', null)
      .where('anchored_at', 'is', null)
      .orderBy('created_at')
      .limit(limit)
      .execute()
  }
}
