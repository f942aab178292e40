/**
 * Checks a server against the chain (DESIGN §3, "catches a lying server"). For each of the
 * wallet's rooms, the anchored history (manifests on chain, in order) is compared with what the
 * server serves, messages and membership-log entries alike, with every CID recomputed here:
 *
 * - `anchored`: served, unchanged, in its anchored order, at a time consistent with its anchor;
 * - `pending`: newer than the last sync (after every anchored message, received after the sync);
 * - `missing`: anchored, but the server no longer serves it in the history;
 * - `altered`: served but changed, reordered, back-dated, or inserted after a sync that should
 *   have listed it.
 *
 * A room's membership log is also replayed (`_room-log.ts`): an entry the replay refuses (forged,
 * unsigned, not allowed at its place) counts as altered. Key bundles: each wallet's current bundle
 * (its own, and its 1:1 peers') is checked against its CID on chain.
 */
import {
  ApiError,
  type Envelope,
  envelopeSchema,
  type LogRecord,
  type MessageRecord,
  MIGRATED_SUITE,
  type MigratedEnvelope,
  messagesResponseSchema,
  type RoomRecord,
  toBlock,
  verifyEnvelopeSignature,
} from '@dmtp/protocol'
import { fetchBlock } from '../_blocks.js'
import { type ChainTarget, registryReader } from '../_chain.js'
import { type ProgressReporter, readManifests } from '../_manifests.js'
import { roomLog } from '../_room-log.js'
import { authedRequest } from '../_session.js'
import type { DmtpClientBase } from '../client.js'
import { BaseError } from '../errors.js'
import { bundleByCid, getKeyBundle, type KeyAnchorStatus, keyAnchorStatus } from './get-key-bundle.js'
import { getRooms } from './get-rooms.js'

export type VerifyParameters = {
  /** Only this room (default: every conversation of the wallet). */
  room?: string | undefined
  /** The chain to trust; default: the one the server names in `/v1/info`. */
  chain?: ChainTarget | undefined
  onProgress?: ProgressReporter | undefined
}

export type MessageCheck = 'anchored' | 'pending' | 'missing' | 'altered'

export type VerifyDetail = {
  room: string
  /** A message (or message action), or a membership-log entry. */
  kind: 'message' | 'log'
  cid: string
  id?: string
  seq?: number
  status: Exclude<MessageCheck, 'anchored'>
  reason: string
}

export type VerifyReturnType = {
  anchored: number
  pending: number
  missing: number
  altered: number
  /** Relayed messages made end-to-end (pattern β) and shown in their place: not failures. */
  replaced: number
  keys: { anchored: number; mismatched: number; pending: number }
  manifests: { count: number; unavailable: number; breaks: number; lastSyncAt: string | null }
  /** Every message that is not plainly anchored, and why. */
  details: VerifyDetail[]
  keyDetails: { address: string; cid: string | null; status: KeyAnchorStatus | 'unregistered'; reason: string }[]
  /** True when nothing is missing, altered or mismatched. */
  ok: boolean
}

const PAGE = 500
// Slack for clocks and for messages committed while a sync was claiming CIDs.
const GRACE_MS = 60_000

/**
 * @example
 * import { verify } from '@dmtp/sdk'
 * const report = await verify(client)
 * if (!report.ok) console.error(report.details)
 */
