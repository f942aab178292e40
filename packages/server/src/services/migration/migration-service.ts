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
import type { Checkpoint } from '../../faults.js'
import type { Clock } from '../../identity.js'
import type { Logger } from '../../logger.js'
import { KEYS_CHANNEL, migrationsChannel } from '../../ports/pub-sub/channels.js'
import type { PubSub } from '../../ports/pub-sub/types.js'
import type { BlockSweeper } from '../blocks/block-sweeper.js'
import type { KeyService } from '../keys/key-service.js'
import type { ServerKeyService } from '../server-key/server-key-service.js'
import { type HandoffPosition, MigrationReader } from './reader.js'
import { MigrationTransactor } from './transactor.js'

export type MigrationServiceDeps = {
  database: Database
  crypto: CryptoBackend
  keys: KeyService
  serverKey: ServerKeyService
  pubSub: PubSub
  sweeper: BlockSweeper
  clock: Clock
  logger: Logger
  checkpoint: Checkpoint
}

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

  constructor(private readonly deps: MigrationServiceDeps) {}

  /** Resumes unfinished work and reacts to new key bundles. */
  async start(): Promise<void> {
    this.unsubscribe = this.deps.pubSub.subscribe(KEYS_CHANNEL, (event) => {
      void this.prepare((event as { address: string }).address).catch((err) => this.deps.logger.warn({ err }, 'handoffs failed'))
    })
    for (const { address } of await new MigrationReader(this.deps.database.db).listProcessingReceivers()) {
      void this.prepare(address).catch((err) => this.deps.logger.warn({ err }, 'handoffs failed'))
    }
    await this.deps.sweeper.sweep()
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
    const receiverKey = await this.deps.keys.getCurrent(receiver)
    const reader = new MigrationReader(this.deps.database.db)
    if (!receiverKey || (await reader.countRelayed(receiver)) === 0) return
    this.deps.checkpoint('handoffs-prepare')
    const server = this.deps.serverKey.get()
    const senders = new Map<string, Awaited<ReturnType<KeyService['getByCid']>>>()
    let written = 0
    let after: { room: string; seq: number } | undefined
    for (;;) {
      const rows = await reader.listUnhandedRelayed({ receiver, receiverKey: receiverKey.cid, limit: BATCH, after })
      const last = rows.at(-1)
      if (!last) break
      after = { room: last.room, seq: last.seq }
      const now = this.deps.clock.now().toISOString()
      const handoffs: Insertable<HandoffsTable>[] = []
      for (const row of rows) {
        const original = JSON.parse(row.envelope) as RelayedEnvelope
        let sender = senders.get(original.senderKey)
        if (!sender) {
          sender = await this.deps.keys.getByCid(original.senderKey)
          senders.set(original.senderKey, sender)
        }
        if (!sender) throw new Error(`relayed message ${row.id} names an unknown sender key`)
        const content = await openEnvelope(this.deps.crypto, {
          envelope: original,
          key: await this.pairKey(original.sender, sender.bundle.DMTPpubKey.x25519),
        })
        // A relayed envelope is a plain message (the schema allows no action on that suite).
        if (content.type !== 'text') throw new Error(`relayed message ${row.id} holds no text`)
        const handoff = await sealHandoff(this.deps.crypto, {
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
      await this.deps.database.transaction(async ({ db, insertMany }) => {
        await new MigrationTransactor(db).deleteHandoffs(handoffs.map((h) => h.message_id))
        await insertMany('handoffs', handoffs)
      })
      written += handoffs.length
      this.deps.checkpoint('handoffs-written')
    }
    if (written > 0) {
      this.deps.logger.info({ receiver, handoffs: written }, 'handoffs ready')
      this.deps.pubSub.publish(migrationsChannel(receiver), { pending: await reader.countRelayed(receiver) })
    }
  }

  /** The server's pair key with a wallet, from that wallet's X25519 key (cached). */
  private pairKey(address: string, x25519: string): Promise<Uint8Array> {
    const server = this.deps.serverKey.get()
    const id = `${server.cid}:${address}:${x25519}`
    let key = this.pairKeys.get(id)
    if (!key) {
      key = deriveConversationKey(this.deps.crypto, {
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
    if (!(await this.deps.keys.getCurrent(address))) return 0
    return new MigrationReader(this.deps.database.db).countRelayed(address)
  }

  /**
   * Handoffs waiting for `receiver` (oldest first, after the cursor `after`) as their stored
   * canonical JSON, and how many relayed messages remain in all.
   */
  async list(
    receiver: string,
    { limit, after }: { limit: number; after?: string | undefined },
  ): Promise<{ handoffs: string[]; remaining: number; next: string | null }> {
    const current = await this.deps.keys.getCurrent(receiver)
    const reader = new MigrationReader(this.deps.database.db)
    const remaining = await reader.countRelayed(receiver)
    if (!current) return { handoffs: [], remaining, next: null }
    const rows = await reader.listHandoffs({ receiver, receiverKey: current.cid, limit, after: parseCursor(after) })
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
    const receiverKey = await this.deps.keys.getCurrent(receiver)
    if (!receiverKey) throw new HttpError({ code: 'forbidden', message: 'Set up DMTP keys before migrating messages.' })
    const reader = new MigrationReader(this.deps.database.db)
    const rows = await reader.listMessages(envelopes.map((e) => e.id))
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
      const senderKey = await this.deps.keys.getCurrent(row.sender)
      if (envelope.receiverKey !== receiverKey.cid || envelope.senderKey !== senderKey?.cid) {
        throw new HttpError({
          code: 'stale_key',
          message: `The migrated envelope of ${envelope.id} is not made with both current keys.`,
        })
      }
      const block = envelopeBlock(envelope, this.deps.crypto.sha256)
      swaps.push({ envelope, cid: block.cid, text: block.text, room: row.room_id, signingBytes: block.signingBytes })
    }
    // All at once, each batch signature once; the checks run off the event loop.
    const signed = await verifyEnvelopeSignatures(this.deps.crypto, swaps, receiverKey.ed25519)
    const forged = swaps.find((_, i) => !signed[i])
    if (forged) {
      throw new HttpError({
        code: 'invalid_signature',
        message: `The migrated envelope of ${forged.envelope.id} is not signed by this wallet's key.`,
      })
    }
    const replacedCids: string[] = []
    await this.deps.database.transaction(async ({ db, insertMany, updateEach }) => {
      const t = new MigrationTransactor(db)
      const now = this.deps.clock.now().toISOString()
      const swapped: typeof swaps = []
      const changed = await updateEach(
        'messages',
        swaps.map((swap) => ({ set: { envelope: swap.text, cid: swap.cid, e2ee: 1 }, where: { id: swap.envelope.id, e2ee: 0 } })),
      )
      for (const [i, swap] of swaps.entries()) {
        if (changed[i] === 0) {
          const winner = await t.findMessageCid(swap.envelope.id)
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
        await t.deleteHandoffs(swapped.map((swap) => swap.envelope.id))
        replacedCids.push(...old)
      }
      await t.refreshProcessingChats(receiver)
    })
    this.deps.checkpoint('migration-swapped')
    if (replacedCids.length > 0) await this.deps.sweeper.sweep()
    return { results, remaining: await reader.countRelayed(receiver) }
  }
}
