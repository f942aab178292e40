/**
 * Blocks by CID, for the `/ipfs/{cid}` gateway: from the block store first (everything synced,
 * manifests included), then from the database (envelopes and key bundles not synced yet). Bytes
 * are served only if they hash to the CID asked for, wherever they come from, so a gateway client
 * that checks (as trustless clients must) and one that does not see the same thing.
 */
import { blockMatchesCid, type CryptoBackend, parseCid, utf8ToBytes } from '@dmtp/protocol'
import type { Database } from '../../db/database.js'
import { HttpError } from '../../errors.js'
import type { BlockStore } from '../../ports/block-store/types.js'
import { BlockReader } from './reader.js'

export type GetBlockDependencies = { database: Database; blockStore: BlockStore; crypto: CryptoBackend }

/**
 * The bytes of block `cid`.
 * @throws {HttpError} `invalid_request` when `cid` is not a CIDv1 with a sha2-256 multihash,
 *   `not_found` when no block has it, `upstream_failure` when the block store fails.
 */
export async function getBlock({ database, blockStore, crypto }: GetBlockDependencies, cid: string): Promise<Uint8Array> {
  try {
    parseCid(cid)
  } catch (cause) {
    throw new HttpError({
      code: 'invalid_request',
      message: `${JSON.stringify(cid.slice(0, 80))} is not a block CID: expected a CIDv1 with a sha2-256 multihash, in base32 (bagu…).`,
      cause,
    })
  }
  let stored: Uint8Array | undefined
  try {
    stored = await blockStore.get(cid)
  } catch (cause) {
    throw new HttpError({ code: 'upstream_failure', message: 'The block store failed; try again later.', cause })
  }
  if (stored) return stored
  const text = await new BlockReader(database.db).findBlockText(cid)
  const bytes = text === undefined ? undefined : utf8ToBytes(text)
  if (bytes && blockMatchesCid(bytes, cid, crypto.sha256)) return bytes
  throw new HttpError({ code: 'not_found', message: `No block with CID ${cid}.` })
}
