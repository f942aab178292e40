/**
 * Periodic sync and on-chain anchoring (seeds 001–003, DESIGN §3 "Storage and anchoring").
 *
 * Every `intervalSeconds` when something is new, or as soon as `everyMessages` are waiting, the
 * service claims the unsynced CIDs into the next manifest (one transaction), writes the listed
 * blocks and then the manifest block to the block store, and anchors the manifest's CID with
 * `storeCID`. New key bundles go on chain with `addKeys`, batched.
 *
 * Exactly once, across crashes: a manifest row is the durable record of intent. Before sending,
 * the service looks for the CID on chain; it records the nonce before sending and the hash after;
 * after a crash, a manifest already on chain is only marked anchored, a transaction still pending
 * is waited for, and only a transaction that vanished is sent again. Manifests anchor in order;
 * while one waits for the chain, no new one is built (the backlog stays in the CIDs table and
 * goes into the next manifest). Failures retry with exponential backoff up to a minute.
 */
import type { CryptoBackend } from '@dmtp/protocol'
import type { AnchoringConfig } from '../../config/config.js'
import type { Database } from '../../db/database.js'
import { crashIfArmed, type Faults } from '../../faults.js'
import type { Clock } from '../../identity.js'
import type { Logger } from '../../logger.js'
import type { BlockStore } from '../../ports/block-store/types.js'
import type { ChainClient, Hex } from '../../ports/chain/types.js'
import type { PubSub } from '../../ports/pub-sub/types.js'
import { type BuiltManifest, buildManifest, claimManifest } from './manifest-builder.js'

export const KEYS_CHANNEL = 'keys'
const TICK_MS = 1_000
const MAX_BACKOFF_MS = 60_000
const KEYS_PER_TX = 100

export type SyncResult = { seq: number; cid: string; count: number; bytes: number; buildMs: number; anchor?: AnchorResult }
export type AnchorResult = { txHash: Hex; blockNumber: bigint; index: number; ms: number }

export class AnchoringService {
  private timer: NodeJS.Timeout | undefined
  private running: Promise<unknown> | undefined
  private failures = 0
  private retryAt = 0
  private keysDue = true
  private lastSyncAt: number
  private unsubscribe: (() => void) | undefined

  constructor(
    private readonly database: Database,
    private readonly crypto: CryptoBackend,
    private readonly blockStore: BlockStore,
    private readonly chain: ChainClient | undefined,
    private readonly pubSub: PubSub,
    private readonly config: AnchoringConfig,
    private readonly clock: Clock,
    private readonly logger: Logger,
    private readonly faults: Faults,
  ) {
    this.lastSyncAt = clock.now().getTime()
  }

  start(): void {
    this.unsubscribe = this.pubSub.subscribe(KEYS_CHANNEL, () => {
      setTimeout(() => {
        this.keysDue = true
        this.tick()
      }, this.config.keyBatchDelayMs).unref()
    })
    this.timer = setInterval(() => this.tick(), TICK_MS)
    this.timer.unref()
    this.tick()
  }

  async stop(): Promise<void> {
    clearInterval(this.timer)
    this.unsubscribe?.()
    await this.running?.catch(() => {})
  }

  /** Syncs now whatever is waiting (tests, benchmarks, `--sync-every` reached). */
  async syncNow(): Promise<SyncResult | undefined> {
    while (this.running) await this.running.catch(() => {})
    const run = this.cycle(true)
    this.running = run
    try {
      return await run
    } finally {
      this.running = undefined
    }
  }

  private tick(): void {
    if (this.running || this.clock.now().getTime() < this.retryAt) return
    this.running = this.cycle(false)
      .then(() => {
        this.failures = 0
      })
      .catch((error) => {
        this.failures++
        const delay = Math.min(MAX_BACKOFF_MS, 1_000 * 2 ** (this.failures - 1))
        this.retryAt = this.clock.now().getTime() + delay
        this.logger.warn({ err: error, retryInMs: delay }, 'anchoring failed; will retry')
      })
      .finally(() => {
        this.running = undefined
      })
  }

