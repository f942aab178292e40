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
 *
 * A key rotation is the exception to batching: `anchorKeyNow` puts it on chain, mined, before the
 * server stores and acknowledges it, taking the same turn as the batches so the operator's nonces
 * never collide.
 */
import type { CryptoBackend } from '@dmtp/protocol'
import type { AnchoringConfig } from '../../config/config.js'
import type { Database } from '../../db/database.js'
import { HttpError } from '../../errors.js'
import type { Checkpoint } from '../../faults.js'
import type { Clock } from '../../identity.js'
import type { Logger } from '../../logger.js'
import type { BlockStore } from '../../ports/block-store/types.js'
import type { ChainClient, Hex } from '../../ports/chain/types.js'
import { KEYS_CHANNEL } from '../../ports/pub-sub/channels.js'
import type { PubSub } from '../../ports/pub-sub/types.js'
import { BlockReader } from '../blocks/reader.js'
import type { KeyAnchor, KeyAnchorer } from '../keys/key-service.js'
import { type BuiltManifest, buildManifest, claimManifest } from './manifest-builder.js'
import { AnchoringReader } from './reader.js'
import { AnchoringTransactor } from './transactor.js'

const TICK_MS = 1_000
const MAX_BACKOFF_MS = 60_000
const KEYS_PER_TX = 100
/** How long a rotation waits for its transaction to be mined before it is refused. */
const ROTATION_RECEIPT_MS = 30_000

export type SyncResult = { seq: number; cid: string; count: number; bytes: number; buildMs: number; anchor?: AnchorResult }
export type AnchorResult = { txHash: Hex; blockNumber: bigint; index: number; ms: number }

export type AnchoringServiceDeps = {
  database: Database
  crypto: CryptoBackend
  blockStore: BlockStore
  chain: ChainClient | undefined
  pubSub: PubSub
  config: AnchoringConfig
  clock: Clock
  logger: Logger
  checkpoint: Checkpoint
}

export class AnchoringService implements KeyAnchorer {
  private timer: NodeJS.Timeout | undefined
  private running: Promise<unknown> | undefined
  private failures = 0
  private retryAt = 0
  private syncOwed = false
  private keysDue = true
  private lastSyncAt: number
  private unsubscribe: (() => void) | undefined

  constructor(private readonly deps: AnchoringServiceDeps) {
    this.lastSyncAt = deps.clock.now().getTime()
  }

