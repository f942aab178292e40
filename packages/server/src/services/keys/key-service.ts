/**
 * Key bundles (seed 003): verified before they are stored, served to anyone, rotated by newer
 * bundles. The server checks what a client will check again (wallet signature over these exact
 * keys, this domain and chain, usable public keys), so a bad bundle never reaches other clients
 * through this server; clients still verify, because a server could lie.
 */
import {
  assertValidPublicKeys,
  type CryptoBackend,
  fromBase64Url,
  type KeyBundle,
  SignatureInvalidError,
  toBlock,
  verifyKeyBundle,
} from '@dmtp/protocol'
import type { Database } from '../../db/database.js'
import { HttpError } from '../../errors.js'
import type { Clock, ServiceIdentity } from '../../identity.js'
import { KEYS_CHANNEL } from '../../ports/pub-sub/channels.js'
import type { PubSub } from '../../ports/pub-sub/types.js'
import { KeyReader } from './reader.js'
import { KeyTransactor } from './transactor.js'

export type CurrentKey = {
  cid: string
  bundle: KeyBundle
  createdAt: string
  ed25519: Uint8Array
}

const MAX_FUTURE_MS = 5 * 60_000

/** Where a rotation's `addKeys` transaction went: its hash (null when already on chain) and when. */
export type KeyAnchor = { txHash: string | null; at: string }

/** Anchors a rotation before it is stored (the anchoring service: one operator nonce at a time). */
export type KeyAnchorer = {
  anchorKeyNow<T>(
    entry: { address: string; cid: string },
    steps: { check(): Promise<void>; store(anchor: KeyAnchor | undefined): Promise<T> },
  ): Promise<T>
}

export type PutKeyOptions = { anchorer?: KeyAnchorer | undefined }

export type KeyServiceDeps = {
  database: Database
  crypto: CryptoBackend
  identity: ServiceIdentity
  pubSub: PubSub
  clock: Clock
}

export class KeyService {
  private readonly current = new Map<string, CurrentKey | null>()

  constructor(private readonly deps: KeyServiceDeps) {}

  /**
   * Stores `bundle` as the current keys of `address` (the signed-in wallet). A rotation (the wallet
   * has keys already) goes through `anchorer` when given: it is on chain, mined, before it is
   * stored and acknowledged, so a later rollback to the old bundle shows on chain. A first
   * registration is anchored later, in batches: there is nothing older to roll back to.
   * @throws {HttpError} forbidden, invalid_key_bundle, invalid_signature, stale_key_bundle,
   * chain_unavailable (a rotation the chain cannot take now: nothing stored).
   */
  async put(
    address: string,
    bundle: KeyBundle,
    { anchorer }: PutKeyOptions = {},
  ): Promise<{ address: string; cid: string; replaced: string | null }> {
    await this.check(address, bundle)
    const now = this.deps.clock.now()
    const { text, cid } = toBlock(bundle, this.deps.crypto.sha256)
    const current = await new KeyReader(this.deps.database.db).findCurrent(address)
    if (!anchorer || !current || current.cid === cid) return this.store(address, bundle, { text, cid, now })
    return anchorer.anchorKeyNow(
      { address, cid },
      {
        check: async () => assertNewer(await new KeyReader(this.deps.database.db).findCurrent(address), bundle),
        store: (anchor) => this.store(address, bundle, { text, cid, now, anchor }),
      },
    )
  }

