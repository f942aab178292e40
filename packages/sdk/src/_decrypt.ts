/**
 * Turns a record from the server (a message, a message action, or a membership-log entry) into
 * what an app shows. The server is not trusted: the record's CID is recomputed, key bundles are
 * fetched by CID and verified, and then
 *
 * - a 1:1 message from the peer is authenticated by AES-GCM under the pair key (only the two
 *   wallets can derive it, and the associated data binds every header field, so the tag proves
 *   the peer wrote it; checking the Ed25519 signature as well would double the cost for nothing);
 * - a 1:1 message shown as this wallet's own is checked against its own Ed25519 signature, since
 *   the other holder of the pair key (the peer, or for a relayed message the server) could have
 *   written it; a relayed one must also be encrypted to a verified key of this server's operator.
 *   Only an echo of what this client just sent (the same CID: the very bytes it signed) skips it.
 * - a message of a room without E2EE is checked against its sender's Ed25519 signature (anyone
 *   could have written the bytes), its content against the CID the envelope names, and its
 *   sender against the room's replayed log: a member, allowed and not muted at that position,
 *   having seen a log head this client knows;
 * - a log entry is checked by the log replay (`_room-log.ts`).
 *
 * A record that fails any check comes back with a status saying why, never with text. A record
 * that passes but whose server-given `receivedAt` is further than {@link RECEIVED_AT_SKEW_MS}
 * from its signed time carries the warning `received_at_skew`.
 * @internal
 */
import {
  checkMessageContent,
  contentMatches,
  contentTypeOf,
  type Envelope,
  envelopeType,
  GROUP_SUITE,
  type GroupEnvelope,
  hasPermission,
  type LogRecord,
  type MessageContent,
  type MessageRecord,
  MIGRATED_SUITE,
  openEnvelope,
  openGroupEnvelope,
  type PairEnvelope,
  planRoomAction,
  RELAY_SUITE,
  type RoomActionType,
  type RoomEvent,
  type RoomRecord,
  SIGNED_SUITE,
  SignatureInvalidError,
  type SignedEnvelope,
  toBlock,
  verifyAuthor,
  verifyEnvelopeSignature,
} from '@dmtp/protocol'
import { conversationKey, ownKeys } from './_keyring.js'
import { checkNamedHead } from './_room-fork.js'
import { roomKeyOf } from './_room-keys.js'
import { roomLog } from './_room-log.js'
import { operatorBundle } from './_server-key.js'
import { systemLine } from './_system-line.js'
import { bundleByCid } from './actions/get-key-bundle.js'
import type { DmtpClientBase } from './client.js'
import { ServerKeyRejectedError } from './errors.js'

/**
 * `awaiting_migration`: relayed to this wallet before it set up (pattern β), not yet made end to end.
 * `invalid_author`: a migrated message whose sender signature does not match its text.
 * `invalid_signature`: not signed by the sender (or actor) it names.
 * `not_member`, `forbidden`, `muted`: its sender was not a member, lacked the permission, or was
 * muted at that position of the room (the server should have refused it).
 * `unknown_log_head`: its sender saw a membership log this client is not shown (the room is then
 * marked forked, see `getRoom`'s `fork`).
 * `invalid_log`: a log entry the replay refused (broken chain, or an event the rules forbid).
 * `withheld`: the server holds no content for it (a recall shows as such on the message).
 */
export type MessageStatus =
  | 'ok'
  | 'not_for_me'
  | 'altered'
  | 'unknown_key'
  | 'undecryptable'
  | 'awaiting_migration'
  | 'invalid_author'
  | 'invalid_signature'
  | 'not_member'
  | 'forbidden'
  | 'muted'
  | 'unknown_log_head'
  | 'invalid_log'
  | 'withheld'

/**
 * How far a record's `receivedAt` (the server's word) may be from the time its author signed: the
 * server refuses envelopes and membership events further than this from its own clock (the
 * `clock_skew` error, 300 s), so an honest server never stores one. Five minutes.
 */
export const RECEIVED_AT_SKEW_MS = 5 * 60_000

/**
 * `received_at_skew`: the server says it received the record more than {@link RECEIVED_AT_SKEW_MS}
 * from when its author signed it (a back-dated or post-dated history, or a server clock far off).
 */
export type MessageWarning = 'received_at_skew'

