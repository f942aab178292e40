/**
 * Room keys of private groups on this client (docs/private-groups.md): the keys of each epoch it
 * was given, unwrapped from deliveries it checked against its own replay of the membership log,
 * and rotations it makes: a new key wrapped to every member the signed log shows (never to one
 * the server merely lists), uploaded with compare-and-set on the epoch.
 * @internal
 */
import {
  ApiError,
  createKeyDistribution,
  createRoomKey,
  fromBase64Url,
  type KeyDelivery,
  keyDistributionSigningBytes,
  logHeadMembers,
  openKeyDelivery,
  type RoomEncryption,
  type RoomKey,
  roomKeysResponseSchema,
  rotateRoomKeyResponseSchema,
  signRotationIntent,
  WrapKeyCache,
  type WrapParty,
} from '@dmtp/protocol'
import { currentKeys, ownKeys } from './_keyring.js'
import { checkNamedHead } from './_room-fork.js'
import { roomLog } from './_room-log.js'
import { authedRequest } from './_session.js'
import { bundleByCid, requireCurrentBundle } from './actions/get-key-bundle.js'
import type { DmtpClientBase } from './client.js'

/** What this client holds of one private room: its keys by epoch and the encryption state last seen. */
export type RoomKeyRing = { keys: Map<number, RoomKey>; encryption: RoomEncryption | undefined; problems: string[] }

const wrapKeys = new WeakMap<DmtpClientBase, WrapKeyCache>()

export function keyRing(client: DmtpClientBase, room: string): RoomKeyRing {
  let ring = client.state.roomKeys.get(room)
  if (!ring) {
    ring = { keys: new Map(), encryption: undefined, problems: [] }
    client.state.roomKeys.set(room, ring)
  }
  return ring
}

function wrapKeyCache(client: DmtpClientBase): WrapKeyCache {
  let cache = wrapKeys.get(client)
  if (!cache) {
    cache = new WrapKeyCache()
    wrapKeys.set(client, cache)
  }
  return cache
}

/**
 * Fetches and opens this member's deliveries newer than the keys it holds; returns the room's
 * encryption state. A delivery that fails a check is kept out, and said in `problems`.
 */
export async function syncRoomKeys(client: DmtpClientBase, room: string): Promise<RoomEncryption> {
  const ring = keyRing(client, room)
  let after = Math.max(0, ...ring.keys.keys())
  for (;;) {
    const page = await authedRequest(client, {
      method: 'GET',
      path: `/v1/rooms/${room}/keys?after=${after}`,
      schema: roomKeysResponseSchema,
    })
    ring.encryption = page.encryption
    for (const delivery of page.deliveries) {
      try {
        ring.keys.set(delivery.epoch, await openDelivery(client, delivery))
      } catch (error) {
        ring.problems.push(`epoch ${delivery.epoch}: ${(error as Error).message.split('\n')[0]}`)
      }
    }
    if (page.next === null) return page.encryption
    after = page.next
  }
}

/** Checks one delivery against this client's replay of the log and unwraps its key. */
async function openDelivery(client: DmtpClientBase, delivery: KeyDelivery): Promise<RoomKey> {
  const [wallet, crypto] = await Promise.all([client.getWallet(), client.getCrypto()])
  const log = roomLog(client, delivery.room)
  const [distributor, own, ownBundle] = await Promise.all([
    bundleByCid(client, delivery.distributorKey, delivery.distributor),
    ownKeys(client, delivery.recipient.recipientKey),
    bundleByCid(client, delivery.recipient.recipientKey, wallet.address),
  ])
  if (log.seqOf(delivery.logHead) === undefined) await log.sync()
  // Still unknown: a fork, if its distributor signed that head (the server could name any CID).
  const signed = () =>
    crypto.ed25519Verify(distributor.ed25519, keyDistributionSigningBytes(delivery), fromBase64Url(delivery.signature))
  if (log.seqOf(delivery.logHead) === undefined && (await signed())) {
    await checkNamedHead(client, log, {
      head: { cid: delivery.logHead, index: delivery.logIndex },
      address: delivery.distributor,
      record: { type: 'key_delivery', epoch: delivery.epoch },
    })
  }
  const headSeq = log.seqOf(delivery.logHead)
  if (headSeq === undefined) throw new Error('made at a membership-log entry this client is not shown')
  await log.verifyActor(delivery.distributor)
  const view = log.viewAt(headSeq + 1)
  const members = new Set([delivery.distributor, wallet.address].filter((a) => view.member(a).status === 'member'))
  return openKeyDelivery(crypto, {
    delivery,
    distributor,
    recipient: {
      address: wallet.address,
      keyCid: ownBundle.cid,
      publicKey: own.x25519.publicKey,
      secretKey: own.x25519.secretKey,
    },
    members,
    logHead: { cid: delivery.logHead, index: delivery.logIndex },
    cache: wrapKeyCache(client),
  })
}

