/**
 * Signed room events (`rooms/room-event.ts`): the bytes an actor signs, and signatures on every
 * backend. Any changed, added or removed field, and any changed signature byte, fails.
 */
import {
  bytesToUtf8,
  concatBytes,
  encodeCanonical,
  fromBase64Url,
  type RoomEvent,
  type RoomEventBody,
  roomEventSigningBytes,
  signRoomEvent,
  toBase64Url,
  toBlock,
  type UnsignedRoomEvent,
  utf8ToBytes,
  verifyRoomEventSignature,
} from '@dmtp/protocol'
import { nodeCryptoBackend } from '@dmtp/protocol/node'
import * as dagJson from '@ipld/dag-json'
import fc from 'fast-check'
import { beforeAll, describe, expect, test } from 'vitest'
import { backends, makeRoomActor, type RoomActor, toHex } from './_util.js'

const OTHER = '0x0000000000000000000000000000000000000007'
const AVATAR = toBlock({ avatar: 1 }).cid

/** One body of every event type, and the `all` forms. */
const BODIES: RoomEventBody[] = [
  { type: 'create', roomType: 'public', name: 'Crew', description: 'Who sails', announce: false, avatar: null },
  { type: 'create', roomType: 'private', name: 'Crew ⛵', description: 'line one\nline two', announce: true, avatar: AVATAR },
  { type: 'join' },
  { type: 'request' },
  { type: 'leave' },
  { type: 'delete' },
  { type: 'invite', members: [OTHER] },
  { type: 'approve', members: [OTHER] },
  { type: 'reject', members: [OTHER] },
  { type: 'unban', members: [OTHER] },
  { type: 'kick', members: [OTHER] },
  { type: 'kick', all: true },
  { type: 'unmute', members: [OTHER] },
  { type: 'unmute', all: true },
  { type: 'mute', members: [OTHER], until: '2026-06-01T13:00:00.000Z' },
  { type: 'mute', all: true, until: null },
  { type: 'ban', members: [OTHER], until: null, removeMessages: true },
  { type: 'ban', all: true, until: '2026-06-01T13:00:00.000Z', removeMessages: false },
  { type: 'set_role', members: [OTHER], role: 'admin' },
  { type: 'define_role', role: 'mod', permissions: ['kick', 'mute'] },
  { type: 'delete_role', role: 'mod' },
  { type: 'update', name: 'Renamed', description: '', avatar: null, announce: true },
]

let actor: RoomActor
beforeAll(async () => {
  actor = await makeRoomActor(nodeCryptoBackend)
})

const unsigned = (body: RoomEventBody): UnsignedRoomEvent =>
  ({
    v: 1,
    id: 'AAECAwQFBgcICQoLDA0ODw',
    room: 'EBESExQVFhcYGRobHB0eHw',
    actor: actor.address,
    actorKey: actor.actorKey,
    at: '2026-06-01T12:00:00.000Z',
    basis: 41,
    ...body,
  }) as UnsignedRoomEvent

const sign = (body: RoomEventBody, backend = nodeCryptoBackend) =>
  signRoomEvent(backend, { event: unsigned(body), signingKey: actor.keys.ed25519.secretKey })

/** Every way to change one field of an event (value, or presence), each named. */
function alterations(event: RoomEvent): [string, RoomEvent][] {
  const out: [string, unknown][] = []
  for (const [field, value] of Object.entries(event)) {
    if (field === 'signature') continue
    const as = (changed: unknown, how: string) => out.push([`${field} ${how}`, { ...event, [field]: changed }])
    if (typeof value === 'string') {
      as(`${value}x`, 'longer')
      if (value.length > 0) {
        const at = value.length >> 1
        const code = value.charCodeAt(at)
        as(value.slice(0, at) + String.fromCharCode(code === 0x41 ? 0x42 : 0x41) + value.slice(at + 1), 'one character changed')
      }
    } else if (typeof value === 'number') {
      as(value + 1, '+1')
      as(value - 1, '-1')
    } else if (typeof value === 'boolean') {
      as(!value, 'flipped')
    } else if (value === null) {
      as(AVATAR, 'set')
    } else if (Array.isArray(value)) {
      as([], 'emptied')
      as([...value, value[0]], 'repeated')
      if (value.length > 1) as([...value].reverse(), 'reordered')
    }
    const { [field]: _removed, ...rest } = event as Record<string, unknown>
    out.push([`${field} removed`, rest])
  }
  out.push(['extra field', { ...event, note: 'hi' }])
  return out as [string, RoomEvent][]
}

