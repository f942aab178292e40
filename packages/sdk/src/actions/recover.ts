/**
 * Rebuilds a room's history from the chain and the block store alone, with no help from the
 * server's database: the anchored manifests list the room's envelopes and membership-log entries
 * in order, each is fetched by CID and hash-checked (and a public message's content block by the
 * CID its envelope names), the key bundles they name are fetched the same way, the log is
 * replayed, and the wallet unlocks the keys to decrypt.
 *
 * Every block that could not be fetched is reported by kind: a manifest (whose room lists are
 * unknown, so any of them may be this room's), an envelope or log entry (a position lost), a
 * content block (a public message's words lost, unless a recall deleted them), or a key bundle
 * (the messages made with it cannot be read).
 */
import {
  envelopeSchema,
  type LogRecord,
  logEntrySchema,
  messageContentSchema,
  RELAY_SUITE,
  type RoomRecord,
  SIGNED_SUITE,
} from '@dmtp/protocol'
import { fetchBlock } from '../_blocks.js'
import { type ChainTarget, registryReader } from '../_chain.js'
import { type DecryptedMessage, decryptRecord } from '../_decrypt.js'
import { type ProgressReporter, readManifests } from '../_manifests.js'
import { RoomLog } from '../_room-log.js'
import type { DmtpClientBase } from '../client.js'
import { KeyBundleRejectedError } from '../errors.js'
import { bundleByCid } from './get-key-bundle.js'
import { NotAnchoredError } from './verify.js'

export type RecoverParameters = {
  room: string
  chain?: ChainTarget | undefined
  onProgress?: ProgressReporter | undefined
}

export type RecoveredMessage = DecryptedMessage & { manifest: { chainIndex: number; cid: string } }

export type UnavailableBlockKind = 'manifest' | 'envelope' | 'log_entry' | 'content' | 'key_bundle'

/** An anchored block (or one an anchored block names) that could not be fetched intact. */
export type UnavailableBlock = { kind: UnavailableBlockKind; cid: string; reason: string }

export type RecoverReturnType = {
  room: string
  /** Every position recovered, in room order; `status` says why one has no text. */
  messages: RecoveredMessage[]
  /** Positions whose text could be read (`status` `ok`). */
  readable: number
  /** Every block that could not be fetched, each once. Empty when the history is complete. */
  unavailable: UnavailableBlock[]
}

type Listed = { cid: string; chainIndex: number; manifest: string; at: string }

/**
 * @example
 * import { recover } from '@dmtp/sdk'
 * const { messages, unavailable } = await recover(client, { room })
 * for (const block of unavailable) console.error(`missing ${block.kind} ${block.cid}`)
 */
