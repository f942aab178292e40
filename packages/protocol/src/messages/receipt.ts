/**
 * Signed receipts (protocol.md §5.6): the server's word, under its DMTP Ed25519 key, that it
 * stored message `id` with CID `cid` at position `seq` of `room`. The server acknowledges many
 * sends per commit, so it signs a hash tree over a commit's receipts once (the tree of
 * `encoding/merkle.ts`, as batch-signed migrations do, §5.5): each ack carries its path to the
 * signed root. A history that later lacks the message at that position, or holds another one
 * there, contradicts the receipt, and the receipt with what was served is evidence anyone can
 * check against the server's key bundle ({@link checkReceiptEvidence}).
 */
import type { CryptoBackend } from '../crypto/types.js'
import { concatBytes, fromBase64Url, toBase64Url, utf8ToBytes } from '../encoding/bytes.js'
import { encodeCanonicalWithPrefix, type HashFunction, toBlock } from '../encoding/canonical.js'
import { merkleRoot, merkleTree } from '../encoding/merkle.js'
import { type KeyBundle, type VerifyWalletMessage, verifyKeyBundle } from '../keys/key-bundle.js'
import type { RoomRecord } from '../schemas/room-records.js'
import { MIGRATED_SUITE, verifySignatureText } from './envelope.js'

/** Domain prefix of a receipt leaf. */
export const RECEIPT_LEAF_PREFIX = 'dmtp/v1/receipt\n'

const BATCH_PREFIX = utf8ToBytes('dmtp/v1/receipt-batch\n')

/** What a receipt says: this message is stored at this position, since this time. */
export type ReceiptFields = { id: string; cid: string; room: string; seq: number; receivedAt: string }

/**
 * The signature part of an ack. `root` is the tree's root (base64url), `proof` the path from this
 * ack's leaf to it, `signature` the server's Ed25519 signature over the root, `key` the CID of
 * the server key bundle that signed.
 */
export type Receipt = { root: string; proof: string[]; signature: string; key: string }

/** An ack with its receipt: what a client keeps and can show. */
export type SignedAck = ReceiptFields & { receipt: Receipt }

/** A receipt and what the server served at its position (`null`: nothing). */
export type ReceiptEvidence = { receipt: SignedAck; found: RoomRecord | null }

/** `sha256("dmtp/v1/receipt\n" ‖ canonical({cid, id, receivedAt, room, seq}))`. */
export function receiptLeaf(
  backend: Pick<CryptoBackend, 'sha256'>,
  { id, cid, room, seq, receivedAt }: ReceiptFields,
): Uint8Array {
  return backend.sha256(encodeCanonicalWithPrefix(RECEIPT_LEAF_PREFIX, { cid, id, receivedAt, room, seq }))
}

/** What a receipt signature covers: `"dmtp/v1/receipt-batch\n" ‖ root`. */
export function receiptSigningBytes(root: Uint8Array): Uint8Array {
  return concatBytes(BATCH_PREFIX, root)
}

/**
 * Signs the receipts of one commit with one Ed25519 signature.
 * @param key - the CID of the key bundle whose Ed25519 key `signingKey` is.
 * @returns each ack's receipt, in order.
 * @throws {RangeError} for more than 4,096 acks.
 * @example
 * import { signReceiptBatch } from '@dmtp/protocol'
 * const receipts = await signReceiptBatch(backend, { acks, signingKey: keys.ed25519.secretKey, key: bundleCid })
 */
export async function signReceiptBatch(
  backend: CryptoBackend,
  { acks, signingKey, key }: { acks: readonly ReceiptFields[]; signingKey: Uint8Array; key: string },
): Promise<Receipt[]> {
  if (acks.length === 0) return []
  const { root, proofs } = merkleTree(
    backend.sha256,
    acks.map((ack) => receiptLeaf(backend, ack)),
  )
  const signature = toBase64Url(await backend.ed25519Sign(signingKey, receiptSigningBytes(root)))
  const rootText = toBase64Url(root)
  return proofs.map((proof) => ({ root: rootText, proof, signature, key }))
}

/**
 * Checks an ack's receipt: its fields lead through the proof to the root, and the root is signed
 * by `publicKey` (the Ed25519 key of the bundle `receipt.key` names; the caller checks that bundle).
 * @param checked - signature checks already made, by root and signature (the acks of one commit
 *   share one); the caller bounds it.
 * @returns false for any malformed or altered receipt, never a throw.
 * @example
 * import { verifyReceipt } from '@dmtp/protocol'
 * if (!(await verifyReceipt(backend, ack, serverKey.ed25519))) throw new Error('forged receipt')
 */
