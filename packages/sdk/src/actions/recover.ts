/**
 * Rebuilds a room's history from the chain and the block store alone, with no help from the
 * server's database: the anchored manifests list the room's envelopes in order, each envelope is
 * fetched by CID and hash-checked, the key bundles it names are fetched the same way, and the
 * wallet unlocks the keys to decrypt.
 */
import { envelopeSchema } from '@dmtp/protocol'
import { fetchBlock } from '../_blocks.js'
import { type ChainTarget, registryReader } from '../_chain.js'
import { type DecryptedMessage, decryptRecord } from '../_decrypt.js'
import { type ProgressReporter, readManifests } from '../_manifests.js'
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
  /** Anchored envelopes whose blocks could not be fetched. */
  unavailable: string[]
}

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
  const listed = manifests.flatMap((entry) =>
    (entry.manifest?.rooms[room] ?? []).map((cid) => ({
      cid,
      chainIndex: entry.chainIndex,
      manifest: entry.cid,
      at: entry.manifest?.createdAt as string,
    })),
  )
  const messages: RecoveredMessage[] = []
  const unavailable: string[] = []
  for (const [index, item] of listed.entries()) {
    const envelope = envelopeSchema.safeParse(await fetchBlock(client, item.cid).catch(() => undefined))
    if (!envelope.success) {
      unavailable.push(item.cid)
      continue
    }
    // The anchoring manifest's time stands in for the (lost) time the server received it.
    const message = await decryptRecord(client, {
      cid: item.cid,
      seq: index + 1,
      e2ee: true,
      receivedAt: item.at,
      envelope: envelope.data,
    })
    messages.push({ ...message, manifest: { chainIndex: item.chainIndex, cid: item.manifest } })
    onProgress?.({ phase: 'messages', done: index + 1, total: listed.length })
  }
  return { room, messages, unavailable }
}
