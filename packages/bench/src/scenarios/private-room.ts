/**
 * A 10,000-member private room through the real server (issue 17: create, rotate, send, and a
 * member decrypts), on the group benchmarks' server process (`group-server-process.ts`, SQLite):
 *
 * 1. the Owner creates a private room and turns E2EE on (signed log events);
 * 2. it invites the other members, 100 per signed `invite` event, and each joins (signed `join`
 *    events, {@link JOIN_CONCURRENCY} in flight);
 * 3. rotation: the Owner makes epoch 1 for every member (`createKeyDistribution`, 10 signed pages
 *    of up to 1,024 wraps, cold: an X25519 per member, as a client that has never wrapped to
 *    them) and uploads it (`POST /v1/rooms/{room}/keys`, which checks every page against the
 *    members); timed apart: making it, and the server's answer;
 * 4. send: one 1 KiB group message (`POST /v1/messages`);
 * 5. a member that was offline catches up: its delivery (`GET /v1/rooms/{room}/keys`), opened,
 *    and the newest message (`GET /v1/rooms/{room}/messages`), verified and decrypted.
 *
 * The Owner's member list is the bench's own (a client replays the signed log for it; that
 * replay is measured by `logHeadMembers` in `group-keys.ts`). Setup (keys, sessions) is written
 * by the server process as for the other group benchmarks (`_group-members.ts`).
 */
import {
  createKeyDistribution,
  createRoomKey,
  GROUP_SUITE,
  type GroupEnvelope,
  type KeyDelivery,
  openGroupEnvelope,
  openKeyDelivery,
  sealGroupEnvelope,
  signRotationIntent,
  WrapKeyCache,
} from '@dmtp/protocol'
import { nodeCryptoBackend as crypto } from '@dmtp/protocol/node'
import { type Child, startChild } from '../_child.js'
import { type Member, makeMembers, randomId, type ServerIdentity, signEvent } from '../_group-members.js'
import { Api } from '../_group-rooms.js'
import { round } from '../_stats.js'

const JOIN_CONCURRENCY = 32
const INVITES_PER_EVENT = 100

export type PrivateRoomResult = {
  members: number
  /** Creating the room, E2EE on, the invites and every join, s. */
  setupSeconds: number
  /** Making epoch 1 for every member: room key, pages, intent (the Owner's client), ms. */
  rotateMakeMs: number
  /** The upload until the server's answer (it checks every page against the members), ms. */
  rotateUploadMs: number
  pages: number
  uploadBytes: number
  /** One group message, sealed and stored, ms. */
  sendMs: number
  /** The offline member: its delivery fetched and opened, the newest message fetched and opened, ms. */
  catchUpMs: number
  deliveryBytes: number
}

type Room = { id: string; logHead: { cid: string; index: number } }

async function createPrivateRoom(api: Api, owner: Member, members: Member[]): Promise<Room> {
  const id = randomId()
  const create = await signEvent(owner, id, {
    type: 'create',
    roomType: 'private',
    name: 'Ten thousand',
    description: 'DMTP bench',
    announce: false,
    avatar: null,
  })
  await api.call('POST', '/v1/rooms', owner.token, { event: create })
  await api.postEvent(owner, id, await signEvent(owner, id, { type: 'e2ee_on', plain: false }))
  const others = members.filter((member) => member !== owner)
  for (let i = 0; i < others.length; i += INVITES_PER_EVENT) {
    const invited = others.slice(i, i + INVITES_PER_EVENT).map((member) => member.address)
    await api.postEvent(owner, id, await signEvent(owner, id, { type: 'invite', members: invited }))
  }
  await api.joinAll(id, others, JOIN_CONCURRENCY)
  const { room } = await api.call('GET', `/v1/rooms/${id}`, owner.token)
  if (room.memberCount !== members.length) throw new Error(`the room has ${room.memberCount} members, not ${members.length}`)
  return { id, logHead: { cid: room.logHead.cid, index: room.logHead.index } }
}

