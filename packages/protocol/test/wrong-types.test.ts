/**
 * The shared wrong-type table (test/_wrong-types.ts) against every backend's byte-taking methods,
 * the protocol functions that sign or verify with a key they are given, and the record schemas.
 * Byte checks must throw TypeError (not bytes) or RangeError (wrong length) with the house message
 * `"<title>" expected …`; verifying must answer false, never throw; the strict zod schemas must
 * reject every wrong value and every unknown field.
 */
import {
  type CryptoBackend,
  decodeMessageContent,
  envelopeSchema,
  InvalidContentError,
  keyBundleSchema,
  logEntrySchema,
  roomEventSchema,
  SIGNED_SUITE,
  type SignedEnvelopeHeader,
  sealSignedEnvelope,
  signedEnvelopeSchema,
  signRoomEvent,
  toBlock,
  verifyEnvelopeSignature,
  verifyRoomEventSignature,
} from '@dmtp/protocol'
import { beforeAll, describe, expect, test } from 'vitest'
import type { z } from 'zod'
import {
  backends,
  collectFailures,
  describeError,
  makeEnvelope,
  makeKeyBundle,
  makeRoomActor,
  makeRoomEvent,
  makeSignedEnvelope,
  settle,
} from './_util.js'
import { type WrongType, wrongNonBytes, wrongTypes } from './_wrong-types.js'

type ByteArgument = { title: string; position: number; table: readonly WrongType[] }
type ByteMethod = {
  name: 'x25519PublicKey' | 'x25519' | 'ed25519PublicKey' | 'ed25519Sign'
  args: (backend: CryptoBackend) => Promise<unknown[]>
  checked: ByteArgument[]
}

const secret = (backend: CryptoBackend) => backend.randomBytes(32)

const byteMethods: ByteMethod[] = [
  { name: 'x25519PublicKey', args: async (b) => [secret(b)], checked: [{ title: 'secretKey', position: 0, table: wrongTypes }] },
  {
    name: 'x25519',
    args: async (b) => [secret(b), await b.x25519PublicKey(secret(b))],
    checked: [
      { title: 'secretKey', position: 0, table: wrongTypes },
      { title: 'publicKey', position: 1, table: wrongTypes },
    ],
  },
  { name: 'ed25519PublicKey', args: async (b) => [secret(b)], checked: [{ title: 'secretKey', position: 0, table: wrongTypes }] },
  {
    name: 'ed25519Sign',
    args: async (b) => [secret(b), new Uint8Array([1, 2, 3])],
    checked: [
      { title: 'secretKey', position: 0, table: wrongTypes },
      // A message may have any length, so only the entries that are not bytes at all apply.
      { title: 'message', position: 1, table: wrongNonBytes },
    ],
  },
]

const call = (backend: CryptoBackend, name: string, args: unknown[]) =>
  (backend as unknown as Record<string, (...a: unknown[]) => Promise<unknown>>)[name]!(...args)

for (const method of byteMethods) {
  describe(method.name, () => {
    for (const backend of backends) {
      for (const argument of method.checked) {
        test(`behavior: ${backend.name} rejects ${argument.table.length} wrong-typed "${argument.title}" values with "${argument.title}" expected …`, async () => {
          const valid = await method.args(backend)
          expect((await settle(() => call(backend, method.name, valid))).ok).toBe(true)
          const failures = await collectFailures(
            argument.table,
            (entry) => `${argument.title} = ${entry.title}`,
            async (entry) => {
              const args = valid.slice()
              args[argument.position] = entry.value
              const out = await settle(() => call(backend, method.name, args))
              if (out.ok) return 'accepted'
              const [Expected, kind] = entry.kind === 'type' ? [TypeError, 'TypeError'] : [RangeError, 'RangeError']
              if (!(out.error instanceof Expected) || !out.error.message.startsWith(`"${argument.title}" expected `)) {
                return `threw ${describeError(out.error)}; expected a ${kind} starting "${argument.title}" expected`
              }
            },
          )
          expect(failures).toEqual([])
        })
      }
    }
  })
}