export async function verifyReceipt(
  backend: CryptoBackend,
  ack: SignedAck,
  publicKey: Uint8Array,
  { checked }: { checked?: Map<string, Promise<boolean>> | undefined } = {},
): Promise<boolean> {
  const receipt = ack?.receipt
  if (!receipt || typeof receipt.root !== 'string' || typeof receipt.signature !== 'string') return false
  let root: Uint8Array | undefined
  try {
    root = merkleRoot(backend.sha256, receiptLeaf(backend, ack), receipt.proof)
  } catch {
    return false
  }
  if (!root || toBase64Url(root) !== receipt.root) return false
  const id = `${receipt.root}:${receipt.signature}:${toBase64Url(publicKey)}`
  let check = checked?.get(id)
  if (!check) {
    check = verifySignatureText(backend, publicKey, receiptSigningBytes(root), receipt.signature)
    checked?.set(id, check)
  }
  return check
}

/**
 * How the record served at a receipt's position contradicts it, or undefined when it is the
 * receipted message: the same id, and the same envelope (or, pattern β, its migrated successor,
 * which names the receipted envelope in `replaces`).
 * @param hash - sha-256: the envelope's CID is computed, not taken from the record.
 */
export function receiptContradiction(
  ack: ReceiptFields,
  found: RoomRecord | null,
  hash?: HashFunction | undefined,
): string | undefined {
  if (found === null) return `position ${ack.seq} of room ${ack.room} is missing`
  if ('entry' in found) return `position ${ack.seq} holds a membership-log entry, not message ${ack.id}`
  const { envelope } = found
  if (envelope.id !== ack.id) return `position ${ack.seq} holds message ${envelope.id}, not ${ack.id}`
  if (envelope.room !== ack.room) return `message ${ack.id} is served as a message of room ${envelope.room}`
  const cid = toBlock(envelope, hash).cid
  if (cid === ack.cid || (envelope.suite === MIGRATED_SUITE && envelope.replaces === ack.cid)) return undefined
  return `position ${ack.seq} holds envelope ${cid}, not ${ack.cid}`
}

export type ReceiptEvidenceVerdict = { valid: true; signer: string; reason: string } | { valid: false; reason: string }

/**
 * Checks evidence against a server: the receipt is signed by the server key bundle it names, that
 * bundle is signed by its wallet, and what was served at the receipt's position contradicts it.
 * A third party then checks that `signer` is the registry's on-chain owner (the operator): the
 * served record is the user's account of the server's answer, the receipt the server's own word.
 * @example
 * import { checkReceiptEvidence } from '@dmtp/protocol'
 * const verdict = await checkReceiptEvidence(backend, { evidence, bundle })
 * if (verdict.valid) console.log(`${verdict.signer} signed a receipt it broke: ${verdict.reason}`)
 */
export async function checkReceiptEvidence(
  backend: CryptoBackend,
  {
    evidence,
    bundle,
    verifyWalletMessage,
  }: { evidence: ReceiptEvidence; bundle: KeyBundle; verifyWalletMessage?: VerifyWalletMessage | undefined },
): Promise<ReceiptEvidenceVerdict> {
  const { receipt: ack, found } = evidence
  if (toBlock(bundle, backend.sha256).cid !== ack.receipt?.key) {
    return { valid: false, reason: 'the key bundle is not the one the receipt names' }
  }
  try {
    await verifyKeyBundle(backend, bundle, verifyWalletMessage ? { verifyWalletMessage } : {})
  } catch {
    return { valid: false, reason: `the key bundle is not signed by ${bundle.address}` }
  }
  let publicKey: Uint8Array
  try {
    publicKey = fromBase64Url(bundle.DMTPpubKey.ed25519)
  } catch {
    return { valid: false, reason: 'the key bundle has no valid Ed25519 key' }
  }
  if (!(await verifyReceipt(backend, ack, publicKey))) {
    return { valid: false, reason: 'the receipt does not verify with the key bundle' }
  }
  if (found !== null && found.seq !== ack.seq) {
    return { valid: false, reason: `the record served is at position ${found.seq}, not ${ack.seq}` }
  }
  const contradiction = receiptContradiction(ack, found, backend.sha256)
  if (!contradiction) return { valid: false, reason: 'the record served is the receipted message' }
  return { valid: true, signer: bundle.address, reason: contradiction }
}