describe('roomEventSigningBytes', () => {
  test('default', () => {
    const event = unsigned({ type: 'join' })
    expect(bytesToUtf8(roomEventSigningBytes(event))).toBe(
      'dmtp/v1/room-event\n' +
        `{"actor":"${actor.address}","actorKey":"${actor.actorKey}","at":"2026-06-01T12:00:00.000Z","basis":41,` +
        '"id":"AAECAwQFBgcICQoLDA0ODw","room":"EBESExQVFhcYGRobHB0eHw","type":"join","v":1}',
    )
  })

  test('behavior: every type-specific field is signed, in key order, as canonical DAG-JSON (UTF-8, escapes)', () => {
    const create = unsigned(BODIES[1] as RoomEventBody)
    expect(bytesToUtf8(roomEventSigningBytes(create))).toBe(
      'dmtp/v1/room-event\n' +
        `{"actor":"${actor.address}","actorKey":"${actor.actorKey}","announce":true,"at":"2026-06-01T12:00:00.000Z",` +
        `"avatar":"${AVATAR}","basis":41,"description":"line one\\nline two","id":"AAECAwQFBgcICQoLDA0ODw",` +
        '"name":"Crew ⛵","room":"EBESExQVFhcYGRobHB0eHw","roomType":"private","type":"create","v":1}',
    )
    const ban = unsigned({ type: 'ban', all: true, until: null, removeMessages: false })
    expect(bytesToUtf8(roomEventSigningBytes(ban))).toBe(
      'dmtp/v1/room-event\n' +
        `{"actor":"${actor.address}","actorKey":"${actor.actorKey}","all":true,"at":"2026-06-01T12:00:00.000Z","basis":41,` +
        '"id":"AAECAwQFBgcICQoLDA0ODw","removeMessages":false,"room":"EBESExQVFhcYGRobHB0eHw","type":"ban","until":null,"v":1}',
    )
  })

  test('behavior: the signature is left out; nothing else is', async () => {
    for (const body of BODIES) {
      const event = unsigned(body)
      const signed = await sign(body)
      expect(toHex(roomEventSigningBytes(signed))).toBe(toHex(roomEventSigningBytes(event)))
      const expected = concatBytes(utf8ToBytes('dmtp/v1/room-event\n'), dagJson.encode(event))
      expect(toHex(roomEventSigningBytes(event))).toBe(toHex(expected))
    }
  })

  test('behavior: equals the reference DAG-JSON encoding for any strings in the event', () => {
    const anyString = fc.oneof(fc.string({ unit: 'binary', maxLength: 40 }), fc.string({ maxLength: 40 }))
    fc.assert(
      fc.property(anyString, anyString, anyString, fc.nat(), (name, description, role, basis) => {
        for (const event of [
          { ...unsigned(BODIES[0] as RoomEventBody), name, description, basis },
          { ...unsigned({ type: 'set_role', members: [OTHER, name], role }) },
        ]) {
          const expected = concatBytes(utf8ToBytes('dmtp/v1/room-event\n'), dagJson.encode(event))
          expect(toHex(roomEventSigningBytes(event as UnsignedRoomEvent))).toBe(toHex(expected))
          expect(toHex(roomEventSigningBytes(event as UnsignedRoomEvent))).toBe(
            toHex(concatBytes(utf8ToBytes('dmtp/v1/room-event\n'), encodeCanonical(event))),
          )
        }
      }),
      { numRuns: 100 },
    )
  })
})