describe('ed25519Verify', () => {
  for (const backend of backends) {
    const positions = ['publicKey', 'message', 'signature'] as const
    const cases = positions.flatMap((title, position) => wrongTypes.map((entry) => ({ title, position, entry })))

    test(`behavior: ${backend.name} returns false for ${cases.length} wrong-typed arguments, never throws`, async () => {
      const secretKey = secret(backend)
      const message = new Uint8Array([1, 2, 3])
      const valid: unknown[] = [await backend.ed25519PublicKey(secretKey), message, await backend.ed25519Sign(secretKey, message)]
      expect(await call(backend, 'ed25519Verify', valid)).toBe(true)
      const failures = await collectFailures(
        cases,
        ({ title, entry }) => `${title} = ${entry.title}`,
        async ({ position, entry }) => {
          const args = valid.slice()
          args[position] = entry.value
          const out = await settle(() => call(backend, 'ed25519Verify', args))
          if (!out.ok) return `threw ${describeError(out.error)}`
          if (out.value !== false) return `returned ${String(out.value)}`
        },
      )
      expect(failures).toEqual([])
    })
  }
})

/** The protocol's own functions that sign with, or verify against, a key they are given. */
describe('signRoomEvent', () => {
  for (const backend of backends) {
    test(`behavior: ${backend.name} rejects ${wrongTypes.length} wrong-typed signing keys with "secretKey" expected …`, async () => {
      const actor = await makeRoomActor(backend)
      const { signature: _signature, ...event } = await makeRoomEvent({ type: 'join' }, { backend, actor })
      const sign = (signingKey: unknown) => settle(() => signRoomEvent(backend, { event, signingKey: signingKey as Uint8Array }))
      expect((await sign(actor.keys.ed25519.secretKey)).ok).toBe(true)
      const failures = await collectFailures(
        wrongTypes,
        (entry) => `signingKey = ${entry.title}`,
        async (entry) => rejectsAsByteCheck(await sign(entry.value), entry, 'secretKey'),
      )
      expect(failures).toEqual([])
    })
  }
})

describe('sealSignedEnvelope', () => {
  for (const backend of backends) {
    test(`behavior: ${backend.name} rejects ${wrongTypes.length} wrong-typed signing keys with "secretKey" expected …`, async () => {
      const actor = await makeRoomActor(backend)
      const header: SignedEnvelopeHeader = {
        v: 1,
        suite: SIGNED_SUITE,
        id: 'AAECAwQFBgcICQoLDA0ODw',
        room: 'EBESExQVFhcYGRobHB0eHw',
        sender: actor.address,
        senderKey: actor.actorKey,
        timestamp: '2026-06-01T12:00:00.000Z',
        logHead: toBlock({ entry: 1 }).cid,
      }
      const seal = (signingKey: unknown) =>
        settle(() => sealSignedEnvelope(backend, { header, content: { type: 'none' }, signingKey: signingKey as Uint8Array }))
      expect((await seal(actor.keys.ed25519.secretKey)).ok).toBe(true)
      const failures = await collectFailures(
        wrongTypes,
        (entry) => `signingKey = ${entry.title}`,
        async (entry) => rejectsAsByteCheck(await seal(entry.value), entry, 'secretKey'),
      )
      expect(failures).toEqual([])
    })
  }
})

describe('verifyRoomEventSignature', () => {
  for (const backend of backends) {
    test(`behavior: ${backend.name} returns false for ${wrongTypes.length} wrong-typed public keys, never throws`, async () => {
      const actor = await makeRoomActor(backend)
      const event = await makeRoomEvent({ type: 'leave' }, { backend, actor })
      expect(await verifyRoomEventSignature(backend, event, actor.keys.ed25519.publicKey)).toBe(true)
      const failures = await collectFailures(
        wrongTypes,
        (entry) => `publicKey = ${entry.title}`,
        async (entry) => answersFalse(await settle(() => verifyRoomEventSignature(backend, event, entry.value as Uint8Array))),
      )
      expect(failures).toEqual([])
    })
  }
})