export async function verify(
  client: DmtpClientBase,
  { room, chain, onProgress }: VerifyParameters = {},
): Promise<VerifyReturnType> {
  const reader = await registryReader(client, chain)
  if (!reader) throw new NotAnchoredError()
  const { manifests, breaks } = await readManifests(client, reader, onProgress)
  const anchoredByRoom = new Map<string, { cid: string; createdAt: number; previousAt: number }[]>()
  const anchoredLogs = new Map<string, { cid: string; createdAt: number; previousAt: number }[]>()
  const replacements = new Map<string, string>()
  let previousAt = 0
  let lastSyncAt = 0
  for (const { manifest } of manifests) {
    if (!manifest) continue
    for (const [old, replacement] of Object.entries(manifest.replaced)) replacements.set(old, replacement)
    const createdAt = Date.parse(manifest.createdAt)
    for (const [byRoom, lists] of [
      [anchoredByRoom, manifest.rooms],
      [anchoredLogs, manifest.logs ?? {}],
    ] as const) {
      for (const [roomId, cids] of Object.entries(lists)) {
        const list = byRoom.get(roomId) ?? []
        byRoom.set(roomId, list)
        for (const cid of cids) list.push({ cid, createdAt, previousAt })
      }
    }
    previousAt = createdAt
    lastSyncAt = Math.max(lastSyncAt, createdAt)
  }

  const mine = (await getRooms(client)).filter((entry) => entry.membership.status === 'member')
  const rooms = room ? mine.filter((entry) => entry.room.id === room) : mine
  if (room && rooms.length === 0) {
    throw new ApiError({
      code: 'not_member',
      message: 'You are not a member of this room: there is nothing of yours to verify in it.',
    })
  }
  const report: VerifyReturnType = {
    anchored: 0,
    pending: 0,
    missing: 0,
    altered: 0,
    replaced: 0,
    keys: { anchored: 0, mismatched: 0, pending: 0 },
    manifests: {
      count: manifests.length,
      unavailable: manifests.filter((m) => !m.manifest).length,
      breaks,
      lastSyncAt: lastSyncAt ? new Date(lastSyncAt).toISOString() : null,
    },
    details: [],
    keyDetails: [],
    ok: true,
  }
  for (const [done, entry] of rooms.entries()) {
    const id = entry.room.id
    const records = await roomHistory(client, id, onProgress)
    const messages = records.filter((record): record is MessageRecord => 'envelope' in record)
    const entries = records.filter((record): record is LogRecord => 'entry' in record)
    await checkRoom(client, id, 'message', messages, anchoredByRoom.get(id) ?? [], replacements, lastSyncAt, report, onProgress)
    if (entry.room.type !== 'p2p') {
      await checkRoom(client, id, 'log', entries, anchoredLogs.get(id) ?? [], new Map(), lastSyncAt, report, onProgress)
      const log = roomLog(client, id)
      await log.sync()
      for (const actor of new Set(entries.map((record) => record.entry.event.actor))) await log.verifyActor(actor)
      for (const problem of log.problems) {
        report.altered++
        report.details.push({
          room: id,
          kind: 'log',
          cid: problem.cid,
          seq: problem.seq,
          status: 'altered',
          reason: problem.problem,
        })
      }
    }
    onProgress?.({ phase: 'rooms', done: done + 1, total: rooms.length })
  }

  const wallet = await client.getWallet()
  for (const address of new Set([wallet.address, ...rooms.flatMap((entry) => (entry.peer ? [entry.peer] : []))])) {
    const served = await getKeyBundle(client, { address })
    if (!served.registered) {
      report.keyDetails.push({ address, cid: null, status: 'unregistered', reason: 'no key bundle on this server' })
      continue
    }
    const bundle = await client.state.bundles.get(served.cid)?.catch(() => undefined)
    const anchor = bundle
      ? await keyAnchorStatus(client, bundle, reader)
      : { status: 'mismatched' as const, reason: served.verified ? 'unverified' : served.problem }
    if (anchor.status === 'anchored') report.keys.anchored++
    else if (anchor.status === 'pending') report.keys.pending++
    else report.keys.mismatched++
    report.keyDetails.push({ address, cid: served.cid, status: anchor.status, reason: anchor.reason })
  }
  report.ok = report.missing === 0 && report.altered === 0 && report.keys.mismatched === 0 && report.manifests.unavailable === 0
  return report
}

/** Every position of a room, oldest first. */
async function roomHistory(client: DmtpClientBase, room: string, onProgress?: ProgressReporter): Promise<RoomRecord[]> {
  const records: RoomRecord[] = []
  for (let cursor: number | null = 0; cursor !== null; ) {
    const page: { messages: RoomRecord[]; nextCursor: number | null } = await authedRequest(client, {
      method: 'GET',
      path: `/v1/rooms/${room}/messages`,
      query: { cursor, limit: PAGE, order: 'asc' },
      schema: messagesResponseSchema,
    })
    records.push(...page.messages)
    cursor = page.nextCursor
    onProgress?.({ phase: 'messages', done: records.length, total: records.length })
  }
  return records
}

type Checked = { cid: string; seq: number; receivedAt: string; envelope?: Envelope; entry?: LogRecord['entry'] }

/**
 * Compares one kind of a room's positions (messages, or log entries) with the anchored CIDs of
 * that kind, in order.
 */
