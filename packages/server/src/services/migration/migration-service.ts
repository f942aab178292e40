/**
 * Pattern β, after the receiver set up (seed 002). Three steps, each idempotent, so a crash or an
 * offline receiver between any two only delays the next:
 *
 * 1. `prepare`: for every relayed message to the receiver, the server decrypts with its pair key
 *    with the sender and writes a handoff, re-encrypted to its pair key with the receiver. Batches
 *    of 500; re-run for any message whose handoff names an older receiver key.
 * 2. The receiver's client fetches handoffs (`list`), checks both signatures and the author's,
 *    re-encrypts with its pair key with the sender, and uploads migrated envelopes (`upload`).
 * 3. `upload` checks each against the relayed message it replaces and swaps them in one
 *    transaction: the row gets the new envelope and CID, the handoff goes, the old block is
 *    tombstoned and deleted from the block store. The next manifest records the replacement.
 *
 * After the swap no copy the server could decrypt remains: not in rows (SQLite `secure_delete`),
 * not in handoffs, not in blocks.
 */
import {
  type CryptoBackend,
  canonicalText,
  deriveConversationKey,
  type Envelope,
  envelopeBlock,
  fromBase64Url,
  openEnvelope,
  type RelayedEnvelope,
  sealHandoff,
  verifyEnvelopeSignatures,
} from '@dmtp/protocol'
import type { Insertable } from 'kysely'
import type { Database } from '../../db/database.js'
import type { HandoffsTable } from '../../db/schema/handoffs.js'
import { HttpError } from '../../errors.js'
import { crashIfArmed, type Faults } from '../../faults.js'
import type { Clock } from '../../identity.js'
import type { Logger } from '../../logger.js'
import type { BlockStore } from '../../ports/block-store/types.js'
import type { PubSub } from '../../ports/pub-sub/types.js'
import { KEYS_CHANNEL } from '../anchoring/anchoring-service.js'
import type { KeyService } from '../keys/key-service.js'
import type { ServerKeyService } from '../server-key/server-key-service.js'
import {
  countRelayed,
  type HandoffPosition,
  listHandoffs,
  listPendingDeletions,
  listProcessingReceivers,
  listRelayedRooms,
  listUnhandedRelayed,
} from './reader.js'

export const migrationsChannel = (address: string) => `migrations:${address}`

/** `next` cursors are `<created_at>~<message id>` (the route checked the form). */
function parseCursor(cursor: string | undefined): HandoffPosition | undefined {
  if (!cursor) return undefined
  const split = cursor.indexOf('~')
  return { createdAt: cursor.slice(0, split), messageId: cursor.slice(split + 1) }
}

const BATCH = 500

type MigratedEnvelope = Extract<Envelope, { suite: 'dmtp-migrated-v1' }>

export type UploadResult = { id: string; status: 'migrated' | 'already_migrated'; cid: string }

export class MigrationService {
  private readonly preparing = new Map<string, Promise<void>>()
  private unsubscribe: (() => void) | undefined
  private readonly pairKeys = new Map<string, Promise<Uint8Array>>()

  constructor(
    private readonly database: Database,
    private readonly crypto: CryptoBackend,
    private readonly keys: KeyService,
    private readonly serverKey: ServerKeyService,
    private readonly blockStore: BlockStore,
    private readonly pubSub: PubSub,
    private readonly clock: Clock,
    private readonly logger: Logger,
    private readonly faults: Faults,
  ) {}

  /** Resumes unfinished work and reacts to new key bundles. */
  async start(): Promise<void> {
    this.unsubscribe = this.pubSub.subscribe(KEYS_CHANNEL, (event) => {
      void this.prepare((event as { address: string }).address).catch((err) => this.logger.warn({ err }, 'handoffs failed'))
    })
    for (const { address } of await listProcessingReceivers(this.database.db)) {
      void this.prepare(address).catch((err) => this.logger.warn({ err }, 'handoffs failed'))
    }
    await this.sweepDeletions()
  }

  async stop(): Promise<void> {
    this.unsubscribe?.()
    await Promise.allSettled(this.preparing.values())
  }

  /** Writes handoffs for `receiver`'s relayed messages (one run per receiver at a time). */
  prepare(receiver: string): Promise<void> {
    const running = this.preparing.get(receiver)
    if (running) return running.then(() => this.prepare(receiver))
    const run = this.prepareBatches(receiver).finally(() => this.preparing.delete(receiver))
    this.preparing.set(receiver, run)
    return run
  }

