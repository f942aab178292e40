/**
 * Makes relayed messages end-to-end (pattern β, seed 002 "After Bob's initial DMTP setup"). For
 * each handoff the server prepared, this client checks that it decrypts under the pair key with
 * the server's verified key (the registry owner's) — AEAD whose AAD holds the whole original
 * envelope, so only that server can have made it — and that the sender's author signature covers
 * the text and the header; then it re-encrypts with its pair key with the sender and uploads the
 * migrated envelope, signed in batches of 16 (one signature over a hash tree of the 16: the
 * server checks one signature per batch instead of per message). The server then deletes its
 * readable copies.
 *
 * The handoff's own signature and the sender's signature on the relayed ciphertext add nothing
 * for the receiver once those two checks pass (Ed25519 verification is the costliest step here),
 * so they are left to third parties.
 *
 * Idempotent and resumable: stop at any point (offline, crash) and call it again; another device
 * of the same wallet may migrate some of the messages first.
 *
 * Bounded whatever the server answers: each handoff is handled at most once per call, a pass that
 * migrated nothing ends the call, waiting for handoffs not prepared yet backs off and gives up after
 * `waitMs` without progress, and the whole call after `deadlineMs`. A server that says "more to
 * migrate" for ever gets a few requests, not thousands; `stopped` says why the call ended.
 */
import {
  type EncryptEnvelopeReturnType,
  encryptEnvelope,
  type Handoff,
  MAX_MIGRATION_BATCH,
  MIGRATED_SUITE,
  migrationsResponseSchema,
  openHandoff,
  type PairEnvelope,
  signEnvelopeBatch,
  toBlock,
  uploadMigrationsResponseSchema,
  verifyAuthor,
} from '@dmtp/protocol'
import { conversationKey, currentKeys } from '../_keyring.js'
import { serverKey } from '../_server-key.js'
import { authedRequest } from '../_session.js'
import type { DmtpClientBase } from '../client.js'
import { bundleByCid, requireCurrentBundle, type VerifiedKeyBundle } from './get-key-bundle.js'

export type MigrateParameters = {
  /** Called after each uploaded batch. */
  onProgress?: ((progress: { done: number; total: number }) => void) | undefined
  /** How long to wait, without progress, for the server to prepare handoffs that are not ready yet. */
  waitMs?: number | undefined
  /** The longest one call may run, whatever the server answers. */
  deadlineMs?: number | undefined
}

/**
 * Why a call ended with messages left: `no_progress` (a pass migrated nothing: what is left was
 * rejected or is served again, or the server's count is wrong), `waiting` (nothing more was
 * prepared within `waitMs`), `deadline` (`deadlineMs` passed). A later call resumes.
 */
export type MigrateStop = 'no_progress' | 'waiting' | 'deadline'

export type MigrateReturnType = {
  /** Messages this call made end-to-end. */
  migrated: number
  /** Messages another device (or an earlier, interrupted call) had already migrated. */
  alreadyMigrated: number
  /** Handoffs that failed a check, left alone (the server cannot fix what it cannot forge). */
  rejected: { id: string; reason: string }[]
  /** Relayed messages still waiting, as the server last said. */
  remaining: number
  /** Why it stopped before `remaining` reached 0; absent when nothing remains. */
  stopped?: MigrateStop
}

// One page is re-encrypted and uploaded at a time: the server swaps 500 records per transaction
// (fewer, larger commits cost it ~10% less CPU than 250).
const PAGE = MAX_MIGRATION_BATCH
// 16 per signature: 1/16 of the Ed25519 work on both sides, for a proof of 4 hashes (~200 bytes)
// in each envelope; larger batches save little more and lengthen every proof.
const SIGNED_TOGETHER = 16
const UPLOAD_BYTES = 1024 * 1024
// Waiting for handoffs not prepared yet: 250 ms, doubling up to 2 s (the server prepares 500 at a time).
const FIRST_WAIT_MS = 250
const LONGEST_WAIT_MS = 2_000

type Page = { handoffs: Handoff[]; remaining: number; next: string | null }

/**
 * @example
 * import { migrate } from '@dmtp/sdk'
 * const { migrated, remaining } = await migrate(client, { onProgress: ({ done, total }) => console.log(done, total) })
 */