  start(): void {
    this.unsubscribe = this.deps.pubSub.subscribe(KEYS_CHANNEL, () => {
      setTimeout(() => {
        this.keysDue = true
        this.tick()
      }, this.deps.config.keyBatchDelayMs).unref()
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

  /**
   * Anchors one key rotation now, in its own turn (no batch or manifest is sent meanwhile): runs
   * `check` (throw to send nothing), sends `addKeys` for `entry` and waits until it is mined, then
   * runs `store` with the transaction. Without a chain, `check` and `store` only. A crash between
   * the transaction and `store` leaves the new CID on chain and the old bundle served: clients
   * refuse that as a rollback until the wallet puts its bundle again (nothing is sent twice then).
   * @throws {HttpError} chain_unavailable when the chain cannot be read or does not mine it in time.
   */
  async anchorKeyNow<T>(
    entry: { address: string; cid: string },
    { check, store }: { check(): Promise<void>; store(anchor: KeyAnchor | undefined): Promise<T> },
  ): Promise<T> {
    while (this.running) await this.running.catch(() => {})
    const run = (async () => {
      await check()
      const chain = this.deps.chain
      if (!chain) return store(undefined)
      let anchor: KeyAnchor
      try {
        anchor = await this.sendKey(chain, entry)
      } catch (cause) {
        this.deps.logger.warn({ err: cause }, 'key rotation not anchored; refused')
        throw new HttpError({
          code: 'chain_unavailable',
          message: 'The chain cannot take this key rotation now, so it was not stored; your current keys stay. Retry later.',
          cause,
        })
      }
      return store(anchor)
    })()
    this.running = run
    try {
      return await run
    } finally {
      this.running = undefined
    }
  }

  private async sendKey(chain: ChainClient, entry: { address: string; cid: string }): Promise<KeyAnchor> {
    // Already there: a retry after a crash between the transaction and the store.
    if ((await chain.keyOf(entry.address)) === entry.cid) return { txHash: null, at: this.deps.clock.now().toISOString() }
    const txHash = await chain.sendAddKeys([entry], await chain.nextNonce())
    const receipt = await chain.waitForReceipt(txHash, ROTATION_RECEIPT_MS)
    if (!receipt.success) throw new Error(`addKeys transaction ${txHash} reverted`)
    this.deps.logger.info({ tx: txHash }, 'key rotation anchored')
    return { txHash, at: this.deps.clock.now().toISOString() }
  }

  private tick(): void {
    if (this.running || this.deps.clock.now().getTime() < this.retryAt) return
    this.running = this.cycle(false)
      .then(() => {
        this.failures = 0
      })
      .catch((error) => {
        this.failures++
        const delay = Math.min(MAX_BACKOFF_MS, 1_000 * 2 ** (this.failures - 1))
        this.retryAt = this.deps.clock.now().getTime() + delay
        this.deps.logger.warn({ err: error, retryInMs: delay }, 'anchoring failed; will retry')
      })
      .finally(() => {
        this.running = undefined
      })
  }

  private async cycle(force: boolean): Promise<SyncResult | undefined> {
    if (this.deps.chain && this.keysDue) {
      this.keysDue = false
      await this.anchorKeys(this.deps.chain).catch((error) => {
        this.keysDue = true
        throw error
      })
    }
    const unfinished = await new AnchoringReader(this.deps.database.db).listUnfinished()
    for (const manifest of unfinished) {
      await this.writeBlocks(manifest.seq)
      if (this.deps.chain) await this.anchor(this.deps.chain, manifest)
    }
    if (this.deps.chain && unfinished.length > 0 && !force) return undefined
    if (!force && !this.syncOwed && !(await this.due())) return undefined
    return this.syncOnce()
  }

  private async due(): Promise<boolean> {
    const count = await new AnchoringReader(this.deps.database.db).countWaiting(this.deps.config.everyMessages)
    if (count === 0) return false
    return (
      count >= this.deps.config.everyMessages ||
      this.deps.clock.now().getTime() - this.lastSyncAt >= this.deps.config.intervalSeconds * 1000
    )
  }

  private async syncOnce(): Promise<SyncResult | undefined> {
    const started = performance.now()
    const now = this.deps.clock.now()
    // The manifest's lower time bound (protocol.md §5.4), read before the claim and kept with it.
    // A sync that fails before its claim (the chain down) is owed: the ticks retry it with backoff.
    this.syncOwed = true
    const after = await this.deps.chain?.latestBlock()
    const claimed = await this.deps.database.transaction(({ db }) =>
      claimManifest(db, this.deps.crypto, { limit: this.deps.config.maxCidsPerManifest, now: now.toISOString(), after }),
    )
    this.syncOwed = false
    this.lastSyncAt = now.getTime()
    if (!claimed) return undefined
    this.deps.checkpoint('manifest-stored')
    const { built, ...summary } = claimed
    await this.writeBlocks(claimed.seq, built)
    const buildMs = performance.now() - started
    this.deps.logger.info(
      { seq: claimed.seq, cid: claimed.cid, cids: claimed.count, bytes: claimed.bytes, ms: Math.round(buildMs) },
      'manifest stored',
    )
    const result: SyncResult = { ...summary, buildMs }
    if (this.deps.chain) {
      result.anchor = await this.anchor(this.deps.chain, {
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
    built ??= await buildManifest(this.deps.database.db, this.deps.crypto, seq)
    // Never write back a block tombstoned since (a relayed message migrated in the meantime).
    const tombstoned = await new BlockReader(this.deps.database.db).findTombstoned(built.contents.map((block) => block.cid))
    await this.deps.blockStore.put(built.contents.filter((block) => !tombstoned.has(block.cid)))
    await this.deps.blockStore.put([built.block])
  }

  private async anchor(
    chain: ChainClient,
    manifest: { seq: number; cid: string; status: string; tx_hash: string | null; tx_nonce: number | null },
  ): Promise<AnchorResult> {
    const started = performance.now()
    const t = new AnchoringTransactor(this.deps.database.db)
    const previous = await t.findLastAnchored()
    const searchFrom = (previous?.chain_index ?? -1) + 1
    for (;;) {
      const found = await chain.findAnchor(manifest.cid, searchFrom)
      if (found) {
        await t.markAnchored(manifest.seq, {
          txHash: found.txHash,
          blockNumber: found.blockNumber.toString(),
          chainIndex: found.index,
          anchoredAt: this.deps.clock.now().toISOString(),
        })
        const result = {
          txHash: found.txHash,
          blockNumber: found.blockNumber,
          index: found.index,
          ms: performance.now() - started,
        }
        this.deps.logger.info(
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
      await t.markSending(manifest.seq, nonce)
      const txHash = await chain.sendStoreCid(manifest.cid, nonce)
      this.deps.checkpoint('anchor-sent')
      await t.setTxHash(manifest.seq, txHash)
      const receipt = await chain.waitForReceipt(txHash)
      if (!receipt.success) throw new Error(`storeCID transaction ${txHash} reverted`)
      manifest = { ...manifest, status: 'sending', tx_hash: txHash, tx_nonce: nonce }
    }
  }

  /** Puts the CIDs of current, not yet anchored key bundles on chain, in batches. */
  private async anchorKeys(chain: ChainClient): Promise<void> {
    const t = new AnchoringTransactor(this.deps.database.db)
    for (;;) {
      const rows = await t.listUnanchoredKeys(KEYS_PER_TX)
      if (rows.length === 0) return
      const onChain = await Promise.all(rows.map((row) => chain.keyOf(row.address)))
      const done = rows.filter((row, i) => onChain[i] === row.cid)
      const todo = rows.filter((row, i) => onChain[i] !== row.cid)
      const now = this.deps.clock.now().toISOString()
      if (done.length > 0) {
        await t.markKeysAnchored(
          done.map((row) => row.cid),
          now,
        )
      }
      if (todo.length === 0) continue
      const txHash = await chain.sendAddKeys(todo, await chain.nextNonce())
      this.deps.checkpoint('keys-sent')
      await t.setKeysAnchorTx(
        todo.map((row) => row.cid),
        txHash,
      )
      const receipt = await chain.waitForReceipt(txHash)
      if (!receipt.success) throw new Error(`addKeys transaction ${txHash} reverted`)
      await t.markKeysAnchored(
        todo.map((row) => row.cid),
        this.deps.clock.now().toISOString(),
      )
      this.deps.logger.info({ keys: todo.length, tx: txHash }, 'keys anchored')
    }
  }
}
