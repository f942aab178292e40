/**
 * Key-distribution records of private groups (docs/private-groups.md §4): a distributor's signed
 * statement "the key of epoch E of room R, whose id is K, wrapped to these members, as the
 * membership log stood at head H". The wraps are the leaves of a SHA-256 hash tree
 * (`encoding/merkle.ts`) and the distributor signs its root once per page of up to
 * {@link MAX_KEY_PAGE_RECIPIENTS} recipients, so:
 *
 * - a rotation of a 10,000-member room is 10 pages and 10 Ed25519 signatures, not 10,000;
 * - each member downloads only its own wrap with its path to the signed root (a *delivery*,
 *   about 1 KiB), not the whole page (about 230 KiB);
 * - the server, or any auditor with the page, checks every wrap against the member list.
 */
import type { CryptoBackend } from '../crypto/types.js'
import { toBase64Url } from '../encoding/bytes.js'
import { encodeCanonicalWithPrefix, type HashFunction } from '../encoding/canonical.js'
import { merkleRoot, merkleTree, merkleTreeRoot } from '../encoding/merkle.js'
import { BaseError } from '../errors.js'
import { verifySignatureText } from '../messages/envelope.js'
import type { RoomKey } from './room-key.js'
import {
  type RoomKeyWrap,
  unwrapRoomKey,
  type WrapContext,
  type WrapKeyCache,
  type WrapParty,
  wrapRoomKey,
} from './room-key-wrap.js'
import type { RoomLogState } from './room-log-state.js'

export const KEY_DISTRIBUTION_SUITE = 'dmtp-group-keys-v1'
/** Most recipients on one page (a proof of at most 10 steps). */
export const MAX_KEY_PAGE_RECIPIENTS = 1024
/** Most pages of one distribution: 1,024 × 1,024 recipients. */
export const MAX_KEY_PAGES = 1024

const SIGNING_PREFIX = 'dmtp/v1/group-keys\n'
const LEAF_PREFIX = 'dmtp/v1/group-keys-leaf\n'

/** The membership-log head a record was made at: the CID and index of the newest entry applied. */
export type LogHead = { cid: string; index: number }

/** What the distributor signs (with the root standing for the page's wraps). */
export type KeyDistributionHeader = WrapContext & {
  v: 1
  suite: typeof KEY_DISTRIBUTION_SUITE
  /** The CID of the newest membership-log entry the distributor had applied, and its index. */
  logHead: string
  logIndex: number
  /** This page (from 0) of `pages`. */
  page: number
  pages: number
  /** The root of the hash tree over the page's wraps, base64url. */
  root: string
}

/** One page as the distributor uploads it: every wrap, in ascending order of recipient. */
export type KeyDistribution = KeyDistributionHeader & { signature: string; recipients: RoomKeyWrap[] }

/** What one recipient receives: the signed header, its own wrap and the path to the root. */
export type KeyDelivery = KeyDistributionHeader & { signature: string; recipient: RoomKeyWrap; proof: string[] }

export type KeyDistributionProblem =
  | 'log_head'
  | 'distributor_not_member'
  | 'recipient_not_member'
  | 'recipient_key'
  | 'recipient_order'
  | 'page'
  | 'root'
  | 'signature'

export type KeyDistributionErrorType = KeyDistributionError & { name: 'KeyDistributionError' }

/** A key-distribution record (or delivery) that must not be used; `problem` is a stable code. */
export class KeyDistributionError extends BaseError {
  override name = 'KeyDistributionError'
  readonly problem: KeyDistributionProblem
  constructor({ problem, message }: { problem: KeyDistributionProblem; message: string }) {
    super(`Invalid key distribution: ${message}`)
    this.problem = problem
  }
}

const fail = (problem: KeyDistributionProblem, message: string) => new KeyDistributionError({ problem, message })