  private async cycle(force: boolean): Promise<SyncResult | undefined> {
    if (this.chain && this.keysDue) {
      this.keysDue = false
      await this.anchorKeys(this.chain).catch((error) => {
        this.keysDue = true
        throw error
      })
    }
    const unfinished = await this.database.db
      .selectFrom('manifests')
      .select(['seq', 'cid', 'status', 'tx_hash', 'tx_nonce'])
      .where('status', '!=', 'anchored')
      .orderBy('seq')
      .execute()
    for (const manifest of unfinished) {
      await this.writeBlocks(manifest.seq)
      if (this.chain) await this.anchor(this.chain, manifest)
    }
    if (this.chain && unfinished.length > 0 && !force) return undefined
    if (!force && !(await this.due())) return undefined
    return this.syncOnce()
  }

  private async due(): Promise<boolean> {
    const waiting = await this.database.db
      .selectFrom((eb) =>
        eb.selectFrom('cids').select('seq').where('manifest_seq', 'is', null).limit(this.config.everyMessages).as('waiting'),
      )
      .select((eb) => eb.fn.countAll<number>().as('count'))
      .executeTakeFirstOrThrow()
    const count = Number(waiting.count)
    if (count === 0) return false
    return (
      count >= this.config.everyMessages || this.clock.now().getTime() - this.lastSyncAt >= this.config.intervalSeconds * 1000
    )
  }

  private async syncOnce(): Promise<SyncResult | undefined> {
    const started = performance.now()
    const now = this.clock.now()
    const claimed = await this.database.transaction(({ db }) =>
      claimManifest(db, this.crypto, { limit: this.config.maxCidsPerManifest, now: now.toISOString() }),
    )
    this.lastSyncAt = now.getTime()
    if (!claimed) return undefined
    crashIfArmed(this.faults, 'manifest-stored')
    const { built, ...summary } = claimed
    await this.writeBlocks(claimed.seq, built)
    const buildMs = performance.now() - started
    this.logger.info(
      { seq: claimed.seq, cid: claimed.cid, cids: claimed.count, bytes: claimed.bytes, ms: Math.round(buildMs) },
      'manifest stored',
    )
    const result: SyncResult = { ...summary, buildMs }
    if (this.chain) {
      result.anchor = await this.anchor(this.chain, {
        seq: claimed.seq,
        cid: claimed.cid,
        status: 'built',
        tx_hash: null,
        tx_nonce: null,
      })
    }
    return result
  }

  /**
   * Writes a manifest's blocks, then the manifest itself (idempotent: safe to repeat). `built` is
   * the manifest as just claimed; after a restart it is rebuilt from the database.
   */
  private async writeBlocks(seq: number, built?: BuiltManifest): Promise<void> {
    built ??= await buildManifest(this.database.db, this.crypto, seq)
    // Never write back a block tombstoned since (a relayed message migrated in the meantime).
    const cids = built.contents.map((block) => block.cid)
    const tombstoned = new Set<string>()
    for (let i = 0; i < cids.length; i += 500) {
      const rows = await this.database.db
        .selectFrom('block_deletions')
        .select('cid')
        .where('cid', 'in', cids.slice(i, i + 500))
        .execute()
      for (const row of rows) tombstoned.add(row.cid)
    }
    await this.blockStore.put(built.contents.filter((block) => !tombstoned.has(block.cid)))
    await this.blockStore.put([built.block])
  }