export async function recover(
  client: DmtpClientBase,
  { room, chain, onProgress }: RecoverParameters,
): Promise<RecoverReturnType> {
  const reader = await registryReader(client, chain)
  if (!reader) throw new NotAnchoredError()
  const { manifests } = await readManifests(client, reader, onProgress)
  const unavailable = new Map<string, UnavailableBlock>()
  const report = (kind: UnavailableBlockKind, cid: string, reason: string) => {
    if (!unavailable.has(cid)) unavailable.set(cid, { kind, cid, reason })
  }
  for (const entry of manifests) {
    if (!entry.manifest) report('manifest', entry.cid, entry.problem ?? 'not served')
  }
  const listed = (pick: 'rooms' | 'logs') =>
    manifests.flatMap((entry) =>
      (entry.manifest?.[pick]?.[room] ?? []).map(
        (cid): Listed => ({ cid, chainIndex: entry.chainIndex, manifest: entry.cid, at: entry.manifest?.createdAt as string }),
      ),
    )
  const entries: { item: Listed; record: LogRecord }[] = []
  for (const item of listed('logs')) {
    const entry = logEntrySchema.safeParse(await fetchBlock(client, item.cid).catch(() => undefined))
    if (entry.success)
      entries.push({ item, record: { cid: item.cid, seq: entry.data.seq, receivedAt: item.at, entry: entry.data } })
    else report('log_entry', item.cid, 'not served intact')
  }
  // Positions: log entries name theirs; envelopes fill the others, in their anchored order.
  const positions = new Map(entries.map((entry) => [entry.record.seq, entry]))
  const envelopes = listed('rooms')
  const total = envelopes.length + entries.length
  // The log is replayed from these entries only, never from the server's.
  const log = new RoomLog(client, room)
  log.detach()
  const previous = client.state.roomLogs.get(room)
  client.state.roomLogs.set(room, log)
  const messages: RecoveredMessage[] = []
  const records: RoomRecord[] = []
  const lostContent = new Map<string, string>()
  try {
    await readPositions()
  } finally {
    if (previous) client.state.roomLogs.set(room, previous)
    else client.state.roomLogs.delete(room)
  }
  reportLostContent()
  await reportLostKeys()
  return {
    room,
    messages,
    readable: messages.filter((message) => message.status === 'ok').length,
    unavailable: [...unavailable.values()],
  }

  async function readPositions(): Promise<void> {
    let next = 0
    for (let seq = 1; seq <= total; seq++) {
      const logged = positions.get(seq)
      const item = logged?.item ?? envelopes[next++]
      if (!item) break
      const record = logged ? logged.record : await envelopeRecord(client, item, seq)
      if (!record) {
        report('envelope', item.cid, 'not served intact')
        continue
      }
      if ('envelope' in record && record.envelope.suite === SIGNED_SUITE && record.content === null)
        lostContent.set(record.envelope.id, record.envelope.content)
      const message = await decryptRecord(client, record)
      records.push(record)
      messages.push({ ...message, manifest: { chainIndex: item.chainIndex, cid: item.manifest } })
      onProgress?.({ phase: 'messages', done: seq, total })
    }
  }

  /** A content block is gone legitimately only when a recall its author (or a moderator) signed says so. */
  function reportLostContent(): void {
    const recalled = new Set(
      messages.flatMap((message) => (message.type === 'recall' && message.status === 'ok' && message.ref ? [message.ref] : [])),
    )
    for (const [id, cid] of lostContent) if (!recalled.has(id)) report('content', cid, 'not served intact')
  }

  /** For each position that could not be read for want of a key, which named key bundle is missing. */
  async function reportLostKeys(): Promise<void> {
    const named = new Set<string>()
    for (const [i, message] of messages.entries()) {
      if (message.status !== 'unknown_key' && message.status !== 'invalid_signature') continue
      const record = records[i] as RoomRecord
      if ('entry' in record) named.add(record.entry.event.actorKey)
      else {
        named.add(record.envelope.senderKey)
        if ('receiverKey' in record.envelope) named.add(record.envelope.receiverKey)
      }
    }
    for (const cid of named) {
      await bundleByCid(client, cid).catch((error: unknown) => {
        report('key_bundle', cid, error instanceof KeyBundleRejectedError ? error.shortMessage : 'not served intact')
      })
    }
  }
}

/** An anchored envelope as a record; the anchoring manifest's time stands in for the (lost) time the server received it. */
async function envelopeRecord(client: DmtpClientBase, item: Listed, seq: number): Promise<RoomRecord | undefined> {
  const envelope = envelopeSchema.safeParse(await fetchBlock(client, item.cid).catch(() => undefined))
  if (!envelope.success) return undefined
  const record = {
    cid: item.cid,
    seq,
    e2ee: envelope.data.suite !== SIGNED_SUITE && envelope.data.suite !== RELAY_SUITE,
    receivedAt: item.at,
    envelope: envelope.data,
  }
  if (envelope.data.suite !== SIGNED_SUITE) return record
  // A recalled message's words are deleted everywhere: its content block is gone, its envelope is not.
  const content = messageContentSchema.safeParse(await fetchBlock(client, envelope.data.content).catch(() => undefined))
  return { ...record, content: content.success ? content.data : null }
}
