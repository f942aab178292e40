/**
 * Rebuilds a room's history from the chain and the block store alone, with no help from the
 * server's database: the anchored manifests list the room's envelopes and membership-log entries
 * in order, each is fetched by CID and hash-checked (and a public message's content block by the
 * CID its envelope names), the key bundles they name are fetched the same way, the log is
 * replayed, and the wallet unlocks the keys to decrypt.
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
import { NotAnchoredError } from './verify.js'

export type RecoverParameters = {
  room: string
  chain?: ChainTarget | undefined
  onProgress?: ProgressReporter | undefined
}

export type RecoveredMessage = DecryptedMessage & { manifest: { chainIndex: number; cid: string } }

export type RecoverReturnType = {
  room: string
  messages: RecoveredMessage[]
  /** Anchored blocks that could not be fetched. */
  unavailable: string[]
}

type Listed = { cid: string; chainIndex: number; manifest: string; at: string }

/**
 * @example
 * import { recover } from '@dmtp/sdk'
 * const { messages } = await recover(client, { room })
 */
export async function recover(
  client: DmtpClientBase,
  { room, chain, onProgress }: RecoverParameters,
): Promise<RecoverReturnType> {
  const reader = await registryReader(client, chain)
  if (!reader) throw new NotAnchoredError()
  const { manifests } = await readManifests(client, reader, onProgress)
  const listed = (pick: 'rooms' | 'logs') =>
    manifests.flatMap((entry) =>
      (entry.manifest?.[pick]?.[room] ?? []).map(
        (cid): Listed => ({ cid, chainIndex: entry.chainIndex, manifest: entry.cid, at: entry.manifest?.createdAt as string }),
      ),
    )
  const unavailable: string[] = []
  const entries: { item: Listed; record: LogRecord }[] = []
  for (const item of listed('logs')) {
    const entry = logEntrySchema.safeParse(await fetchBlock(client, item.cid).catch(() => undefined))
    if (entry.success)
      entries.push({ item, record: { cid: item.cid, seq: entry.data.seq, receivedAt: item.at, entry: entry.data } })
    else unavailable.push(item.cid)
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
  try {
    await readPositions()
  } finally {
    if (previous) client.state.roomLogs.set(room, previous)
    else client.state.roomLogs.delete(room)
  }
  return { room, messages, unavailable }

  async function readPositions(): Promise<void> {
    let next = 0
    for (let seq = 1; seq <= total; seq++) {
      const logged = positions.get(seq)
      const item = logged?.item ?? envelopes[next++]
      if (!item) break
      const record = logged ? logged.record : await envelopeRecord(client, item, seq)
      if (!record) {
        unavailable.push(item.cid)
        continue
      }
      const message = await decryptRecord(client, record)
      messages.push({ ...message, manifest: { chainIndex: item.chainIndex, cid: item.manifest } })
      onProgress?.({ phase: 'messages', done: seq, total })
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