describe('signRoomEvent', () => {
  for (const backend of backends) {
    test(`default (${backend.name})`, async () => {
      for (const body of BODIES) {
        const event = await sign(body, backend)
        expect(event).toEqual({ ...unsigned(body), signature: expect.stringMatching(/^[A-Za-z0-9_-]{86}$/) })
        expect(await verifyRoomEventSignature(backend, event, actor.keys.ed25519.publicKey), body.type).toBe(true)
      }
    })
  }

  test('behavior: Ed25519 is deterministic: every backend makes the same signature, and each verifies the others', async () => {
    for (const body of BODIES) {
      const signatures = await Promise.all(backends.map(async (backend) => (await sign(body, backend)).signature))
      expect(new Set(signatures).size).toBe(1)
      const event = { ...unsigned(body), signature: signatures[0] as string } as RoomEvent
      for (const backend of backends) {
        expect(await verifyRoomEventSignature(backend, event, actor.keys.ed25519.publicKey)).toBe(true)
      }
    }
  })

  test('behavior: signing a signed event again signs the same bytes', async () => {
    const event = await sign({ type: 'join' })
    const again = await signRoomEvent(nodeCryptoBackend, { event, signingKey: actor.keys.ed25519.secretKey })
    expect(again).toEqual(event)
  })
})

describe('verifyRoomEventSignature', () => {
  for (const backend of backends) {
    test(`behavior: ${backend.name}: any changed, added or removed field fails`, async () => {
      const failures: string[] = []
      let count = 0
      // Every body on node; a spread of them on the slower backends (noble verifies in JS).
      const bodies = backend.name === 'node' ? BODIES : BODIES.filter((_, index) => index % 4 === 0)
      for (const body of bodies) {
        const event = await sign(body, backend)
        for (const [how, altered] of alterations(event)) {
          count++
          if (await verifyRoomEventSignature(backend, altered, actor.keys.ed25519.publicKey))
            failures.push(`${body.type}: ${how}`)
        }
      }
      expect(count).toBeGreaterThan(backend.name === 'node' ? 300 : 60)
      expect(failures).toEqual([])
    })

    test(`behavior: ${backend.name}: any changed signature byte fails`, async () => {
      const event = await sign(BODIES[0] as RoomEventBody, backend)
      const signature = fromBase64Url(event.signature)
      for (let index = 0; index < 64; index++) {
        const altered = signature.slice()
        altered[index] = (altered[index] as number) ^ (1 << (index % 8))
        expect(
          await verifyRoomEventSignature(backend, { ...event, signature: toBase64Url(altered) }, actor.keys.ed25519.publicKey),
        ).toBe(false)
      }
    })

    test(`behavior: ${backend.name}: a malformed signature or another key answers false, never throws`, async () => {
      const event = await sign({ type: 'leave' }, backend)
      for (const signature of ['', 'not base64url!', `${event.signature}A`, event.signature.slice(0, 85), 'A'.repeat(86)]) {
        expect(await verifyRoomEventSignature(backend, { ...event, signature }, actor.keys.ed25519.publicKey)).toBe(false)
      }
      const other = await makeRoomActor(backend)
      expect(await verifyRoomEventSignature(backend, event, other.keys.ed25519.publicKey)).toBe(false)
      // The signature of another event, by the same actor.
      const join = await sign({ type: 'join' }, backend)
      expect(await verifyRoomEventSignature(backend, { ...event, signature: join.signature }, actor.keys.ed25519.publicKey)).toBe(
        false,
      )
    })
  }

  test('behavior: the signature binds the domain prefix (the same body signed bare does not verify)', async () => {
    const event = unsigned({ type: 'join' })
    const bare = await nodeCryptoBackend.ed25519Sign(actor.keys.ed25519.secretKey, encodeCanonical(event))
    const signed = { ...event, signature: toBase64Url(bare) } as RoomEvent
    expect(await verifyRoomEventSignature(nodeCryptoBackend, signed, actor.keys.ed25519.publicKey)).toBe(false)
  })
})
