/**
 * The wallet's rooms as the chain shows them, for `verify`: a server that hides a whole room (drops
 * it from the wallet's room list and from its history) would otherwise leave nothing to compare.
 * Each anchored room the server does not list as the wallet's is looked at in the block store:
 *
 * - a 1:1 room is the wallet's when an anchored envelope of it names the wallet as its sender or
 *   receiver (one block tells: both are in every pair envelope);
 * - a group is the wallet's when its anchored membership log, replayed, ends with the wallet a
 *   member of a room not deleted. Signatures are not checked here: a forged entry can only make
 *   verify check one room more, where the log replay refuses it.
 *
 * A room none of whose blocks can be fetched cannot be told apart: it is reported, not skipped.
 * @internal
 */
import { envelopeSchema, type LogEntry, logEntrySchema, RoomLogState } from '@dmtp/protocol'
import { fetchBlock } from './_blocks.js'
import type { DmtpClientBase } from './client.js'

export type AnchoredRoom = { room: string; group: boolean; peer: string | null }

export type AnchoredRoomsOfParameters = {
  address: string
  /** Anchored envelope CIDs per room, in room order. */
  messages: ReadonlyMap<string, readonly { cid: string }[]>
  /** Anchored membership-log entry CIDs per room, in log order. */
  logs: ReadonlyMap<string, readonly { cid: string }[]>
  /** Relayed envelopes replaced by migrated ones (pattern β): the old block is deleted. */
  replacements: ReadonlyMap<string, string>
  /** Rooms already known to be the wallet's (the server lists them). */
  known: ReadonlySet<string>
}

export type AnchoredRoomsOfReturnType = {
  /** The wallet's rooms among the others. */
  found: AnchoredRoom[]
  /** Rooms whose anchored blocks cannot be fetched, with the first such block. */
  unknown: { room: string; cid: string }[]
}

// Envelopes tried per 1:1 room before it counts as unknown: an honest server serves the first.
const PROBES = 4
const PARALLEL = 8

export async function anchoredRoomsOf(
  client: DmtpClientBase,
  { address, messages, logs, replacements, known }: AnchoredRoomsOfParameters,
): Promise<AnchoredRoomsOfReturnType> {
  const others = [...new Set([...messages.keys(), ...logs.keys()])].filter((room) => !known.has(room))
  const found: AnchoredRoom[] = []
  const unknown: { room: string; cid: string }[] = []
  await inParallel(others, async (room) => {
    const log = logs.get(room) ?? []
    const verdict =
      log.length > 0
        ? await groupVerdict(client, room, address, log)
        : await pairVerdict(client, address, messages.get(room) ?? [], replacements)
    if (verdict === undefined) return
    if ('unknown' in verdict) unknown.push({ room, cid: verdict.unknown })
    else found.push({ room, ...verdict })
  })
  return { found, unknown }
}

type Verdict = { group: boolean; peer: string | null } | { unknown: string } | undefined

async function pairVerdict(
  client: DmtpClientBase,
  address: string,
  anchored: readonly { cid: string }[],
  replacements: ReadonlyMap<string, string>,
): Promise<Verdict> {
  const first = anchored[0]
  if (!first) return undefined
  for (const { cid } of anchored.slice(0, PROBES)) {
    for (const candidate of [replacements.get(cid), cid]) {
      if (!candidate) continue
      const envelope = envelopeSchema.safeParse(await fetchBlock(client, candidate).catch(() => undefined))
      if (!envelope.success) continue
      const { sender } = envelope.data
      const receiver = 'receiver' in envelope.data ? envelope.data.receiver : null
      if (sender !== address && receiver !== address) return undefined
      return { group: receiver === null, peer: sender === address ? receiver : sender }
    }
  }
  return { unknown: first.cid }
}

async function groupVerdict(
  client: DmtpClientBase,
  room: string,
  address: string,
  anchored: readonly { cid: string }[],
): Promise<Verdict> {
  const entries: { cid: string; entry: LogEntry }[] = []
  const missing: string[] = []
  await inParallel(anchored, async ({ cid }) => {
    const entry = logEntrySchema.safeParse(await fetchBlock(client, cid).catch(() => undefined))
    if (entry.success) entries.push({ cid, entry: entry.data })
    else missing.push(cid)
  })
  if (missing[0]) return { unknown: missing[0] }
  const state = new RoomLogState(room)
  for (const { cid, entry } of entries.sort((a, b) => a.entry.index - b.entry.index)) state.apply(entry, cid)
  return state.member(address).status === 'member' && !state.room.deleted ? { group: true, peer: null } : undefined
}

async function inParallel<T>(items: readonly T[], work: (item: T) => Promise<void>): Promise<void> {
  let next = 0
  const worker = async () => {
    while (next < items.length) await work(items[next++] as T)
  }
  await Promise.all(Array.from({ length: Math.min(PARALLEL, items.length) }, worker))
}