describe('verifyEnvelopeSignature', () => {
  for (const backend of backends) {
    test(`behavior: ${backend.name} returns false for a signed envelope and ${wrongTypes.length} wrong-typed public keys, never throws`, async () => {
      const { envelope, sender } = await makeSignedEnvelope(backend)
      expect(await verifyEnvelopeSignature(backend, envelope, sender.keys.ed25519.publicKey)).toBe(true)
      const failures = await collectFailures(
        wrongTypes,
        (entry) => `senderPublicKey = ${entry.title}`,
        async (entry) => answersFalse(await settle(() => verifyEnvelopeSignature(backend, envelope, entry.value as Uint8Array))),
      )
      expect(failures).toEqual([])
    })
  }
})

describe('decodeMessageContent', () => {
  test(`behavior: rejects ${wrongNonBytes.length} values that are not bytes with InvalidContentError`, async () => {
    const failures = await collectFailures(
      wrongNonBytes,
      (entry) => entry.title,
      async (entry) => {
        const out = await settle(() => decodeMessageContent(entry.value as Uint8Array))
        if (out.ok) return `returned ${JSON.stringify(out.value)}`
        if (!(out.error instanceof InvalidContentError)) return `threw ${describeError(out.error)}`
      },
    )
    expect(failures).toEqual([])
  })
})

function rejectsAsByteCheck(out: Awaited<ReturnType<typeof settle>>, entry: WrongType, title: string): string | undefined {
  if (out.ok) return 'accepted'
  const [Expected, kind] = entry.kind === 'type' ? [TypeError, 'TypeError'] : [RangeError, 'RangeError']
  if (!(out.error instanceof Expected) || !out.error.message.startsWith(`"${title}" expected `)) {
    return `threw ${describeError(out.error)}; expected a ${kind} starting "${title}" expected`
  }
}

function answersFalse(out: Awaited<ReturnType<typeof settle>>): string | undefined {
  if (!out.ok) return `threw ${describeError(out.error)}`
  if (out.value !== false) return `returned ${String(out.value)}`
}

/** A value's JS type, finer than typeof: arrays, null, NaN, dates and each typed array differ. */
const jsType = (value: unknown) =>
  typeof value === 'number' && Number.isNaN(value) ? 'NaN' : Object.prototype.toString.call(value)

const malformedStrings = [
  '',
  ' ',
  'k'.repeat(32),
  '00'.repeat(32),
  `0x${'g'.repeat(40)}`,
  `0X${'A'.repeat(40)}`,
  'tab\tnew\nline',
  'é'.repeat(300),
]