const party = (member: Member) => ({ address: member.address, keyCid: member.cid, publicKey: member.agreement.publicKey })

export async function privateRoomScale({ members: count }: { members: number }): Promise<PrivateRoomResult> {
  const server: Child<{ url: string } & ServerIdentity> = await startChild('./group-server-process.js')
  try {
    const api = new Api(server.info.url)
    const started = performance.now()
    const { members, rows } = makeMembers(count, server.info)
    await server.request({ seed: rows })
    const owner = members[0] as Member
    const room = await createPrivateRoom(api, owner, members)
    const setupSeconds = round((performance.now() - started) / 1000, 1)

    const makeStarted = performance.now()
    const roomKey = await createRoomKey(crypto, { room: room.id, epoch: 1 })
    const memberSet = new Set(members.map((member) => member.address))
    const pages = await createKeyDistribution(crypto, {
      roomKey,
      distributor: { ...party(owner), secretKey: owner.agreement.secretKey, signingKey: owner.signingKey },
      recipients: members.map(party),
      members: memberSet,
      logHead: room.logHead,
      cache: new WrapKeyCache(),
    })
    const intent = await signRotationIntent(crypto, {
      intent: {
        v: 1,
        room: room.id,
        fromEpoch: 0,
        toEpoch: 1,
        keyId: roomKey.keyId,
        actor: owner.address,
        actorKey: owner.cid,
        logHead: room.logHead.cid,
        logIndex: room.logHead.index,
        at: new Date().toISOString(),
      },
      signingKey: owner.signingKey,
    })
    const body = { intent, pages }
    const rotateMakeMs = performance.now() - makeStarted
    const uploadStarted = performance.now()
    const { encryption } = await api.call('POST', `/v1/rooms/${room.id}/keys`, owner.token, body)
    const rotateUploadMs = performance.now() - uploadStarted
    if (encryption.epoch !== 1 || encryption.due !== null) throw new Error(`the rotation left ${JSON.stringify(encryption)}`)

    const text = 'a'.repeat(1000)
    const sendStarted = performance.now()
    const envelope = await sealGroupEnvelope(crypto, {
      header: {
        v: 1,
        suite: GROUP_SUITE,
        id: randomId(),
        room: room.id,
        epoch: 1,
        sender: owner.address,
        senderKey: owner.cid,
        timestamp: new Date().toISOString(),
        logHead: room.logHead.cid,
      },
      content: { type: 'text', text },
      roomKey,
      signingKey: owner.signingKey,
    })
    await api.call('POST', '/v1/messages', owner.token, { envelope })
    const sendMs = performance.now() - sendStarted

    const reader = members.at(-1) as Member
    const catchUpStarted = performance.now()
    const keys = await api.call('GET', `/v1/rooms/${room.id}/keys`, reader.token)
    const delivery = keys.deliveries[0] as KeyDelivery
    const opened = await openKeyDelivery(crypto, {
      delivery,
      distributor: { ed25519: owner.verifyKey, x25519: owner.agreement.publicKey },
      recipient: { ...party(reader), secretKey: reader.agreement.secretKey },
      members: memberSet,
      logHead: room.logHead,
    })
    const history = await api.call('GET', `/v1/rooms/${room.id}/messages?order=desc&limit=1`, reader.token)
    const newest = history.messages[0].envelope as GroupEnvelope
    const content = await openGroupEnvelope(crypto, { envelope: newest, roomKey: opened, senderPublicKey: owner.verifyKey })
    const catchUpMs = performance.now() - catchUpStarted
    if (content.type !== 'text' || content.text !== text) throw new Error('the member read another message')

    return {
      members: count,
      setupSeconds,
      rotateMakeMs: round(rotateMakeMs, 1),
      rotateUploadMs: round(rotateUploadMs, 1),
      pages: pages.length,
      uploadBytes: JSON.stringify(body).length,
      sendMs: round(sendMs, 1),
      catchUpMs: round(catchUpMs, 1),
      deliveryBytes: JSON.stringify(delivery).length,
    }
  } finally {
    await server.stop()
  }
}
