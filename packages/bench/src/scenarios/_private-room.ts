/**
 * Private rooms for the key benchmarks (`group-keys.ts`), built without a server: members with
 * real X25519 and Ed25519 keys, and a `RoomLogState` replaying the signed events of their room
 * (create, invites, joins) as a member's client would.
 */
import { type KeyObject, randomBytes, sign } from 'node:crypto'
import {
  type DmtpKeys,
  type LogEntry,
  type RoomEventBody,
  RoomLogState,
  signRoomEvent,
  toBase64Url,
  toBlock,
  type UnsignedRoomEvent,
  type WrapParty,
} from '@dmtp/protocol'
import { nodeCryptoBackend as backend } from '@dmtp/protocol/node'
import { getAddress } from 'viem'
import { makeKeyPair } from '../_key-pairs.js'

export type Member = { address: string; keys: DmtpKeys; party: WrapParty }

/**
 * The members' Ed25519 key objects, by secret key. Building the logs signs thousands of events
 * by as many keys: the backend would import each key from PKCS#8 first (~0.3 ms on this VM, more
 * than the rest of the setup), while a generated key pair already is a key object.
 */
const signingKeyObjects = new Map<string, KeyObject>()
const setupBackend = {
  ...backend,
  ed25519Sign: async (secretKey: Uint8Array, message: Uint8Array) => {
    const key = signingKeyObjects.get(toBase64Url(secretKey))
    return key ? new Uint8Array(sign(null, message, key)) : backend.ed25519Sign(secretKey, message)
  },
}

/** X25519 and Ed25519 key pairs, generated without importing them (see {@link signingKeyObjects}). */
function makeKeys(): DmtpKeys {
  const pair = (curve: 'x25519' | 'ed25519') => {
    const { privateKey, secretKey, publicKey } = makeKeyPair(curve)
    if (curve === 'ed25519') signingKeyObjects.set(toBase64Url(secretKey), privateKey)
    return { secretKey, publicKey }
  }
  return { x25519: pair('x25519'), ed25519: pair('ed25519') }
}

function asMember(address: string, keys: DmtpKeys): Member {
  // The room code reads only the bundle's CID: a block naming the address and keys stands in.
  const keyCid = toBlock({
    address,
    x25519: toBase64Url(keys.x25519.publicKey),
    ed25519: toBase64Url(keys.ed25519.publicKey),
  }).cid
  return { address, keys, party: { address, keyCid, publicKey: keys.x25519.publicKey } }
}

export function makeMember(): Member {
  return asMember(getAddress(`0x${randomBytes(20).toString('hex')}`), makeKeys())
}

/** The same members with new key bundles: key material this client has never imported or paired with. */
export function rekeyed(members: readonly Member[]): Member[] {
  return members.map((member) => asMember(member.address, makeKeys()))
}

/** A private room of `count` members, its log replayed (the first member is the Owner). */
export async function makeRoom(count: number) {
  const room = toBase64Url(backend.randomBytes(16))
  const members = Array.from({ length: count }, makeMember)
  const owner = members[0] as Member
  const state = new RoomLogState(room)
  let seq = 0
  const append = async (actor: Member, body: RoomEventBody) => {
    const event = await signRoomEvent(setupBackend, {
      event: {
        v: 1,
        id: toBase64Url(backend.randomBytes(16)),
        room,
        actor: actor.address,
        actorKey: actor.party.keyCid,
        at: new Date().toISOString(),
        basis: seq,
        ...body,
      } as UnsignedRoomEvent,
      signingKey: actor.keys.ed25519.secretKey,
    })
    seq++
    const head = state.head
    const entry: LogEntry = { v: 1, room, seq, index: (head?.index ?? 0) + 1, prev: head?.cid ?? null, event }
    const result = state.apply(entry, toBlock(entry).cid)
    if (!result.ok) throw new Error(`log entry ${entry.index}: ${result.problem}`)
  }
  await append(owner, { type: 'create', roomType: 'private', name: 'Crew', description: '', announce: false, avatar: null })
  const others = members.slice(1)
  for (let i = 0; i < others.length; i += 100) {
    await append(owner, { type: 'invite', members: others.slice(i, i + 100).map((member) => member.address) })
  }
  for (const member of others) await append(member, { type: 'join' })
  const join = async (member: Member) => {
    await append(owner, { type: 'invite', members: [member.address] })
    await append(member, { type: 'join' })
    members.push(member)
  }
  return { room, members, owner, state, join }
}
export type Room = Awaited<ReturnType<typeof makeRoom>>
