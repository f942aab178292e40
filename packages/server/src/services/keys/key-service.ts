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
import type { PubSub } from '../../ports/pub-sub/types.js'
import { KEYS_CHANNEL } from '../anchoring/anchoring-service.js'
import { findBundleByCid, findCurrentBundle, listBundles } from './reader.js'

export type CurrentKey = {
  cid: string
  bundle: KeyBundle
  createdAt: string
  ed25519: Uint8Array
}

const MAX_FUTURE_MS = 5 * 60_000

export class KeyService {
  private readonly current = new Map<string, CurrentKey | null>()

  constructor(
    private readonly database: Database,
    private readonly crypto: CryptoBackend,
    private readonly identity: ServiceIdentity,
    private readonly pubSub: PubSub,
    private readonly clock: Clock,
  ) {}

  /**
   * Stores `bundle` as the current keys of `address` (the signed-in wallet).
   * @throws {HttpError} forbidden, invalid_key_bundle, invalid_signature, stale_key_bundle.
   */
  async put(address: string, bundle: KeyBundle): Promise<{ address: string; cid: string; replaced: string | null }> {
    if (bundle.address !== address) {
      throw new HttpError({ code: 'forbidden', message: 'You can only register keys for the wallet you signed in with.' })
    }
    if (bundle.domain !== this.identity.domain || bundle.chainId !== this.identity.chainId) {
      throw new HttpError({
        code: 'invalid_key_bundle',
        message: `The key bundle must name domain ${this.identity.domain} and chain ${this.identity.chainId}.`,
      })
    }
    const now = this.clock.now()
    if (Date.parse(bundle.issuedAt) > now.getTime() + MAX_FUTURE_MS) {
      throw new HttpError({ code: 'invalid_key_bundle', message: 'The key bundle is issued in the future.' })
    }
    try {
      assertValidPublicKeys(bundle.DMTPpubKey)
    } catch (error) {
      throw new HttpError({ code: 'invalid_key_bundle', message: (error as Error & { shortMessage: string }).shortMessage })
    }
    try {
      await verifyKeyBundle(this.crypto, bundle)
    } catch (error) {
      if (error instanceof SignatureInvalidError) {
        throw new HttpError({ code: 'invalid_signature', message: error.shortMessage })
      }
      throw error
    }
    const { text, cid } = toBlock(bundle, this.crypto.sha256)
    const result = await this.database.transaction(async ({ db, onCommit }) => {
      // Putting the current bundle again is an idempotent retry; a replaced one falls through to
      // the staleness check below (it is older than the current one), so it is never reported as
      // registered while other keys are current.
      const existing = await findBundleByCid(db, cid)
      if (existing && existing.replaced_at === null) return { address, cid, replaced: null }
      const current = await this.database
        .forUpdate(
          db
            .selectFrom('key_bundles')
            .select(['cid', 'issued_at'])
            .where('address', '=', address)
            .where('replaced_at', 'is', null),
        )
        .executeTakeFirst()
      if (current && Date.parse(current.issued_at) >= Date.parse(bundle.issuedAt)) {
        throw new HttpError({
          code: 'stale_key_bundle',
          message: 'A newer key bundle is already registered; a replacement must be issued later than it.',
        })
      }
      const at = now.toISOString()
      await db
        .insertInto('users')
        .values({ address, processing_chats: '[]', inbox_seq: 0, acked_seq: 0, created_at: at })
        .onConflict((oc) => oc.column('address').doNothing())
        .execute()
      if (current) await db.updateTable('key_bundles').set({ replaced_at: at }).where('cid', '=', current.cid).execute()
      await db
        .insertInto('key_bundles')
        .values({ cid, address, bundle: text, issued_at: bundle.issuedAt, created_at: at, replaced_at: null })
        .execute()
      await db
        .insertInto('cids')
        .values({ cid, kind: 'key', room_id: null, address, created_at: at })
        .onConflict((oc) => oc.column('cid').doNothing())
        .execute()
      onCommit(() => {
        this.current.delete(address)
        this.pubSub.publish(KEYS_CHANNEL, { address, cid })
      })
      return { address, cid, replaced: current?.cid ?? null }
    })
    return result
  }

  /** The current keys of `address`, or undefined when it never set up. Cached. */
  async getCurrent(address: string): Promise<CurrentKey | undefined> {
    const cached = this.current.get(address)
    if (cached !== undefined) return cached ?? undefined
    const row = await findCurrentBundle(this.database.db, address)
    const value = row ? toCurrentKey(row) : null
    if (this.current.size > 50_000) this.current.clear()
    this.current.set(address, value)
    return value ?? undefined
  }

  async getHistory(address: string) {
    const rows = await listBundles(this.database.db, address)
    return rows.map((row) => ({
      cid: row.cid,
      bundle: JSON.parse(row.bundle) as KeyBundle,
      createdAt: row.created_at,
      replacedAt: row.replaced_at,
    }))
  }

  async getByCid(cid: string) {
    const row = await findBundleByCid(this.database.db, cid)
    if (!row) return undefined
    return { address: row.address, cid: row.cid, bundle: JSON.parse(row.bundle) as KeyBundle, createdAt: row.created_at }
  }
}

function toCurrentKey(row: { cid: string; bundle: string; created_at: string }): CurrentKey {
  const bundle = JSON.parse(row.bundle) as KeyBundle
  return { cid: row.cid, bundle, createdAt: row.created_at, ed25519: fromBase64Url(bundle.DMTPpubKey.ed25519) }
}
