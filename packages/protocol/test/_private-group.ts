/**
 * Fixtures of the private-group tests: a private room whose membership log is replayed by a real
 * `RoomLogState` (create, invite, joins, and optionally a kick), its members as wrap parties, and
 * a header for their group envelopes.
 */
import {
  type CryptoBackend,
  GROUP_SUITE,
  type GroupEnvelopeHeader,
  type LogEntry,
  type RoomEventBody,
  RoomLogState,
  toBase64Url,
  toBlock,
  type WrapParty,
} from '@dmtp/protocol'
import { nodeCryptoBackend } from '@dmtp/protocol/node'
import { makeRoomActor, makeRoomEvent, type RoomActor } from './_util.js'

export type Member = RoomActor & {
  party: WrapParty
  distributor: WrapParty & { secretKey: Uint8Array; signingKey: Uint8Array }
  recipient: WrapParty & { secretKey: Uint8Array }
}

export function asMember(actor: RoomActor): Member {
  const party = { address: actor.address, keyCid: actor.actorKey, publicKey: actor.keys.x25519.publicKey }
  return {
    ...actor,
    party,
    distributor: { ...party, secretKey: actor.keys.x25519.secretKey, signingKey: actor.keys.ed25519.secretKey },
    recipient: { ...party, secretKey: actor.keys.x25519.secretKey },
  }
}

/** A private room of `count` members (the first is its Owner), its log replayed into a state. */
export async function makePrivateRoom(count: number, backend: CryptoBackend = nodeCryptoBackend) {
  const room = toBase64Url(backend.randomBytes(16))
  const members = await Promise.all(Array.from({ length: count }, async () => asMember(await makeRoomActor(backend))))
  const owner = members[0] as Member
  const state = new RoomLogState(room)
  let seq = 0
  const append = async (actor: Member, body: RoomEventBody) => {
    seq++
    const event = await makeRoomEvent(body, { backend, actor, room, basis: seq - 1 })
    const head = state.head
    const entry: LogEntry = { v: 1, room, seq, index: (head?.index ?? 0) + 1, prev: head?.cid ?? null, event }
    const result = state.apply(entry, toBlock(entry).cid)
    if (!result.ok) throw new Error(result.problem)
  }
  await append(owner, { type: 'create', roomType: 'private', name: 'Crew', description: '', announce: false, avatar: null })
  const others = members.slice(1)
  for (let i = 0; i < others.length; i += 100) {
    await append(owner, { type: 'invite', members: others.slice(i, i + 100).map((member) => member.address) })
  }
  for (const member of others) await append(member, { type: 'join' })
  return { room, members, owner, state, append }
}

export function groupHeader(room: string, sender: Member, epoch: number, logHead: string): GroupEnvelopeHeader {
  return {
    v: 1,
    suite: GROUP_SUITE,
    id: toBase64Url(nodeCryptoBackend.randomBytes(16)),
    room,
    epoch,
    sender: sender.address,
    senderKey: sender.actorKey,
    timestamp: new Date().toISOString(),
    logHead,
  }
}