/** What a position of a room is: a message, an action on one, or a system line (membership log). */
export type MessageType = RoomActionType | 'system'

export type DecryptedMessage = {
  id: string
  room: string
  sender: string
  /** The other wallet of a 1:1 message; null in groups. */
  receiver: string | null
  /** The sender's clock, as signed. */
  timestamp: string
  /** The server's clock when it stored the message. */
  receivedAt: string
  cid: string
  /** Position in the room, from 1 (messages and log entries share it). */
  seq: number
  /** True for end-to-end encrypted messages; false for pattern β (not yet migrated) and rooms without E2EE. */
  e2ee: boolean
  type: MessageType
  /** The message an action acts on, or a message replies to. */
  ref: string | null
  /** The text (messages, edits; for a system line, the line), or null when `status` is not `ok`. */
  text: string | null
  /** A reaction's emoji. */
  emoji: string | null
  mentions: string[]
  /** The membership-log event of a system line. */
  event: RoomEvent | null
  /** A recall by someone who held `recall_others` at that position (they may recall anyone's message). */
  recallOthers: boolean
  status: MessageStatus
  /** Why a status other than `ok`, in words, when there is more to say. */
  problem?: string | undefined
  /** What is doubtful about a record, whatever its status; absent when nothing is. */
  warnings?: MessageWarning[] | undefined
}

/** The warnings the times of a record call for (the signed one, and the server's `receivedAt`). */
export function timeWarnings(signedAt: string, receivedAt: string): { warnings?: MessageWarning[] } {
  const skew = Math.abs(Date.parse(receivedAt) - Date.parse(signedAt))
  return skew > RECEIVED_AT_SKEW_MS || Number.isNaN(skew) ? { warnings: ['received_at_skew'] } : {}
}

export async function decryptRecord(client: DmtpClientBase, record: RoomRecord): Promise<DecryptedMessage> {
  if ('entry' in record) return readLogRecord(client, record)
  const envelope = record.envelope as Envelope
  if (envelope.suite === SIGNED_SUITE) return readSignedRecord(client, record, envelope)
  if (envelope.suite === GROUP_SUITE) return readGroupRecord(client, record, envelope)
  return readPairRecord(client, record, envelope)
}

function messageBase(record: MessageRecord, receiver: string | null) {
  const envelope = record.envelope as Envelope
  return {
    id: envelope.id,
    room: envelope.room,
    sender: envelope.sender,
    receiver,
    timestamp: envelope.timestamp,
    receivedAt: record.receivedAt,
    cid: record.cid,
    seq: record.seq,
    type: envelopeType(envelope) as MessageType,
    ref: envelope.ref ?? null,
    event: null,
    recallOthers: false,
    ...timeWarnings(envelope.timestamp, record.receivedAt),
  }
}

function withContent(base: ReturnType<typeof messageBase> & { e2ee: boolean }, content: MessageContent): DecryptedMessage {
  return {
    ...base,
    text: content.type === 'text' ? content.text : null,
    emoji: content.type === 'reaction' ? content.emoji : null,
    mentions: content.type === 'text' ? (content.mentions ?? []) : [],
    status: 'ok',
  }
}

function failed(
  base: ReturnType<typeof messageBase> & { e2ee: boolean },
  status: MessageStatus,
  problem?: string,
): DecryptedMessage {
  return { ...base, text: null, emoji: null, mentions: [], status, ...(problem ? { problem } : {}) }
}

