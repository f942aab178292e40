/**
 * The server's signed receipts of this wallet's sends (protocol.md §5.6): each ack is checked
 * against the server's verified key before a send resolves, kept (in memory and in the client's
 * storage, bounded) until a history read confirms it, and held against every history read that
 * covers its position. A receipt history contradicts stays, with what history held: evidence
 * (`checkReceiptEvidence` in @dmtp/protocol) the user can show.
 *
 * The key: with a chain, the server key as `_server-key.ts` verifies it (signed by the registry's
 * owner, anchored). Without one, or when the chain cannot be read, the bundle the server names,
 * checked for its own signature only: the receipt still binds the server to its word, but only
 * the chain can show a third party that the signer is the operator.
 * @internal
 */
import {
  ApiError,
  keyBundleResponseSchema,
  type ReceiptEvidence,
  type RoomRecord,
  receiptContradiction,
  type SendMessageResult,
  type SignedAck,
  verifyReceipt,
} from '@dmtp/protocol'
import { registryReader } from './_chain.js'
import { forgetServerKey, serverKey } from './_server-key.js'
import { bundleByCid, type VerifiedKeyBundle } from './actions/get-key-bundle.js'
import type { DmtpClientBase } from './client.js'
import { ReceiptRejectedError, ServerKeyRejectedError } from './errors.js'

/** A receipt of one of this wallet's sends; `contradicted` once a history read did not hold it. */
export type HeldReceipt = { ack: SignedAck; contradicted?: { found: RoomRecord | null; reason: string } | undefined }

/** A receipt history contradicted: the receipt and what was served at its position (evidence). */
export type BrokenReceipt = ReceiptEvidence & { reason: string }

const MAX_PER_ROOM = 256
const MAX_ROOMS = 64
const KEY_TTL_MS = 60_000
const MAX_CHECKED = 1_024

const keys = new WeakMap<DmtpClientBase, { at: number; key: Promise<VerifiedKeyBundle> }>()
const checks = new WeakMap<DmtpClientBase, Map<string, Promise<boolean>>>()
const loads = new WeakMap<DmtpClientBase, Promise<void>>()
const saves = new WeakMap<DmtpClientBase, Promise<void>>()

/**
 * Checks the server's ack of the envelope `sent` and returns it as a receipt to hold.
 * @throws {ReceiptRejectedError}
 */
export async function checkAck(
  client: DmtpClientBase,
  ack: SendMessageResult,
  sent: { id: string; room: string; cid: string },
): Promise<SignedAck> {
  const { receipt } = ack
  if (!receipt) throw new ReceiptRejectedError({ code: 'receipt_missing', reason: 'it carries no signed receipt' })
  if (ack.id !== sent.id || ack.room !== sent.room || ack.cid !== sent.cid) {
    throw new ReceiptRejectedError({ code: 'receipt_mismatch', reason: `it acknowledges another message than ${sent.id}` })
  }
  const signed: SignedAck = { id: ack.id, cid: ack.cid, room: ack.room, seq: ack.seq, receivedAt: ack.receivedAt, receipt }
  const [crypto, key] = await Promise.all([client.getCrypto(), receiptKey(client, receipt.key)])
  let checked = checks.get(client)
  if (!checked || checked.size >= MAX_CHECKED) {
    checked = new Map()
    checks.set(client, checked)
  }
  if (!(await verifyReceipt(crypto, signed, key.ed25519, { checked }))) {
    throw new ReceiptRejectedError({ code: 'receipt_invalid', reason: "its receipt does not verify with the server's key" })
  }
  return signed
}

/** The verified server key that signed a receipt; asked again once if the server rotated its key. */
async function receiptKey(client: DmtpClientBase, cid: string): Promise<VerifiedKeyBundle> {
  let key: VerifiedKeyBundle
  try {
    key = await currentKey(client)
    if (key.cid !== cid) {
      keys.delete(client)
      forgetServerKey(client)
      key = await currentKey(client)
    }
  } catch (cause) {
    throw new ReceiptRejectedError({ code: 'receipt_key_rejected', reason: "the server's key failed its checks", cause })
  }
  if (key.cid !== cid) {
    throw new ReceiptRejectedError({ code: 'receipt_key_rejected', reason: `it is signed by key ${cid}, not the server's key` })
  }
  return key
}

function currentKey(client: DmtpClientBase): Promise<VerifiedKeyBundle> {
  const cached = keys.get(client)
  if (cached && Date.now() - cached.at < KEY_TTL_MS) return cached.key
  const key = fetchKey(client)
  key.catch(() => keys.delete(client))
  keys.set(client, { at: Date.now(), key })
  return key
}

async function fetchKey(client: DmtpClientBase): Promise<VerifiedKeyBundle> {
  if (await registryReader(client)) {
    try {
      return await serverKey(client)
    } catch (error) {
      // A chain that cannot be read is no verdict on the key; a chain that says no is.
      const unreadable =
        error instanceof ServerKeyRejectedError && error.cause instanceof ApiError && error.cause.code === 'unavailable'
      if (!unreadable) throw error
    }
  }
  const response = await client.http.request({ method: 'GET', path: '/v1/server-key', schema: keyBundleResponseSchema })
  return bundleByCid(client, response.cid, response.address)
}

