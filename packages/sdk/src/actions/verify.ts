/**
 * Checks a server against the chain (DESIGN §3, "catches a lying server"). For each of the
 * wallet's rooms, the anchored history (manifests on chain, in order) is compared with what the
 * server serves, messages and membership-log entries alike, with every CID recomputed here:
 *
 * - `anchored`: served, unchanged, in its anchored order, at a time consistent with its anchor;
 * - `pending`: newer than the last sync (after every anchored message, received after the sync);
 * - `missing`: anchored, but the server no longer serves it in the history;
 * - `altered`: served but changed, reordered, back-dated, listed twice, or inserted after a sync
 *   that should have listed it;
 * - `unavailable`: cannot be checked, because the anchored manifest that would list it (or every
 *   block of a room) is not served. Never counted as altered: the server may have lost a block.
 *
 * The rooms checked are the wallet's as the chain shows them, not only as the server lists them
 * (`_anchored-rooms.ts`): a room the server hides from the wallet fails verify (`hiddenRooms`).
 *
 * A room's membership log is also replayed (`_room-log.ts`): an entry the replay refuses (forged,
 * unsigned, not allowed at its place) counts as altered. Key bundles: each wallet's current bundle
 * (its own, and its 1:1 peers') is checked against its CID on chain. Each manifest's time bounds
 * are checked against the chain's blocks (`_time-bounds.ts`), and records whose `receivedAt` is far
 * from their signed time are counted.
 *
 * The chain is read through an RPC the user chose (`rpcUrl`, or `createClient({ chain })`) when
 * given: the registry and chain id are the pinned ones either way, but an RPC the operator runs
 * could answer with an older key CID or fewer anchors. Without one, `warnings` says so.
 */
import { ApiError, type LogRecord, type MessageRecord, messagesResponseSchema, type RoomRecord } from '@dmtp/protocol'
import { anchoredRoomsOf } from '../_anchored-rooms.js'
import { type ChainTarget, registryReader } from '../_chain.js'
import { type AnchoredPosition, checkRoom, unavailableWindows } from '../_check-room.js'
import { timeWarnings } from '../_decrypt.js'
import { type ProgressReporter, readManifests } from '../_manifests.js'
import { roomLog } from '../_room-log.js'
import { authedRequest } from '../_session.js'
import { checkTimeBounds, type TimeBoundProblem } from '../_time-bounds.js'
import type { DmtpClientBase } from '../client.js'
import { getKeyBundle, type KeyAnchorStatus, keyAnchorStatus } from './get-key-bundle.js'
import { getRooms } from './get-rooms.js'

export type VerifyParameters = {
  /** Only this room (default: every conversation of the wallet). */
  room?: string | undefined
  /**
   * An RPC you chose (your node, or a provider you trust) to read the registry through: the
   * registry and chain id stay the pinned ones, and the RPC must serve that chain id. Default: the
   * client's `chain.rpcUrl`, else the RPC the server names (which its operator may run).
   */
  rpcUrl?: string | undefined
  /** The chain to trust, RPC and registry; default: the pinned registry, read as `rpcUrl` says. */
  chain?: ChainTarget | undefined
  onProgress?: ProgressReporter | undefined
}

export type MessageCheck = 'anchored' | 'pending' | 'missing' | 'altered' | 'unavailable'

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

/**
 * `operator_rpc`: the chain was read only through the RPC the server names (its operator may run
 * it, and answer with an older key or fewer anchors); pass `rpcUrl` to check through your own.
 * `no_time_bound`: some manifests carry no lower time bound (made by an older server).
 * `weak_time_bound`: a manifest names a block over a day older than its anchor.
 * `received_at_skew`: records the server dates far from their signed time (see `receivedAtSkew`).
 */
export type VerifyWarning = {
  code: 'operator_rpc' | 'no_time_bound' | 'weak_time_bound' | 'received_at_skew'
  message: string
}

export type VerifyReturnType = {
  /** The chain checked against: the pinned registry and chain id, and whose RPC was read. */
  chain: { chainId: number | null; registry: string; rpcUrl: string; source: 'user' | 'operator' }
  anchored: number
  pending: number
  missing: number
  altered: number
  /** Served positions that cannot be checked: the manifest that would list them is not served. */
  unavailable: number
  /** Rooms the anchored manifests show are the wallet's, but the server does not list as its. */
  hiddenRooms: string[]
  /** Relayed messages made end-to-end (pattern β) and shown in their place: not failures. */
  replaced: number
  keys: { anchored: number; mismatched: number; pending: number }
  manifests: { count: number; unavailable: number; breaks: number; lastSyncAt: string | null }
  /** Every message that is not plainly anchored, and why. */
  details: VerifyDetail[]
  keyDetails: { address: string; cid: string | null; status: KeyAnchorStatus | 'unregistered'; reason: string }[]
  /**
   * Manifests whose lower time bound (the block they name) holds on chain, manifests without one,
   * and manifests whose bounds fail (back-dated, a block not on chain, dated after their anchor).
   */
  timeBounds: { bounded: number; unbounded: number; failed: number }
  timeBoundDetails: TimeBoundProblem[]
  /** Records whose `receivedAt` is over `RECEIVED_AT_SKEW_MS` from their signed time. */
  receivedAtSkew: number
  skewDetails: { room: string; kind: 'message' | 'log'; cid: string; seq: number; signedAt: string; receivedAt: string }[]
  warnings: VerifyWarning[]
  /** True when nothing is missing, altered, unavailable, hidden or mismatched, and every time bound holds. */
  ok: boolean
}

const PAGE = 500
// A room the server hides from the wallet answers its history with one of these.
const HIDDEN = new Set(['room_not_found', 'not_found', 'not_member', 'forbidden'])