  private async prepareBatches(receiver: string): Promise<void> {
    const receiverKey = await this.keys.getCurrent(receiver)
    if (!receiverKey || (await countRelayed(this.database.db, receiver)) === 0) return
    crashIfArmed(this.faults, 'handoffs-prepare')
    const server = this.serverKey.get()
    const senders = new Map<string, Awaited<ReturnType<KeyService['getByCid']>>>()
    let written = 0
    let after: { room: string; seq: number } | undefined
    for (;;) {
      const rows = await listUnhandedRelayed(this.database.db, { receiver, receiverKey: receiverKey.cid, limit: BATCH, after })
      const last = rows.at(-1)
      if (!last) break
      after = { room: last.room, seq: last.seq }
      const now = this.clock.now().toISOString()
      const handoffs: Insertable<HandoffsTable>[] = []
      for (const row of rows) {
        const original = JSON.parse(row.envelope) as RelayedEnvelope
        let sender = senders.get(original.senderKey)
        if (!sender) {
          sender = await this.keys.getByCid(original.senderKey)
          senders.set(original.senderKey, sender)
        }
        if (!sender) throw new Error(`relayed message ${row.id} names an unknown sender key`)
        const content = await openEnvelope(this.crypto, {
          envelope: original,
          key: await this.pairKey(original.sender, sender.bundle.DMTPpubKey.x25519),
        })
        const handoff = await sealHandoff(this.crypto, {
          original,
          content,
          key: await this.pairKey(receiver, receiverKey.bundle.DMTPpubKey.x25519),
          serverKey: server.cid,
          receiverKey: receiverKey.cid,
          signingKey: server.keys.ed25519.secretKey,
        })
        handoffs.push({
          message_id: row.id,
          receiver,
          receiver_key: receiverKey.cid,
          handoff: canonicalText(handoff),
          created_at: now,
        })
      }
      await this.database.transaction(async ({ db, insertMany }) => {
        await db
          .deleteFrom('handoffs')
          .where(
            'message_id',
            'in',
            handoffs.map((h) => h.message_id),
          )
          .execute()
        await insertMany('handoffs', handoffs)
      })
      written += handoffs.length
      crashIfArmed(this.faults, 'handoffs-written')
    }
    if (written > 0) {
      this.logger.info({ receiver, handoffs: written }, 'handoffs ready')
      this.pubSub.publish(migrationsChannel(receiver), { pending: await countRelayed(this.database.db, receiver) })
    }
  }

  /** The server's pair key with a wallet, from that wallet's X25519 key (cached). */
  private pairKey(address: string, x25519: string): Promise<Uint8Array> {
    const server = this.serverKey.get()
    const id = `${server.cid}:${address}:${x25519}`
    let key = this.pairKeys.get(id)
    if (!key) {
      key = deriveConversationKey(this.crypto, {
        secretKey: server.keys.x25519.secretKey,
        publicKey: server.keys.x25519.publicKey,
        address: server.address,
        peerPublicKey: fromBase64Url(x25519),
        peerAddress: address,
      })
      if (this.pairKeys.size > 10_000) this.pairKeys.clear()
      this.pairKeys.set(id, key)
    }
    return key
  }

  /** How many relayed messages `address` can migrate now (0 until it has keys). */
  async pending(address: string): Promise<number> {
    if (!(await this.keys.getCurrent(address))) return 0
    return countRelayed(this.database.db, address)
  }

  /**
   * Handoffs waiting for `receiver` (oldest first, after the cursor `after`) as their stored
   * canonical JSON, and how many relayed messages remain in all.
   */
  async list(
    receiver: string,
    { limit, after }: { limit: number; after?: string | undefined },
  ): Promise<{ handoffs: string[]; remaining: number; next: string | null }> {
    const current = await this.keys.getCurrent(receiver)
    const remaining = await countRelayed(this.database.db, receiver)
    if (!current) return { handoffs: [], remaining, next: null }
    const rows = await listHandoffs(this.database.db, { receiver, receiverKey: current.cid, limit, after: parseCursor(after) })
    if (!after && rows.length < Math.min(limit, remaining) && !this.preparing.has(receiver)) {
      void this.prepare(receiver).catch(() => {})
    }
    const last = rows.at(-1)
    return {
      handoffs: rows.map((row) => row.handoff),
      remaining,
      next: last ? `${last.created_at}~${last.message_id}` : null,
    }
  }