/** `"dmtp/v1/group-keys\n" ‖ canonical(header)`: the header alone, without signature or wraps. */
export function keyDistributionSigningBytes(record: KeyDistributionHeader | KeyDistribution | KeyDelivery): Uint8Array {
  const { v, suite, room, epoch, keyId, distributor, distributorKey, logHead, logIndex, page, pages, root } = record
  return encodeCanonicalWithPrefix(SIGNING_PREFIX, {
    v,
    suite,
    room,
    epoch,
    keyId,
    distributor,
    distributorKey,
    logHead,
    logIndex,
    page,
    pages,
    root,
  })
}

/** The leaf hash of a wrap: `sha256("dmtp/v1/group-keys-leaf\n" ‖ canonical(wrap))`. */
export function keyWrapLeaf(hash: HashFunction, { recipient, recipientKey, nonce, wrap }: RoomKeyWrap): Uint8Array {
  return hash(encodeCanonicalWithPrefix(LEAF_PREFIX, { nonce, recipient, recipientKey, wrap }))
}

/** The order of recipients on a page (and of pages): ascending lower-case address. */
const order = (address: string) => address.toLowerCase()

/**
 * The members at a log's head, and the head: what a distribution is made for and checked against.
 * @example
 * import { logHeadMembers } from '@dmtp/protocol'
 * const { logHead, members } = logHeadMembers(state)
 */
export function logHeadMembers(state: RoomLogState): { logHead: LogHead; members: Set<string> } {
  if (!state.head) throw new RangeError('"state" expected a log with at least one entry, got none')
  const members = new Set(state.entries().flatMap(([address, member]) => (member.status === 'member' ? [address] : [])))
  return { logHead: { cid: state.head.cid, index: state.head.index }, members }
}

export type CreateKeyDistributionParameters = {
  roomKey: RoomKey
  /** This client: its party, X25519 secret key and Ed25519 signing key. */
  distributor: WrapParty & { secretKey: Uint8Array; signingKey: Uint8Array }
  recipients: readonly WrapParty[]
  /** The members at `logHead` ({@link logHeadMembers}): every recipient, and the distributor, must be one. */
  members: ReadonlySet<string>
  logHead: LogHead
  /** Recipients per page; {@link MAX_KEY_PAGE_RECIPIENTS} unless smaller. */
  pageSize?: number | undefined
  cache?: WrapKeyCache | undefined
}

/**
 * Wraps a room key to every recipient and signs the pages.
 * @throws {KeyDistributionError} when the distributor or a recipient is not a member at `logHead`,
 *   or a recipient is named twice.
 * @example
 * import { createKeyDistribution, logHeadMembers } from '@dmtp/protocol'
 * const { logHead, members } = logHeadMembers(state)
 * const pages = await createKeyDistribution(backend, { roomKey, distributor, recipients, members, logHead, cache })
 */