/**
 * @example
 * import { verify } from '@dmtp/sdk'
 * const report = await verify(client)
 * if (!report.ok) console.error(report.details)
 */
export async function verify(
  client: DmtpClientBase,
  { room, rpcUrl, chain, onProgress }: VerifyParameters = {},
): Promise<VerifyReturnType> {
  const reader = await registryReader(client, chain ?? (rpcUrl ? { rpcUrl } : undefined))
  if (!reader) throw new NotAnchoredError()
  const { manifests, breaks } = await readManifests(client, reader, onProgress)
  const bounds = await checkTimeBounds(reader, manifests)
  const anchoredByRoom = new Map<string, AnchoredPosition[]>()
  const anchoredLogs = new Map<string, AnchoredPosition[]>()
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
  const listed = (room ? mine.filter((entry) => entry.room.id === room) : mine).map((entry) => ({
    id: entry.room.id,
    group: entry.room.type !== 'p2p',
    peer: entry.peer,
    hidden: false,
  }))
  if (room && listed.length === 0) {
    throw new ApiError({
      code: 'not_member',
      message: 'You are not a member of this room: there is nothing of yours to verify in it.',
    })
  }
  const wallet = await client.getWallet()
  const { found, unknown } = room
    ? { found: [], unknown: [] }
    : await anchoredRoomsOf(client, {
        address: wallet.address,
        messages: anchoredByRoom,
        logs: anchoredLogs,
        replacements,
        known: new Set(mine.map((entry) => entry.room.id)),
      })
  const rooms = [...listed, ...found.map((entry) => ({ id: entry.room, group: entry.group, peer: entry.peer, hidden: true }))]
  const gaps = unavailableWindows(manifests)
  const report: VerifyReturnType = {
    chain: { chainId: reader.chainId ?? null, ...reader.target, source: reader.source },
    anchored: 0,
    pending: 0,
    missing: 0,
    altered: 0,
    unavailable: 0,
    hiddenRooms: found.map((entry) => entry.room),
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
    timeBounds: { bounded: bounds.bounded, unbounded: bounds.unbounded, failed: bounds.failures.length },
    timeBoundDetails: bounds.failures,
    receivedAtSkew: 0,
    skewDetails: [],
    warnings: [],
    ok: true,
  }
  for (const { room: id, cid } of unknown) {
    report.unavailable++
    report.details.push({
      room: id,
      kind: 'message',
      cid,
      status: 'unavailable',
      reason: 'an anchored room none of whose blocks is served: whose room it is cannot be told',
    })
  }
  for (const [done, entry] of rooms.entries()) {
    const id = entry.id
    const records: RoomRecord[] = await roomHistory(client, id, onProgress).catch((error: unknown) => {
      if (entry.hidden && error instanceof ApiError && HIDDEN.has(error.code)) return []
      throw error
    })
    const messages = records.filter((record): record is MessageRecord => 'envelope' in record)
    const entries = records.filter((record): record is LogRecord => 'entry' in record)
    for (const record of records) {
      const signedAt = 'entry' in record ? record.entry.event.at : (record.envelope as { timestamp: string }).timestamp
      if (!timeWarnings(signedAt, record.receivedAt).warnings) continue
      report.receivedAtSkew++
      const kind = 'entry' in record ? 'log' : 'message'
      report.skewDetails.push({ room: id, kind, cid: record.cid, seq: record.seq, signedAt, receivedAt: record.receivedAt })
    }
    const shared = { client, room: id, replacements, lastSyncAt, gaps, report, onProgress }
    await checkRoom({ ...shared, kind: 'message', records: messages, anchored: anchoredByRoom.get(id) ?? [] })
    if (entry.group) {
      await checkRoom({ ...shared, kind: 'log', records: entries, anchored: anchoredLogs.get(id) ?? [], replacements: new Map() })
      // A hidden room's log is not served: its entries are counted missing above.
      if (entry.hidden) continue
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
  report.warnings = verifyWarnings(report, bounds.weak)
  report.ok =
    report.timeBounds.failed === 0 &&
    report.missing === 0 &&
    report.altered === 0 &&
    report.unavailable === 0 &&
    report.hiddenRooms.length === 0 &&
    report.keys.mismatched === 0 &&
    report.manifests.unavailable === 0
  return report
}

function verifyWarnings(report: VerifyReturnType, weak: TimeBoundProblem[]): VerifyWarning[] {
  const warnings: VerifyWarning[] = []
  if (report.chain.source === 'operator') {
    warnings.push({
      code: 'operator_rpc',
      message: `the chain was read only through ${report.chain.rpcUrl}, the RPC this server names; check through an RPC of your own (rpcUrl)`,
    })
  }
  if (report.timeBounds.unbounded > 0) {
    warnings.push({
      code: 'no_time_bound',
      message: `${report.timeBounds.unbounded} manifest(s) carry no lower time bound (made before manifests named a block)`,
    })
  }
  for (const problem of weak) warnings.push({ code: 'weak_time_bound', message: `manifest ${problem.cid}: ${problem.reason}` })
  if (report.receivedAtSkew > 0) {
    warnings.push({
      code: 'received_at_skew',
      message: `${report.receivedAtSkew} record(s) dated by the server over 5 minutes from their signed time`,
    })
  }
  return warnings
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

export type NotAnchoredErrorType = NotAnchoredError & { name: 'NotAnchoredError' }

/** The server names no chain (and none was given): code `chain_unavailable`, as the server's anchoring routes answer. */
export class NotAnchoredError extends ApiError {
  override name = 'NotAnchoredError'
  constructor() {
    super({
      code: 'chain_unavailable',
      message: 'This server does not anchor on a chain, so there is nothing to verify against.',
      metaMessages: ['Pass the chain to check (RPC URL and registry address) if you know it.'],
    })
  }
}
