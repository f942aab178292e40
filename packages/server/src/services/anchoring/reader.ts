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