async function checkRoom(
  client: DmtpClientBase,
  room: string,
  kind: 'message' | 'log',
  records: Checked[],
  anchored: { cid: string; createdAt: number; previousAt: number }[],
  replacements: Map<string, string>,
  lastSyncAt: number,
  report: VerifyReturnType,
  onProgress?: ProgressReporter,
): Promise<void> {
  const crypto = await client.getCrypto()
  onProgress?.({ phase: 'messages', done: records.length, total: Math.max(records.length, anchored.length) })
  const position = new Map(anchored.map((entry, index) => [entry.cid, index]))
  // A migrated envelope takes the place of the relayed one it replaced (anchored replacement).
  for (const [index, entry] of anchored.entries()) {
    const replacement = replacements.get(entry.cid)
    if (replacement) position.set(replacement, index)
  }
  const matched = new Set<number>()
  const unanchored: { record: Checked; cid: string; after: boolean }[] = []
  const idOf = (record: { envelope?: Envelope; entry?: LogRecord['entry'] }) => record.envelope?.id ?? record.entry?.event.id
  const flag = (
    status: VerifyDetail['status'],
    record: { cid: string; envelope?: Envelope; entry?: LogRecord['entry']; seq?: number },
    reason: string,
  ) => {
    report[status]++
    report.details.push({ room, kind, cid: record.cid, id: idOf(record), seq: record.seq, status, reason })
  }
  let highest = -1
  for (const record of records) {
    const computed = toBlock(record.envelope ?? record.entry, crypto.sha256).cid
    const claimed = position.get(record.cid)
    if (computed !== record.cid) {
      // The server changed the envelope but kept its CID label: the anchored original is gone.
      if (claimed !== undefined) matched.add(claimed)
      flag('altered', record, 'the served envelope does not hash to its CID')
      continue
    }
    let index = position.get(computed)
    let pendingReplacement = false
    const envelope = record.envelope
    if (index === undefined && envelope?.suite === MIGRATED_SUITE && (await madeByReceiver(client, envelope))) {
      // Made end-to-end after the last sync: its replacement record is not anchored yet.
      index = position.get(envelope.replaces)
      pendingReplacement = index !== undefined
    }
    if (index === undefined) {
      unanchored.push({ record, cid: computed, after: true })
      continue
    }
    if (envelope?.suite === MIGRATED_SUITE) report.replaced++
    matched.add(index)
    const entry = anchored[index] as (typeof anchored)[number]
    const receivedAt = Date.parse(record.receivedAt)
    if (index < highest) flag('altered', record, 'served out of its anchored order')
    else if (receivedAt < entry.previousAt - GRACE_MS || receivedAt > entry.createdAt + GRACE_MS) {
      flag('altered', record, 'its received time does not fit the sync that anchored it')
    } else if (pendingReplacement) {
      report.pending++
      report.details.push({
        room,
        kind,
        cid: record.cid,
        id: idOf(record),
        seq: record.seq,
        status: 'pending',
        reason: 'made end-to-end since the last sync',
      })
    } else report.anchored++
    highest = Math.max(highest, index)
    for (const earlier of unanchored) earlier.after = false
  }

  const missing = anchored.map((entry, index) => ({ ...entry, index })).filter((entry) => !matched.has(entry.index))
  const missingIds = new Map<string, string>()
  for (const entry of missing) {
    const value = await fetchBlock(client, entry.cid).catch(() => undefined)
    const block = kind === 'message' ? envelopeSchema.safeParse(value) : undefined
    if (block?.success) missingIds.set(block.data.id, entry.cid)
    const logged = value as LogRecord['entry'] | undefined
    if (kind === 'log' && typeof logged?.event?.id === 'string') missingIds.set(logged.event.id, entry.cid)
  }
  const replaced = new Set<string>()
  for (const { record, after } of unanchored) {
    const original = missingIds.get(idOf(record) ?? '')
    if (original) {
      replaced.add(original)
      flag('altered', record, `differs from the anchored message ${original}`)
    } else if (after && Date.parse(record.receivedAt) >= lastSyncAt - GRACE_MS) {
      report.pending++
      report.details.push({
        room,
        kind,
        cid: record.cid,
        id: idOf(record),
        seq: record.seq,
        status: 'pending',
        reason: 'newer than the last sync',
      })
    } else {
      flag('altered', record, after ? 'dated before the last sync but in none' : 'inserted among anchored messages')
    }
  }
  for (const entry of missing) {
    if (!replaced.has(entry.cid)) flag('missing', { cid: entry.cid }, 'anchored, but no longer in the history')
  }
}

/** A migrated envelope counts as a replacement only if its receiver, who made it, signed it. */
async function madeByReceiver(client: DmtpClientBase, envelope: MigratedEnvelope): Promise<boolean> {
  const crypto = await client.getCrypto()
  const receiver = await bundleByCid(client, envelope.receiverKey, envelope.receiver).catch(() => undefined)
  return receiver !== undefined && verifyEnvelopeSignature(crypto, envelope, receiver.ed25519)
}

export type NotAnchoredErrorType = NotAnchoredError & { name: 'NotAnchoredError' }

export class NotAnchoredError extends BaseError {
  override name = 'NotAnchoredError'
  constructor() {
    super('This server does not anchor on a chain, so there is nothing to verify against.', {
      metaMessages: ['Pass the chain to check (RPC URL and registry address) if you know it.'],
    })
  }
}