export async function migrate(
  client: DmtpClientBase,
  { onProgress, waitMs = 30_000, deadlineMs = 600_000 }: MigrateParameters = {},
): Promise<MigrateReturnType> {
  const result: MigrateReturnType = { migrated: 0, alreadyMigrated: 0, rejected: [], remaining: 0 }
  // Handoffs handled in this call (uploaded or rejected), by message id: never handled twice.
  const handled = new Set<string>()
  const isNew = (handoff: Handoff) => !handled.has(handoff.original.id)
  const deadline = Date.now() + deadlineMs
  let waitUntil = Date.now() + waitMs
  let backoff = FIRST_WAIT_MS
  let total: number | undefined
  const stop = (why: MigrateStop | 'done') => {
    if (why !== 'done') result.stopped = why
    return result
  }
  for (;;) {
    if (Date.now() > deadline) return stop('deadline')
    let page = await fetchPage(client)
    result.remaining = page.remaining
    total ??= page.remaining
    if (page.remaining === 0) return stop('done')
    if (!page.handoffs.some(isNew)) {
      // Only handoffs already handled are left, or they are still being prepared (the receiver just set up).
      if (page.handoffs.length > 0) return stop('no_progress')
      if (Date.now() + backoff > deadline) return stop('deadline')
      if (Date.now() + backoff > waitUntil) return stop('waiting')
      await new Promise((resolve) => setTimeout(resolve, backoff))
      backoff = Math.min(backoff * 2, LONGEST_WAIT_MS)
      continue
    }
    const before = result.migrated + result.alreadyMigrated
    // One pass over the handoffs, oldest first: each page is fetched while the one before is
    // re-encrypted, and uploaded while the next one is (the server swaps it meanwhile). The next
    // pass, from the start, finds any handoff written meanwhile.
    const context = await migrationContext(client)
    const uploads = uploadQueue(client, result, () =>
      onProgress?.({ done: result.migrated + result.alreadyMigrated, total: total ?? 0 }),
    )
    for (;;) {
      const more = page.handoffs.length === PAGE && page.next !== null && Date.now() < deadline
      const following = more ? fetchPage(client, page.next ?? undefined) : undefined
      following?.catch(() => {})
      const fresh: Handoff[] = []
      for (const handoff of page.handoffs) {
        if (!isNew(handoff)) continue
        handled.add(handoff.original.id)
        fresh.push(handoff)
      }
      await addSenders(context, fresh)
      // The whole page at once: signature checks run in the crypto threadpool, on every core.
      const made = await Promise.all(fresh.map((handoff) => migrateOne(context, handoff)))
      const unsigned: EncryptEnvelopeReturnType[] = []
      for (const [i, handoff] of fresh.entries()) {
        const encrypted = made[i] as EncryptEnvelopeReturnType | string
        if (typeof encrypted === 'string') result.rejected.push({ id: handoff.original.id, reason: encrypted })
        else unsigned.push(encrypted)
      }
      const envelopes: PairEnvelope[] = []
      for (let k = 0; k < unsigned.length; k += SIGNED_TOGETHER) {
        const batch = unsigned.slice(k, k + SIGNED_TOGETHER)
        envelopes.push(
          ...(await signEnvelopeBatch(context.crypto, { envelopes: batch, signingKey: context.own.keys.ed25519.secretKey })),
        )
      }
      if (envelopes.length > 0) await uploads.add(envelopes)
      if (!following) break
      page = await following
      // A page of nothing new: the server's cursor went round.
      if (!page.handoffs.some(isNew)) break
    }
    await uploads.finish()
    if (result.remaining === 0) return stop('done')
    if (result.migrated + result.alreadyMigrated === before) return stop('no_progress')
    waitUntil = Date.now() + waitMs
    backoff = FIRST_WAIT_MS
  }
}

/** One page of handoffs (`GET /v1/migrations`), a whole one unless `limit` says fewer. */
export function fetchPage(client: DmtpClientBase, after?: string, limit = PAGE): Promise<Page> {
  return authedRequest(client, {
    method: 'GET',
    path: '/v1/migrations',
    query: after ? { limit, after } : { limit },
    schema: migrationsResponseSchema,
  })
}

/** Uploads one batch at a time, in order: `add` waits for the upload before it, not its own. */
function uploadQueue(client: DmtpClientBase, result: MigrateReturnType, onUploaded: () => void) {
  let last: Promise<void> = Promise.resolve()
  let failure: { error: unknown } | undefined
  const settle = async () => {
    await last
    if (failure) throw failure.error
  }
  return {
    async add(envelopes: PairEnvelope[]): Promise<void> {
      await settle()
      last = upload(client, envelopes, result)
        .then(onUploaded)
        .catch((error: unknown) => {
          failure = { error }
        })
    },
    finish: settle,
  }
}