  private async check(address: string, bundle: KeyBundle): Promise<void> {
    if (bundle.address !== address) {
      throw new HttpError({ code: 'forbidden', message: 'You can only register keys for the wallet you signed in with.' })
    }
    if (bundle.domain !== this.deps.identity.domain || bundle.chainId !== this.deps.identity.chainId) {
      throw new HttpError({
        code: 'invalid_key_bundle',
        message: `The key bundle must name domain ${this.deps.identity.domain} and chain ${this.deps.identity.chainId}.`,
      })
    }
    if (Date.parse(bundle.issuedAt) > this.deps.clock.now().getTime() + MAX_FUTURE_MS) {
      throw new HttpError({ code: 'invalid_key_bundle', message: 'The key bundle is issued in the future.' })
    }
    try {
      assertValidPublicKeys(bundle.DMTPpubKey)
    } catch (error) {
      throw new HttpError({ code: 'invalid_key_bundle', message: (error as Error & { shortMessage: string }).shortMessage })
    }
    try {
      await verifyKeyBundle(this.deps.crypto, bundle)
    } catch (error) {
      if (error instanceof SignatureInvalidError) {
        throw new HttpError({ code: 'invalid_signature', message: error.shortMessage })
      }
      throw error
    }
  }

  private async store(
    address: string,
    bundle: KeyBundle,
    { text, cid, now, anchor }: { text: string; cid: string; now: Date; anchor?: KeyAnchor | undefined },
  ): Promise<{ address: string; cid: string; replaced: string | null }> {
    return this.deps.database.transaction(async ({ db, onCommit }) => {
      const t = new KeyTransactor(db)
      // Putting the current bundle again is an idempotent retry; a replaced one falls through to
      // the staleness check below (it is older than the current one), so it is never reported as
      // registered while other keys are current.
      const existing = await t.findByCid(cid)
      if (existing && existing.replaced_at === null) return { address, cid, replaced: null }
      const current = await t.lockCurrent(address, this.deps.database)
      assertNewer(current, bundle)
      const at = now.toISOString()
      await t.ensureUser(address, at)
      if (current) await t.markReplaced(current.cid, at)
      await t.insertBundle({
        cid,
        address,
        bundle: text,
        issued_at: bundle.issuedAt,
        created_at: at,
        replaced_at: null,
        anchor_tx: anchor?.txHash ?? null,
        anchored_at: anchor?.at ?? null,
      })
      await t.noteCid({ cid, kind: 'key', room_id: null, address, created_at: at })
      onCommit(() => {
        this.current.delete(address)
        this.deps.pubSub.publish(KEYS_CHANNEL, { address, cid })
      })
      return { address, cid, replaced: current?.cid ?? null }
    })
  }

  /** The current keys of `address`, or undefined when it never set up. Cached. */
  async getCurrent(address: string): Promise<CurrentKey | undefined> {
    const cached = this.current.get(address)
    if (cached !== undefined) return cached ?? undefined
    const row = await new KeyReader(this.deps.database.db).findCurrent(address)
    const value = row ? toCurrentKey(row) : null
    if (this.current.size > 50_000) this.current.clear()
    this.current.set(address, value)
    return value ?? undefined
  }

  async getHistory(address: string) {
    const rows = await new KeyReader(this.deps.database.db).listBundles(address)
    return rows.map((row) => ({
      cid: row.cid,
      bundle: JSON.parse(row.bundle) as KeyBundle,
      createdAt: row.created_at,
      replacedAt: row.replaced_at,
    }))
  }

  async getByCid(cid: string) {
    const row = await new KeyReader(this.deps.database.db).findByCid(cid)
    if (!row) return undefined
    return { address: row.address, cid: row.cid, bundle: JSON.parse(row.bundle) as KeyBundle, createdAt: row.created_at }
  }
}

function assertNewer(current: { issued_at: string } | undefined, bundle: KeyBundle): void {
  if (current && Date.parse(current.issued_at) >= Date.parse(bundle.issuedAt)) {
    throw new HttpError({
      code: 'stale_key_bundle',
      message: 'A newer key bundle is already registered; a replacement must be issued later than it.',
    })
  }
}

function toCurrentKey(row: { cid: string; bundle: string; created_at: string }): CurrentKey {
  const bundle = JSON.parse(row.bundle) as KeyBundle
  return { cid: row.cid, bundle, createdAt: row.created_at, ed25519: fromBase64Url(bundle.DMTPpubKey.ed25519) }
}