/** Loads the receipts kept in storage by an earlier run (once per client). */
export function loadReceipts(client: DmtpClientBase): Promise<void> {
  let load = loads.get(client)
  if (!load) {
    load = readStored(client)
    load.catch(() => loads.delete(client))
    loads.set(client, load)
  }
  return load
}

async function readStored(client: DmtpClientBase): Promise<void> {
  if (client.storage.volatile) return
  const text = await client.storage.get(await storageKey(client))
  if (!text) return
  let stored: unknown
  try {
    stored = JSON.parse(text)
  } catch {
    return
  }
  const list = (stored as { receipts?: unknown })?.receipts
  if (!Array.isArray(list)) return
  for (const held of list as HeldReceipt[]) {
    if (typeof held?.ack?.room !== 'string' || !Number.isSafeInteger(held.ack.seq)) continue
    const room = client.state.receipts.get(held.ack.room) ?? new Map<number, HeldReceipt>()
    if (!room.has(held.ack.seq)) room.set(held.ack.seq, held)
    client.state.receipts.set(held.ack.room, room)
  }
}

/** Keeps a verified receipt (and writes the kept ones to storage). */
export async function holdReceipt(client: DmtpClientBase, ack: SignedAck): Promise<void> {
  await loadReceipts(client)
  const { receipts } = client.state
  const room = receipts.get(ack.room) ?? new Map<number, HeldReceipt>()
  // The room moves to the end: the rooms sent to longest ago are let go first.
  receipts.delete(ack.room)
  receipts.set(ack.room, room)
  // Evidence is not overwritten by a later ack for the same position.
  if (!room.get(ack.seq)?.contradicted) room.set(ack.seq, { ack })
  if (room.size > MAX_PER_ROOM) {
    const oldest = [...room.values()].sort((a, b) => a.ack.seq - b.ack.seq)
    const drop = oldest.find((held) => !held.contradicted) ?? oldest[0]
    if (drop) room.delete(drop.ack.seq)
  }
  if (receipts.size > MAX_ROOMS) receipts.delete(receipts.keys().next().value as string)
  await saveReceipts(client)
}

/** The receipts held for `room` now (before a read, so that a send acked during it is not judged by it). */
export function heldReceipts(client: DmtpClientBase, room: string): HeldReceipt[] {
  return [...(client.state.receipts.get(room)?.values() ?? [])]
}

/**
 * Holds a read of positions `from`…`to` of `room` (what it served, oldest first) to the receipts
 * held before it: a receipt it confirms is let go; one it contradicts is kept with what was served.
 * @returns the receipts in range that history contradicts, old contradictions included.
 */
export async function checkAgainstReceipts(
  client: DmtpClientBase,
  { room, held, served, from, to }: { room: string; held: HeldReceipt[]; served: RoomRecord[]; from: number; to: number },
): Promise<{ confirmed: SignedAck[]; broken: BrokenReceipt[] }> {
  const inRange = held.filter(({ ack }) => ack.seq >= from && ack.seq <= to)
  if (inRange.length === 0) return { confirmed: [], broken: [] }
  const crypto = await client.getCrypto()
  const bySeq = new Map(served.map((record) => [record.seq, record]))
  const kept = client.state.receipts.get(room)
  const confirmed: SignedAck[] = []
  const broken: BrokenReceipt[] = []
  for (const entry of inRange) {
    const found = bySeq.get(entry.ack.seq) ?? null
    const reason = receiptContradiction(entry.ack, found, crypto.sha256)
    if (reason) {
      entry.contradicted = { found, reason }
      kept?.set(entry.ack.seq, entry)
      broken.push({ receipt: entry.ack, found, reason })
    } else if (entry.contradicted) {
      // Served differently before: the earlier answer stays evidence.
      broken.push({ receipt: entry.ack, ...entry.contradicted })
    } else {
      confirmed.push(entry.ack)
      kept?.delete(entry.ack.seq)
    }
  }
  if (kept?.size === 0) client.state.receipts.delete(room)
  await saveReceipts(client)
  return { confirmed, broken }
}

/** Writes the held receipts to storage; saves asked for before one starts share it. */
function saveReceipts(client: DmtpClientBase): Promise<void> {
  if (client.storage.volatile) return Promise.resolve()
  const queued = saves.get(client)
  if (queued) return queued
  const save = Promise.resolve().then(async () => {
    saves.delete(client)
    const key = await storageKey(client)
    const receipts = [...client.state.receipts.values()].flatMap((room) => [...room.values()])
    if (receipts.length === 0) await client.storage.remove(key)
    else await client.storage.set(key, JSON.stringify({ v: 1, receipts }))
  })
  saves.set(client, save)
  return save
}

async function storageKey(client: DmtpClientBase): Promise<string> {
  const wallet = await client.getWallet()
  return `dmtp:receipts:${client.server}:${wallet.address.toLowerCase()}`
}