/** Uploads migrated envelopes in batches the server accepts, counting the results. */
async function upload(client: DmtpClientBase, envelopes: PairEnvelope[], result: MigrateReturnType): Promise<void> {
  for (const batch of uploadBatches(envelopes)) {
    const uploaded = await authedRequest(client, {
      method: 'POST',
      path: '/v1/migrations',
      body: { envelopes: batch },
      schema: uploadMigrationsResponseSchema,
    })
    // Only answers about envelopes of this batch count, each once: the server's word is all there is.
    const sent = new Set(batch.map((envelope) => envelope.id))
    for (const item of uploaded.results) {
      if (!sent.delete(item.id)) continue
      if (item.status === 'migrated') result.migrated++
      else result.alreadyMigrated++
    }
    result.remaining = uploaded.remaining
  }
}

/**
 * Upload batches of at most ~1 MB (the server accepts 4 MB), however long the texts. A page holds
 * at most as many envelopes as the server accepts in one upload (its schema says so).
 */
function uploadBatches(envelopes: PairEnvelope[]): PairEnvelope[][] {
  const batches: PairEnvelope[][] = []
  let current: PairEnvelope[] = []
  let bytes = 0
  for (const envelope of envelopes) {
    const size = envelope.messages.length + 1024
    if (current.length > 0 && bytes + size > UPLOAD_BYTES) {
      batches.push(current)
      current = []
      bytes = 0
    }
    current.push(envelope)
    bytes += size
  }
  if (current.length > 0) batches.push(current)
  return batches
}

type MigrationContext = {
  client: DmtpClientBase
  wallet: Awaited<ReturnType<DmtpClientBase['getWallet']>>
  crypto: Awaited<ReturnType<DmtpClientBase['getCrypto']>>
  own: Awaited<ReturnType<typeof currentKeys>>
  serverAddress: string
  /** The current key bundle of each sender, looked up once per pass. */
  senders: Map<string, VerifiedKeyBundle | undefined>
}

async function migrationContext(client: DmtpClientBase): Promise<MigrationContext> {
  const [wallet, crypto, own, server] = await Promise.all([
    client.getWallet(),
    client.getCrypto(),
    currentKeys(client),
    serverKey(client),
  ])
  return { client, wallet, crypto, own, serverAddress: server.address, senders: new Map() }
}

async function addSenders({ client, senders }: MigrationContext, handoffs: Handoff[]): Promise<void> {
  for (const address of new Set(handoffs.map((handoff) => handoff.original.sender))) {
    if (!senders.has(address)) senders.set(address, await requireCurrentBundle(client, address).catch(() => undefined))
  }
}

/** The migrated envelope for one handoff, before its batch signature, or why it was refused. */
async function migrateOne(
  { client, wallet, crypto, own, serverAddress, senders }: MigrationContext,
  handoff: Handoff,
): Promise<EncryptEnvelopeReturnType | string> {
  const { original } = handoff
  if (original.receiver !== wallet.address || handoff.receiverKey !== own.cid) return 'not addressed to this wallet and key'
  const ownPair = { cid: own.cid, keys: own.keys, address: wallet.address }
  const handoffKey = await bundleByCid(client, handoff.serverKey, serverAddress).catch(() => undefined)
  if (!handoffKey) return "not made with the server's key"
  // Encoded once: its text is in the handoff's AAD, its CID in the migrated envelope.
  const originalBlock = toBlock(original, crypto.sha256)
  let content: Awaited<ReturnType<typeof openHandoff>>
  try {
    content = await openHandoff(crypto, {
      handoff,
      key: await conversationKey(client, ownPair, handoffKey),
      originalText: originalBlock.text,
    })
  } catch {
    return "the handoff does not decrypt with the server's key"
  }
  const author = content.author
  const authorKey = author ? await bundleByCid(client, author.key, original.sender).catch(() => undefined) : undefined
  if (
    !author ||
    !authorKey ||
    !(await verifyAuthor(crypto, { message: { ...original, text: content.text }, sig: author.sig, publicKey: authorKey.ed25519 }))
  ) {
    return 'the text is not what the sender signed'
  }
  const senderNow = senders.get(original.sender)
  if (!senderNow) return 'the sender has no verifiable keys now'
  return encryptEnvelope(crypto, {
    header: {
      v: 1,
      suite: MIGRATED_SUITE,
      id: original.id,
      room: original.room,
      sender: original.sender,
      receiver: original.receiver,
      timestamp: original.timestamp,
      senderKey: senderNow.cid,
      receiverKey: own.cid,
      replaces: originalBlock.cid,
    },
    content,
    key: await conversationKey(client, ownPair, senderNow),
  })
}