  private async anchor(
    chain: ChainClient,
    manifest: { seq: number; cid: string; status: string; tx_hash: string | null; tx_nonce: number | null },
  ): Promise<AnchorResult> {
    const started = performance.now()
    const db = this.database.db
    const previous = await db
      .selectFrom('manifests')
      .select('chain_index')
      .where('status', '=', 'anchored')
      .orderBy('seq', 'desc')
      .limit(1)
      .executeTakeFirst()
    const searchFrom = (previous?.chain_index ?? -1) + 1
    for (;;) {
      const found = await chain.findAnchor(manifest.cid, searchFrom)
      if (found) {
        await db
          .updateTable('manifests')
          .set({
            status: 'anchored',
            tx_hash: found.txHash,
            block_number: found.blockNumber.toString(),
            chain_index: found.index,
            anchored_at: this.clock.now().toISOString(),
          })
          .where('seq', '=', manifest.seq)
          .execute()
        const result = {
          txHash: found.txHash,
          blockNumber: found.blockNumber,
          index: found.index,
          ms: performance.now() - started,
        }
        this.logger.info(
          { seq: manifest.seq, tx: found.txHash, block: found.blockNumber.toString(), index: found.index },
          'manifest anchored',
        )
        return result
      }
      if (manifest.status === 'sending' && manifest.tx_nonce !== null) {
        // A transaction with our nonce may still be pending: wait for it rather than send again.
        if (manifest.tx_hash) {
          const receipt = await chain.receipt(manifest.tx_hash as Hex)
          if (receipt?.success) continue
        }
        if ((await chain.nextNonce()) > manifest.tx_nonce && (await chain.minedNonce()) <= manifest.tx_nonce) {
          await new Promise((resolve) => setTimeout(resolve, 1_000))
          continue
        }
      }
      const nonce = await chain.nextNonce()
      await db
        .updateTable('manifests')
        .set({ status: 'sending', tx_nonce: nonce, tx_hash: null })
        .where('seq', '=', manifest.seq)
        .execute()
      const txHash = await chain.sendStoreCid(manifest.cid, nonce)
      crashIfArmed(this.faults, 'anchor-sent')
      await db.updateTable('manifests').set({ tx_hash: txHash }).where('seq', '=', manifest.seq).execute()
      const receipt = await chain.waitForReceipt(txHash)
      if (!receipt.success) throw new Error(`storeCID transaction ${txHash} reverted`)
      manifest = { ...manifest, status: 'sending', tx_hash: txHash, tx_nonce: nonce }
    }
  }

  /** Puts the CIDs of current, not yet anchored key bundles on chain, in batches. */
  private async anchorKeys(chain: ChainClient): Promise<void> {
    const db = this.database.db
    for (;;) {
      const rows = await db
        .selectFrom('key_bundles')
        .select(['cid', 'address', 'anchor_tx'])
        .where('replaced_at', 'is', null)
        .where('anchored_at', 'is', null)
        .orderBy('created_at')
        .limit(KEYS_PER_TX)
        .execute()
      if (rows.length === 0) return
      const onChain = await Promise.all(rows.map((row) => chain.keyOf(row.address)))
      const done = rows.filter((row, i) => onChain[i] === row.cid)
      const todo = rows.filter((row, i) => onChain[i] !== row.cid)
      const now = this.clock.now().toISOString()
      if (done.length > 0) {
        await db
          .updateTable('key_bundles')
          .set({ anchored_at: now })
          .where(
            'cid',
            'in',
            done.map((row) => row.cid),
          )
          .execute()
      }
      if (todo.length === 0) continue
      const txHash = await chain.sendAddKeys(todo, await chain.nextNonce())
      crashIfArmed(this.faults, 'keys-sent')
      await db
        .updateTable('key_bundles')
        .set({ anchor_tx: txHash })
        .where(
          'cid',
          'in',
          todo.map((row) => row.cid),
        )
        .execute()
      const receipt = await chain.waitForReceipt(txHash)
      if (!receipt.success) throw new Error(`addKeys transaction ${txHash} reverted`)
      await db
        .updateTable('key_bundles')
        .set({ anchored_at: this.clock.now().toISOString() })
        .where(
          'cid',
          'in',
          todo.map((row) => row.cid),
        )
        .execute()
      this.logger.info({ keys: todo.length, tx: txHash }, 'keys anchored')
    }
  }
}