/** The key of `epoch`, fetching deliveries once when it is not held yet. */
export async function roomKeyOf(client: DmtpClientBase, room: string, epoch: number): Promise<RoomKey | undefined> {
  const ring = keyRing(client, room)
  if (!ring.keys.has(epoch)) await syncRoomKeys(client, room)
  return ring.keys.get(epoch)
}

const MAX_ROTATION_ATTEMPTS = 4

/**
 * Makes the room's next epoch: a new key wrapped to every member of the signed log (with keys),
 * uploaded with compare-and-set. When another member rotated first, adopts that epoch's key.
 * @returns the room's encryption state after it.
 */
export async function rotateRoomKey(client: DmtpClientBase, room: string): Promise<RoomEncryption> {
  const ring = keyRing(client, room)
  for (let attempt = 1; ; attempt++) {
    const encryption = ring.encryption ?? (await syncRoomKeys(client, room))
    try {
      return await uploadRotation(client, room, encryption.epoch)
    } catch (error) {
      const raced = error instanceof ApiError && (error.code === 'epoch_conflict' || error.code === 'log_head_moved')
      if (!raced || attempt >= MAX_ROTATION_ATTEMPTS) throw error
      // Someone rotated first (adopt theirs, unless the room is due again) or the log moved on.
      const now = await syncRoomKeys(client, room)
      if (error.code === 'epoch_conflict' && now.due === null && ring.keys.has(now.epoch)) return now
    }
  }
}

async function uploadRotation(client: DmtpClientBase, room: string, fromEpoch: number): Promise<RoomEncryption> {
  const [wallet, crypto, own] = await Promise.all([client.getWallet(), client.getCrypto(), currentKeys(client)])
  const log = roomLog(client, room)
  await log.sync()
  const { logHead, members } = logHeadMembers(log.current)
  // Only members the signed log proves: each self-service join is checked before it counts.
  for (const address of members) await log.verifyActor(address)
  const proven = logHeadMembers(log.current).members
  const recipients: WrapParty[] = []
  for (const address of proven) {
    const bundle = address === wallet.address ? own.bundle : await requireCurrentBundle(client, address)
    if (bundle) recipients.push({ address, keyCid: bundle.cid, publicKey: bundle.x25519 })
  }
  const roomKey = await createRoomKey(crypto, { room, epoch: fromEpoch + 1 })
  const distributor = {
    address: wallet.address,
    keyCid: own.cid,
    publicKey: own.keys.x25519.publicKey,
    secretKey: own.keys.x25519.secretKey,
    signingKey: own.keys.ed25519.secretKey,
  }
  const pages = await createKeyDistribution(crypto, {
    roomKey,
    distributor,
    recipients,
    members: proven,
    logHead,
    cache: wrapKeyCache(client),
  })
  const intent = await signRotationIntent(crypto, {
    intent: {
      v: 1,
      room,
      fromEpoch,
      toEpoch: fromEpoch + 1,
      keyId: roomKey.keyId,
      actor: wallet.address,
      actorKey: own.cid,
      logHead: logHead.cid,
      logIndex: logHead.index,
      at: new Date().toISOString(),
    },
    signingKey: own.keys.ed25519.secretKey,
  })
  const { encryption } = await authedRequest(client, {
    method: 'POST',
    path: `/v1/rooms/${room}/keys`,
    body: { intent, pages },
    schema: rotateRoomKeyResponseSchema,
  })
  const ring = keyRing(client, room)
  ring.keys.set(roomKey.epoch, roomKey)
  ring.encryption = encryption
  return encryption
}
