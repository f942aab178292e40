/**
 * One room's served positions of one kind (messages, or membership-log entries) compared with the
 * CIDs anchored for it, in order: the heart of `verify` (see `actions/verify.ts` for the verdicts).
 * @internal
 */
import {
  type Envelope,
  envelopeSchema,
  type LogRecord,
  MIGRATED_SUITE,
  type MigratedEnvelope,
  toBlock,
  verifyEnvelopeSignature,
} from '@dmtp/protocol'
import { fetchBlock } from './_blocks.js'
import type { AnchoredManifest, ProgressReporter } from './_manifests.js'
import { bundleByCid } from './actions/get-key-bundle.js'
import type { VerifyDetail, VerifyReturnType } from './actions/verify.js'
import type { DmtpClientBase } from './client.js'

// Slack for clocks and for messages committed while a sync was claiming CIDs.
export const GRACE_MS = 60_000

export type AnchoredPosition = { cid: string; createdAt: number; previousAt: number }

/** The span of received times (ms) an anchored manifest that is not served can list: from its served neighbours. */
export type Gap = { after: number; before: number }

export function unavailableWindows(manifests: AnchoredManifest[]): Gap[] {
  const times = manifests.map((entry) => (entry.manifest ? Date.parse(entry.manifest.createdAt) : undefined))
  return manifests.flatMap((entry, index) => {
    if (entry.manifest) return []
    const after = times.slice(0, index).findLast((time) => time !== undefined) ?? 0
    const before = times.slice(index + 1).find((time) => time !== undefined) ?? Number.POSITIVE_INFINITY
    return [{ after, before }]
  })
}

type Checked = { cid: string; seq: number; receivedAt: string; envelope?: Envelope; entry?: LogRecord['entry'] }

/**
 * Compares one kind of a room's positions (messages, or log entries) with the anchored CIDs of
 * that kind, in order.
 */
export async function checkRoom({
  client,
  room,
  kind,
  records,
  anchored,
  replacements,
  lastSyncAt,
  gaps,
  report,
  onProgress,
}: {
  client: DmtpClientBase
  room: string
  kind: 'message' | 'log'
  records: Checked[]
  anchored: AnchoredPosition[]
  replacements: Map<string, string>
  lastSyncAt: number
  gaps: Gap[]
  report: VerifyReturnType
  onProgress?: ProgressReporter | undefined
}): Promise<void> {
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
  const served = new Set<string>()
  for (const record of records) {
    // The same record twice (at two positions) is one record, and a lie about the history.
    if (served.has(record.cid)) {
      flag('altered', record, 'the history lists this record twice')
      continue
    }
    served.add(record.cid)
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
    const receivedAt = Date.parse(record.receivedAt)
    if (original) {
      replaced.add(original)
      flag('altered', record, `differs from the anchored message ${original}`)
    } else if (gaps.some((gap) => receivedAt >= gap.after - GRACE_MS && receivedAt <= gap.before)) {
      // A manifest lists only what was received before it was made, so before the next one was.
      flag('unavailable', record, 'the anchored manifest that would list it is not served')
    } else if (after && receivedAt >= lastSyncAt - GRACE_MS) {
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