async function readPairRecord(client: DmtpClientBase, record: MessageRecord, envelope: PairEnvelope): Promise<DecryptedMessage> {
  // From the suite, not from the server's word.
  const base = { ...messageBase(record, envelope.receiver), e2ee: envelope.suite !== RELAY_SUITE }
  const [wallet, crypto] = await Promise.all([client.getWallet(), client.getCrypto()])
  const mine = envelope.sender === wallet.address
  if (!mine && envelope.receiver !== wallet.address) return failed(base, 'not_for_me')
  if (toBlock(envelope, crypto.sha256).cid !== record.cid) return failed(base, 'altered')
  // Our own message, echoed: the CID matched what we sent, so every byte is what we signed.
  const sent = mine ? client.state.sent.get(record.cid) : undefined
  if (sent !== undefined) {
    client.state.sent.delete(record.cid)
    return withContent(base, sent)
  }
  // A relayed message (pattern β) is encrypted to the server's key: its receiver cannot read it
  // until it is migrated, its sender can (the peer key of the pair is the server's).
  const relayed = envelope.suite === RELAY_SUITE
  if (relayed && !mine) return failed(base, 'awaiting_migration')
  const ownCid = mine ? envelope.senderKey : envelope.receiverKey
  const peerCid = mine ? envelope.receiverKey : envelope.senderKey
  let keys: Awaited<ReturnType<typeof ownKeys>>
  let peer: Awaited<ReturnType<typeof bundleByCid>>
  try {
    ;[keys, peer] = await Promise.all([
      ownKeys(client, ownCid),
      relayed ? operatorBundle(client, peerCid) : bundleByCid(client, peerCid, mine ? envelope.receiver : envelope.sender),
    ])
  } catch (error) {
    return failed(base, 'unknown_key', error instanceof ServerKeyRejectedError ? error.shortMessage : undefined)
  }
  // A migrated envelope is signed by its receiver, who re-encrypted it; the author check below
  // proves the text is ours.
  if (mine && envelope.suite !== MIGRATED_SUITE && !(await verifyEnvelopeSignature(crypto, envelope, keys.ed25519.publicKey))) {
    return failed(base, 'invalid_signature', 'shown as sent by this wallet, but not signed by it')
  }
  let content: MessageContent
  try {
    const key = await conversationKey(client, { cid: ownCid, keys, address: wallet.address }, peer)
    content = await openEnvelope(crypto, { envelope, key })
  } catch {
    return failed(base, 'undecryptable')
  }
  // A migrated message was re-encrypted by its receiver: the sender's own signature inside proves
  // the sender wrote exactly this text, whatever the server did while it could read it.
  if (envelope.suite === MIGRATED_SUITE) {
    const author = content.type === 'text' ? content.author : undefined
    const authorKey = author ? await bundleByCid(client, author.key, envelope.sender).catch(() => undefined) : undefined
    const authentic =
      content.type === 'text' &&
      author !== undefined &&
      authorKey !== undefined &&
      (await verifyAuthor(crypto, {
        message: { ...envelope, text: content.text },
        sig: author.sig,
        publicKey: authorKey.ed25519,
      }))
    if (!authentic) return failed(base, 'invalid_author')
  }
  return withContent(base, content)
}

async function readSignedRecord(
  client: DmtpClientBase,
  record: MessageRecord,
  envelope: SignedEnvelope,
): Promise<DecryptedMessage> {
  const base = { ...messageBase(record, null), e2ee: false }
  const crypto = await client.getCrypto()
  if (toBlock(envelope, crypto.sha256).cid !== record.cid) return failed(base, 'altered')
  let content: MessageContent | undefined
  if (record.content !== null && record.content !== undefined) {
    if (!contentMatches(envelope, record.content, crypto.sha256))
      return failed(base, 'altered', 'the content is not the block the message names')
    try {
      content = checkMessageContent(record.content)
    } catch {
      return failed(base, 'altered')
    }
    if (content.type !== contentTypeOf(envelopeType(envelope))) return failed(base, 'altered')
  }
  const sender = await bundleByCid(client, envelope.senderKey, envelope.sender).catch(() => undefined)
  if (!sender) return failed(base, 'unknown_key')
  if (!(await verifyEnvelopeSignature(crypto, envelope, sender.ed25519))) return failed(base, 'invalid_signature')
  const refused = await refusedByLog(client, record, envelope, false, content)
  if (refused) return failed(base, refused.status, refused.problem)
  if (!content) return failed(base, 'withheld')
  return withRecallRight(client, withContent(base, content))
}

/**
 * A private-group message: the key of its epoch (from this member's deliveries), the sender's
 * signature and the ciphertext (`openGroupEnvelope`), then the same log checks as any room
 * message. A message of an epoch this member holds no key of is `undecryptable`: it was sent
 * before it joined (history `none`), or the key is withheld.
 */
