/**
 * Turns a message record from the server into what an app shows. The server is not trusted: the
 * record's CID is recomputed, both key bundles are fetched by CID and verified, and the ciphertext
 * is authenticated by AES-GCM under the pair key. A message that fails any check is
 * returned with a status saying why, never with text.
 * @internal
 */
import {
  type MessageContent,
  type MessageRecord,
  MIGRATED_SUITE,
  openEnvelope,
  RELAY_SUITE,
  toBlock,
  verifyAuthor,
} from '@dmtp/protocol'
import { conversationKey, ownKeys } from './_keyring.js'
import { bundleByCid } from './actions/get-key-bundle.js'
import type { DmtpClientBase } from './client.js'

/**
 * `awaiting_migration`: relayed to this wallet before it set up (pattern β), not yet made end to end.
 * `invalid_author`: a migrated message whose sender signature does not match its text.
 */
export type MessageStatus =
  | 'ok'
  | 'not_for_me'
  | 'altered'
  | 'unknown_key'
  | 'undecryptable'
  | 'awaiting_migration'
  | 'invalid_author'

export type DecryptedMessage = {
  id: string
  room: string
  sender: string
  receiver: string
  /** The sender's clock, as signed. */
  timestamp: string
  /** The server's clock when it stored the message. */
  receivedAt: string
  cid: string
  /** Position in the room, from 1. */
  seq: number
  /** False for a message relayed through the server's key (pattern β) and not yet migrated. */
  e2ee: boolean
  /** The text, or null when `status` is not `ok`. */
  text: string | null
  status: MessageStatus
}

export async function decryptRecord(client: DmtpClientBase, record: MessageRecord): Promise<DecryptedMessage> {
  const { envelope } = record
  const base = {
    id: envelope.id,
    room: envelope.room,
    sender: envelope.sender,
    receiver: envelope.receiver,
    timestamp: envelope.timestamp,
    receivedAt: record.receivedAt,
    cid: record.cid,
    seq: record.seq,
    // From the suite, not from the server's word.
    e2ee: envelope.suite !== RELAY_SUITE,
  }
  const fail = (status: MessageStatus): DecryptedMessage => ({ ...base, text: null, status })
  const [wallet, crypto] = await Promise.all([client.getWallet(), client.getCrypto()])
  const mine = envelope.sender === wallet.address
  if (!mine && envelope.receiver !== wallet.address) return fail('not_for_me')
  if (toBlock(envelope, crypto.sha256).cid !== record.cid) return fail('altered')
  // Our own message, echoed: the CID matched what we sent, so every byte is what we signed.
  const sentText = mine ? client.state.sent.get(record.cid) : undefined
  if (sentText !== undefined) {
    client.state.sent.delete(record.cid)
    return { ...base, text: sentText, status: 'ok' }
  }
  // A relayed message (pattern β) is encrypted to the server's key: its receiver cannot read it
  // until it is migrated, its sender can (the peer key of the pair is the server's).
  if (envelope.suite === RELAY_SUITE && !mine) return fail('awaiting_migration')
  const ownCid = mine ? envelope.senderKey : envelope.receiverKey
  const peerAddress = envelope.suite === RELAY_SUITE ? undefined : mine ? envelope.receiver : envelope.sender
  const peerCid = mine ? envelope.receiverKey : envelope.senderKey
  let keys: Awaited<ReturnType<typeof ownKeys>>
  let peer: Awaited<ReturnType<typeof bundleByCid>>
  try {
    ;[keys, peer] = await Promise.all([ownKeys(client, ownCid), bundleByCid(client, peerCid, peerAddress)])
  } catch {
    return fail('unknown_key')
  }
  // No Ed25519 check here: the server verified the signature on ingestion, and in a 1:1 room the
  // AES-GCM tag under the pair key already proves the message comes from the peer (only the two
  // wallets can derive that key; the AAD binds sender, receiver, room, time and both key ids).
  // Checking the signature again would double the receive cost for no added assurance.
  let content: MessageContent
  try {
    const key = await conversationKey(client, { cid: ownCid, keys, address: wallet.address }, peer)
    content = await openEnvelope(crypto, { envelope, key })
  } catch {
    return fail('undecryptable')
  }
  // A migrated message was re-encrypted by its receiver: the sender's own signature inside proves
  // the sender wrote exactly this text, whatever the server did while it could read it.
  if (envelope.suite === MIGRATED_SUITE) {
    const author = content.author
    const authorKey = author ? await bundleByCid(client, author.key, envelope.sender).catch(() => undefined) : undefined
    const authentic =
      author !== undefined &&
      authorKey !== undefined &&
      (await verifyAuthor(crypto, {
        message: { ...envelope, text: content.text },
        sig: author.sig,
        publicKey: authorKey.ed25519,
      }))
    if (!authentic) return fail('invalid_author')
  }
  return { ...base, text: content.text, status: 'ok' }
}
