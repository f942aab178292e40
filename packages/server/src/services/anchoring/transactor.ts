/**
 * Writes of sync manifests and of the anchoring state of manifests and key bundles. Claiming a
 * manifest takes a transaction (`claimManifest`); each anchoring step is one statement, recorded
 * as it happens so a crash resumes from it.
 */
import type { Insertable } from 'kysely'
import type { ManifestsTable } from '../../db/schema/manifests.js'
import { AnchoringReader } from './reader.js'

/** Rows per `in (…)` list: well under every dialect's limit on bound parameters. */
const PER_QUERY = 500

export class AnchoringTransactor extends AnchoringReader {
  async insertManifest(row: Insertable<ManifestsTable>): Promise<void> {
    await this.db.insertInto('manifests').values(row).execute()
  }

  /** Assigns the CIDs rows `seqs` to manifest `manifestSeq`. */
  async assignCids(seqs: number[], manifestSeq: number): Promise<void> {
    for (let i = 0; i < seqs.length; i += PER_QUERY) {
      await this.db
        .updateTable('cids')
        .set({ manifest_seq: manifestSeq })
        .where('seq', 'in', seqs.slice(i, i + PER_QUERY))
        .execute()
    }
  }

  /** Records the manifest's real CID and size, once its content is known. */
  async setManifestBlock(seq: number, { cid, bytes }: { cid: string; bytes: number }): Promise<void> {
    await this.db.updateTable('manifests').set({ cid, bytes }).where('seq', '=', seq).execute()
  }

  async markAnchored(
    seq: number,
    found: { txHash: string; blockNumber: string; chainIndex: number; anchoredAt: string },
  ): Promise<void> {
    await this.db
      .updateTable('manifests')
      .set({
        status: 'anchored',
        tx_hash: found.txHash,
        block_number: found.blockNumber,
        chain_index: found.chainIndex,
        anchored_at: found.anchoredAt,
      })
      .where('seq', '=', seq)
      .execute()
  }

  /** Records the nonce of the `storeCID` transaction about to be sent (before sending it). */
  async markSending(seq: number, nonce: number): Promise<void> {
    await this.db
      .updateTable('manifests')
      .set({ status: 'sending', tx_nonce: nonce, tx_hash: null })
      .where('seq', '=', seq)
      .execute()
  }

  /** Records the hash of the `storeCID` transaction just sent. */
  async setTxHash(seq: number, txHash: string): Promise<void> {
    await this.db.updateTable('manifests').set({ tx_hash: txHash }).where('seq', '=', seq).execute()
  }

  async markKeysAnchored(cids: string[], at: string): Promise<void> {
    await this.db.updateTable('key_bundles').set({ anchored_at: at }).where('cid', 'in', cids).execute()
  }

  /** Records the `addKeys` transaction that carries the bundles of `cids`. */
  async setKeysAnchorTx(cids: string[], txHash: string): Promise<void> {
    await this.db.updateTable('key_bundles').set({ anchor_tx: txHash }).where('cid', 'in', cids).execute()
  }
}