export async function createKeyDistribution(
  backend: CryptoBackend,
  {
    roomKey,
    distributor,
    recipients,
    members,
    logHead,
    pageSize = MAX_KEY_PAGE_RECIPIENTS,
    cache,
  }: CreateKeyDistributionParameters,
): Promise<KeyDistribution[]> {
  if (!Number.isInteger(pageSize) || pageSize < 1 || pageSize > MAX_KEY_PAGE_RECIPIENTS) {
    throw new RangeError(`"pageSize" expected an integer from 1 to ${MAX_KEY_PAGE_RECIPIENTS}, got ${pageSize}`)
  }
  if (!members.has(distributor.address)) {
    throw fail('distributor_not_member', `${distributor.address} is not a member at log entry ${logHead.index}`)
  }
  const sorted = recipients
    .map((recipient) => ({ recipient, key: order(recipient.address) }))
    .sort((a, b) => (a.key < b.key ? -1 : 1))
    .map(({ recipient }) => recipient)
  for (const [i, recipient] of sorted.entries()) {
    if (!members.has(recipient.address)) {
      throw fail('recipient_not_member', `${recipient.address} is not a member at log entry ${logHead.index}`)
    }
    if (i > 0 && order((sorted[i - 1] as WrapParty).address) === order(recipient.address)) {
      throw fail('recipient_order', `${recipient.address} is named twice`)
    }
  }
  if (sorted.length === 0) throw new RangeError('"recipients" expected at least one (the distributor may name itself), got none')
  const pages = Math.ceil(sorted.length / pageSize)
  if (pages > MAX_KEY_PAGES) throw new RangeError(`"recipients" expected at most ${MAX_KEY_PAGES} pages, got ${pages}`)
  const wraps: RoomKeyWrap[] = []
  for (const recipient of sorted) wraps.push(await wrapRoomKey(backend, { roomKey, distributor, recipient, cache }))
  const out: KeyDistribution[] = []
  for (let page = 0; page < pages; page++) {
    const leaves = wraps.slice(page * pageSize, (page + 1) * pageSize)
    const header: KeyDistributionHeader = {
      v: 1,
      suite: KEY_DISTRIBUTION_SUITE,
      room: roomKey.room,
      epoch: roomKey.epoch,
      keyId: roomKey.keyId,
      distributor: distributor.address,
      distributorKey: distributor.keyCid,
      logHead: logHead.cid,
      logIndex: logHead.index,
      page,
      pages,
      root: toBase64Url(pageRoot(backend.sha256, leaves)),
    }
    const signature = await backend.ed25519Sign(distributor.signingKey, keyDistributionSigningBytes(header))
    out.push({ ...header, signature: toBase64Url(signature), recipients: leaves })
  }
  return out
}

/** The root over a page's wraps (at least one). */
function pageRoot(hash: HashFunction, wraps: readonly RoomKeyWrap[]): Uint8Array {
  return merkleTreeRoot(
    hash,
    wraps.map((wrap) => keyWrapLeaf(hash, wrap)),
  )
}

export type VerifyKeyDistributionParameters = {
  distribution: KeyDistribution
  /** The Ed25519 key of the bundle `distribution.distributorKey` names, which must be the distributor's. */
  distributorPublicKey: Uint8Array
  /** The members at `logHead` ({@link logHeadMembers}). */
  members: ReadonlySet<string>
  /** The head `members` is the state at: the record must name exactly it. */
  logHead: LogHead
  /** Each member's current key bundle CID, when known: every wrap must be for it. */
  recipientKeys?: ReadonlyMap<string, string> | undefined
}

/**
 * Checks a whole page (what a server does with an upload, and an auditor with a page): made at
 * `logHead`, by a member, to members only, each once and in order, its wraps under the signed
 * root, and signed by the distributor. Schema-check the record first.
 * @throws {KeyDistributionError} naming the first problem found.
 * @example
 * import { verifyKeyDistribution } from '@dmtp/protocol'
 * await verifyKeyDistribution(backend, { distribution, distributorPublicKey, members, logHead })
 */
export async function verifyKeyDistribution(
  backend: CryptoBackend,
  { distribution, distributorPublicKey, members, logHead, recipientKeys }: VerifyKeyDistributionParameters,
): Promise<void> {
  checkHeader(distribution, members, logHead)
  const { recipients } = distribution
  if (recipients.length === 0 || recipients.length > MAX_KEY_PAGE_RECIPIENTS) {
    throw fail('page', `${recipients.length} recipients on one page (1 to ${MAX_KEY_PAGE_RECIPIENTS})`)
  }
  for (const [i, wrap] of recipients.entries()) {
    if (!members.has(wrap.recipient)) {
      throw fail('recipient_not_member', `a key is wrapped to ${wrap.recipient}, not a member at log entry ${logHead.index}`)
    }
    if (i > 0 && order((recipients[i - 1] as RoomKeyWrap).recipient) >= order(wrap.recipient)) {
      throw fail('recipient_order', `${wrap.recipient} is out of order or named twice`)
    }
    const current = recipientKeys?.get(wrap.recipient)
    if (current !== undefined && current !== wrap.recipientKey) {
      throw fail('recipient_key', `the key of ${wrap.recipient} is wrapped to key bundle ${wrap.recipientKey}, not ${current}`)
    }
  }
  if (toBase64Url(pageRoot(backend.sha256, recipients)) !== distribution.root) {
    throw fail('root', 'the wraps are not those the signed root covers')
  }
  await checkSignature(backend, distribution, distributorPublicKey)
}