  /**
   * Replaces relayed messages by the receiver's migrated envelopes. All or nothing: any envelope
   * that does not match its relayed message fails the whole upload.
   * @throws {HttpError} not_found, invalid_envelope, stale_key, invalid_signature.
   */
  async upload(receiver: string, envelopes: MigratedEnvelope[]): Promise<{ results: UploadResult[]; remaining: number }> {
    const receiverKey = await this.keys.getCurrent(receiver)
    if (!receiverKey) throw new HttpError({ code: 'forbidden', message: 'Set up DMTP keys before migrating messages.' })
    const rows = await this.database.db
      .selectFrom('messages')
      .select(['id', 'room_id', 'sender', 'receiver', 'timestamp', 'cid', 'e2ee'])
      .where(
        'id',
        'in',
        envelopes.map((e) => e.id),
      )
      .execute()
    const byId = new Map(rows.map((row) => [row.id, row]))
    const results: UploadResult[] = []
    const swaps: { envelope: MigratedEnvelope; cid: string; text: string; room: string; signingBytes: Uint8Array }[] = []
    for (const envelope of envelopes) {
      const row = byId.get(envelope.id)
      if (!row || row.receiver !== receiver) {
        throw new HttpError({ code: 'not_found', message: `No relayed message ${envelope.id} for this wallet.` })
      }
      if (row.e2ee === 1) {
        // Another device of the receiver migrated it first, or this is a retry.
        results.push({ id: envelope.id, status: 'already_migrated', cid: row.cid })
        continue
      }
      const problem =
        envelope.replaces !== row.cid
          ? 'replaces another envelope'
          : envelope.room !== row.room_id ||
              envelope.sender !== row.sender ||
              envelope.receiver !== receiver ||
              envelope.timestamp !== row.timestamp
            ? 'changes the message header'
            : undefined
      if (problem)
        throw new HttpError({ code: 'invalid_envelope', message: `The migrated envelope of ${envelope.id} ${problem}.` })
      const senderKey = await this.keys.getCurrent(row.sender)
      if (envelope.receiverKey !== receiverKey.cid || envelope.senderKey !== senderKey?.cid) {
        throw new HttpError({
          code: 'stale_key',
          message: `The migrated envelope of ${envelope.id} is not made with both current keys.`,
        })
      }
      const block = envelopeBlock(envelope, this.crypto.sha256)
      swaps.push({ envelope, cid: block.cid, text: block.text, room: row.room_id, signingBytes: block.signingBytes })
    }
    // All at once, each batch signature once; the checks run off the event loop.
    const signed = await verifyEnvelopeSignatures(this.crypto, swaps, receiverKey.ed25519)
    const forged = swaps.find((_, i) => !signed[i])
    if (forged) {
      throw new HttpError({
        code: 'invalid_signature',
        message: `The migrated envelope of ${forged.envelope.id} is not signed by this wallet's key.`,
      })
    }
    const replacedCids: string[] = []
    await this.database.transaction(async ({ db, insertMany, updateEach }) => {
      const now = this.clock.now().toISOString()
      const swapped: typeof swaps = []
      const changed = await updateEach(
        'messages',
        swaps.map((swap) => ({ set: { envelope: swap.text, cid: swap.cid, e2ee: 1 }, where: { id: swap.envelope.id, e2ee: 0 } })),
      )
      for (const [i, swap] of swaps.entries()) {
        if (changed[i] === 0) {
          const winner = await db
            .selectFrom('messages')
            .select('cid')
            .where('id', '=', swap.envelope.id)
            .executeTakeFirstOrThrow()
          results.push({ id: swap.envelope.id, status: 'already_migrated', cid: winner.cid })
          continue
        }
        swapped.push(swap)
        results.push({ id: swap.envelope.id, status: 'migrated', cid: swap.cid })
      }
      if (swapped.length > 0) {
        const old = swapped.map((swap) => byId.get(swap.envelope.id)?.cid as string)
        await insertMany(
          'cids',
          swapped.map((swap, i) => ({
            cid: swap.cid,
            kind: 'message',
            room_id: swap.room,
            address: null,
            created_at: now,
            replaces: old[i] as string,
          })),
        )
        // Each old CID is swapped once (the update above only matches relayed rows), so it is new here.
        await insertMany(
          'block_deletions',
          old.map((cid) => ({ cid, created_at: now, done_at: null })),
        )
        await db
          .deleteFrom('handoffs')
          .where(
            'message_id',
            'in',
            swapped.map((swap) => swap.envelope.id),
          )
          .execute()
        replacedCids.push(...old)
      }
      await this.updateProcessingChats(db, receiver)
    })
    crashIfArmed(this.faults, 'migration-swapped')
    if (replacedCids.length > 0) await this.sweepDeletions()
    return { results, remaining: await countRelayed(this.database.db, receiver) }
  }

  /** Seed 002's Processing Chats: only rooms that still hold relayed messages for the receiver. */
  private async updateProcessingChats(db: Database['db'], receiver: string): Promise<void> {
    // Locked first (PostgreSQL), so a relayed message sent meanwhile either is seen by the query
    // below or adds its room after this update, never lost between the two.
    await this.database.forUpdate(db.selectFrom('users').select('address').where('address', '=', receiver)).execute()
    const rooms = await listRelayedRooms(db, receiver)
    await db
      .updateTable('users')
      .set({ processing_chats: JSON.stringify(rooms.sort()) })
      .where('address', '=', receiver)
      .execute()
  }

  /** Deletes tombstoned blocks from the block store (retried at start and after each upload). */
  async sweepDeletions(): Promise<void> {
    const rows = await listPendingDeletions(this.database.db, 10_000)
    if (rows.length === 0) return
    await this.blockStore.delete(rows.map((row) => row.cid))
    await this.database.db
      .updateTable('block_deletions')
      .set({ done_at: this.clock.now().toISOString() })
      .where(
        'cid',
        'in',
        rows.map((row) => row.cid),
      )
      .execute()
  }
}