function schemaSuite(
  name: string,
  schema: z.ZodType,
  make: () => Promise<Record<string, unknown>>,
  nested: { field: string; extras: Record<string, unknown> }[],
) {
  describe(name, () => {
    let record: Record<string, unknown>
    beforeAll(async () => {
      record = await make()
    })
    /** Undefined when the schema rejects `value` as it should (safeParse must never throw). */
    const problem = (value: unknown): string | undefined => {
      try {
        return schema.safeParse(value).success ? 'accepted' : undefined
      } catch (error) {
        return `safeParse threw ${describeError(error)}`
      }
    }

    test('default', () => {
      expect(schema.safeParse(record).success).toBe(true)
    })

    test(`behavior: rejects each of ${wrongTypes.length} wrong-typed values as the record`, () => {
      const failures = wrongTypes.flatMap((entry) => {
        const found = problem(entry.value)
        return found ? [`${entry.title}: ${found}`] : []
      })
      expect(failures).toEqual([])
    })

    test('behavior: rejects every value of another JS type in every field', () => {
      const failures = Object.keys(record).flatMap((field) =>
        wrongTypes
          .filter((entry) => jsType(entry.value) !== jsType(record[field]))
          .flatMap((entry) => {
            const found = problem({ ...record, [field]: entry.value })
            return found ? [`${field} = ${entry.title}: ${found}`] : []
          }),
      )
      expect(Object.keys(record).length).toBeGreaterThan(5)
      expect(failures).toEqual([])
    })

    // Strings of the right type but the wrong form: any answer but a throw is fine here (some
    // are even valid for some fields); a throw out of safeParse would be a 500 instead of a 400.
    test(`behavior: safeParse never throws for ${malformedStrings.length} malformed strings in any field`, () => {
      const failures = Object.keys(record).flatMap((field) =>
        malformedStrings.flatMap((text) => {
          try {
            schema.safeParse({ ...record, [field]: text })
            return []
          } catch (error) {
            return [`${field} = ${JSON.stringify(text.slice(0, 40))}: safeParse threw ${describeError(error)}`]
          }
        }),
      )
      expect(failures).toEqual([])
    })

    test('behavior: rejects a missing field', () => {
      const failures = Object.keys(record).flatMap((field) => {
        const { [field]: _dropped, ...rest } = record
        const found = problem(rest)
        return found ? [`${field}: ${found}`] : []
      })
      expect(failures).toEqual([])
    })

    test('behavior: rejects unknown extra fields', () => {
      const extras: [string, Record<string, unknown>][] = [
        ['note', { ...record, note: 'hi' }],
        ['extra = undefined', { ...record, extra: undefined }],
        ['__proto__ (as JSON.parse makes it)', { ...record, ...JSON.parse('{"__proto__":{"admin":true}}') }],
        ...nested.map(({ field, extras }): [string, Record<string, unknown>] => [
          `${field}.${Object.keys(extras).join(',')}`,
          { ...record, [field]: { ...(record[field] as object), ...extras } },
        ]),
      ]
      const failures = extras.flatMap(([title, value]) => {
        const found = problem(value)
        return found ? [`${title}: ${found}`] : []
      })
      expect(failures).toEqual([])
    })
  })
}

schemaSuite('envelopeSchema', envelopeSchema, makeEnvelope, [])
schemaSuite('envelopeSchema (signed suite)', envelopeSchema, async () => (await makeSignedEnvelope()).envelope, [])
schemaSuite('signedEnvelopeSchema', signedEnvelopeSchema, async () => (await makeSignedEnvelope()).envelope, [])
schemaSuite(
  'roomEventSchema (create)',
  roomEventSchema,
  () =>
    makeRoomEvent({ type: 'create', roomType: 'private', name: 'Crew', description: 'Who sails', announce: false, avatar: null }),
  [],
)
schemaSuite(
  'roomEventSchema (ban)',
  roomEventSchema,
  () =>
    makeRoomEvent({ type: 'ban', members: ['0x0000000000000000000000000000000000000007'], until: null, removeMessages: true }),
  [],
)
schemaSuite(
  'logEntrySchema',
  logEntrySchema,
  async () => {
    const event = await makeRoomEvent({
      type: 'create',
      roomType: 'public',
      name: 'Crew',
      description: '',
      announce: true,
      avatar: null,
    })
    return { v: 1, room: event.room, seq: 1, index: 1, prev: null, event }
  },
  [{ field: 'event', extras: { note: 'hi' } }],
)
schemaSuite('keyBundleSchema', keyBundleSchema, makeKeyBundle, [
  { field: 'DMTPpubKey', extras: { secp256k1: 'AAAA' } },
  { field: 'DMTPpriKey', extras: { note: 'hi' } },
])

describe('keyBundleSchema', () => {
  test('behavior: rejects a lowercase "signature" beside or instead of "Signature"', async () => {
    const { Signature, ...unsigned } = await makeKeyBundle()
    expect(keyBundleSchema.safeParse({ ...unsigned, Signature, signature: Signature }).success).toBe(false)
    expect(keyBundleSchema.safeParse({ ...unsigned, signature: Signature }).success).toBe(false)
  })
})