async function readGroupRecord(
  client: DmtpClientBase,
  record: MessageRecord,
  envelope: GroupEnvelope,
): Promise<DecryptedMessage> {
  const base = { ...messageBase(record, null), e2ee: true }
  const crypto = await client.getCrypto()
  if (toBlock(envelope, crypto.sha256).cid !== record.cid) return failed(base, 'altered')
  const sender = await bundleByCid(client, envelope.senderKey, envelope.sender).catch(() => undefined)
  if (!sender) return failed(base, 'unknown_key')
  const roomKey = await roomKeyOf(client, envelope.room, envelope.epoch).catch(() => undefined)
  if (!roomKey) return failed(base, 'undecryptable', `no key of epoch ${envelope.epoch} was given to this member`)
  let content: MessageContent
  try {
    content = await openGroupEnvelope(crypto, { envelope, roomKey, senderPublicKey: sender.ed25519 })
  } catch (error) {
    return failed(base, error instanceof SignatureInvalidError ? 'invalid_signature' : 'altered')
  }
  const refused = await refusedByLog(client, record, envelope, true, content)
  if (refused) return failed(base, refused.status, refused.problem)
  return withRecallRight(client, withContent(base, content))
}

/**
 * Who the sender was at this position, from this client's replay of the log: a member with the
 * permission, not muted, having seen a log head this client is shown. The action's own target
 * checks (edit by its author, recall by its author or a moderator) are the fold's, which holds
 * the target.
 */
async function refusedByLog(
  client: DmtpClientBase,
  record: MessageRecord,
  envelope: SignedEnvelope | GroupEnvelope,
  e2ee: boolean,
  content: MessageContent | undefined,
): Promise<{ status: MessageStatus; problem: string } | undefined> {
  const log = roomLog(client, envelope.room)
  await log.ensure(record.seq)
  await log.verifyActor(envelope.sender)
  const type = envelopeType(envelope)
  await checkNamedHead(client, log, {
    head: { cid: envelope.logHead, index: null },
    address: envelope.sender,
    record: { type: type === 'message' ? 'message' : 'action', id: envelope.id, seq: record.seq },
  })
  const head = log.seqOf(envelope.logHead)
  if (head === undefined || head >= record.seq) {
    return { status: 'unknown_log_head', problem: 'its sender saw a membership log this client is not shown' }
  }
  const verdict = planRoomAction(log.viewAt(record.seq), {
    sender: envelope.sender,
    type,
    at: envelope.timestamp,
    target: type === 'message' ? undefined : { sender: envelope.sender, type: 'message', recalled: false },
    text: content?.type === 'text' ? content.text : undefined,
    e2ee,
  })
  if (verdict.ok) return undefined
  const status =
    verdict.code === 'muted'
      ? 'muted'
      : verdict.code === 'forbidden' || verdict.code === 'e2ee_required' || verdict.code === 'e2ee_off'
        ? 'forbidden'
        : 'not_member'
  return { status, problem: verdict.message }
}

/** A recall by someone who held `recall_others` at its position may recall anyone's message. */
function withRecallRight(client: DmtpClientBase, message: DecryptedMessage): DecryptedMessage {
  if (message.type !== 'recall') return message
  const view = roomLog(client, message.room).viewAt(message.seq)
  message.recallOthers = hasPermission(view.room, view.member(message.sender).role, 'recall_others')
  return message
}

async function readLogRecord(client: DmtpClientBase, record: LogRecord): Promise<DecryptedMessage> {
  const { event } = record.entry
  const base = {
    id: event.id,
    room: record.entry.room,
    sender: event.actor,
    receiver: null,
    timestamp: event.at,
    receivedAt: record.receivedAt,
    cid: record.cid,
    seq: record.seq,
    e2ee: false,
    type: 'system' as const,
    ref: null,
    emoji: null,
    mentions: [],
    event,
    recallOthers: false,
    ...timeWarnings(event.at, record.receivedAt),
  }
  const log = roomLog(client, record.entry.room)
  await log.receive(record)
  await log.ensure(record.seq + 1)
  if (log.cidAt(record.seq) !== record.cid) {
    return { ...base, text: null, status: 'invalid_log', problem: 'the membership log does not hold this entry' }
  }
  await log.verifyActor(event.actor)
  const problem = log.problemAt(record.seq)
  if (problem) {
    const status = problem.includes('signature') ? 'invalid_signature' : 'invalid_log'
    return { ...base, text: null, status, problem }
  }
  return { ...base, text: systemLine(event), status: 'ok' }
}