/**
 * Splits a page into one delivery per recipient (what the server sends each member).
 * @example
 * import { keyDeliveries } from '@dmtp/protocol'
 * const deliveries = keyDeliveries(backend.sha256, distribution)
 */
export function keyDeliveries(hash: HashFunction, distribution: KeyDistribution): KeyDelivery[] {
  const { recipients, ...header } = distribution
  const { proofs } = merkleTree(
    hash,
    recipients.map((wrap) => keyWrapLeaf(hash, wrap)),
  )
  return recipients.map((recipient, i) => ({ ...header, recipient, proof: proofs[i] as string[] }))
}

export type OpenKeyDeliveryParameters = {
  delivery: KeyDelivery
  /** The distributor's keys, from the bundle `delivery.distributorKey` names (which must be the distributor's). */
  distributor: { ed25519: Uint8Array; x25519: Uint8Array }
  /** This client: its address, bundle CID, and X25519 keys. */
  recipient: WrapParty & { secretKey: Uint8Array }
  /** The members at `logHead`, from this client's own replay of the log. */
  members: ReadonlySet<string>
  logHead: LogHead
  cache?: WrapKeyCache | undefined
}

/**
 * Checks a delivery and unwraps its room key (what a member does with what it receives): made at
 * `logHead` by a member, to this member, under the distributor's signature.
 * @throws {KeyDistributionError} for a delivery that must not be used.
 * @throws {RoomKeyMismatchError} for a wrap to another recipient or a key its key id does not name.
 * @throws {DecryptionFailedError} for an altered wrap.
 * @example
 * import { openKeyDelivery } from '@dmtp/protocol'
 * const roomKey = await openKeyDelivery(backend, { delivery, distributor, recipient, members, logHead })
 */
export async function openKeyDelivery(
  backend: CryptoBackend,
  { delivery, distributor, recipient, members, logHead, cache }: OpenKeyDeliveryParameters,
): Promise<RoomKey> {
  checkHeader(delivery, members, logHead)
  if (!members.has(delivery.recipient.recipient)) {
    throw fail('recipient_not_member', `${delivery.recipient.recipient} is not a member at log entry ${logHead.index}`)
  }
  const root = merkleRoot(backend.sha256, keyWrapLeaf(backend.sha256, delivery.recipient), delivery.proof)
  if (!root || toBase64Url(root) !== delivery.root) throw fail('root', 'the wrap is not under the signed root')
  await checkSignature(backend, delivery, distributor.ed25519)
  return unwrapRoomKey(backend, {
    context: delivery,
    wrap: delivery.recipient,
    distributor: { address: delivery.distributor, keyCid: delivery.distributorKey, publicKey: distributor.x25519 },
    recipient,
    cache,
  })
}

function checkHeader(record: KeyDistributionHeader, members: ReadonlySet<string>, logHead: LogHead): void {
  if (record.logHead !== logHead.cid || record.logIndex !== logHead.index) {
    throw fail(
      'log_head',
      `made at log entry ${record.logIndex} (${record.logHead}), checked at ${logHead.index} (${logHead.cid})`,
    )
  }
  if (!Number.isInteger(record.page) || record.page < 0 || record.page >= record.pages || record.pages > MAX_KEY_PAGES) {
    throw fail('page', `page ${record.page} of ${record.pages}`)
  }
  if (!members.has(record.distributor)) {
    throw fail('distributor_not_member', `${record.distributor} is not a member at log entry ${logHead.index}`)
  }
}

async function checkSignature(backend: CryptoBackend, record: KeyDistributionHeader & { signature: string }, key: Uint8Array) {
  if (!(await verifySignatureText(backend, key, keyDistributionSigningBytes(record), record.signature))) {
    throw fail('signature', `not signed by the key of ${record.distributor}`)
  }
}
