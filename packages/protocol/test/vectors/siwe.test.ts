/**
 * The spruceid/siwe vectors (EIP-4361) against `createSignInMessage`, `parseSignInMessage` and
 * `verifySignIn`. Signatures are checked with the default verifier (local EOA recovery, no chain).
 */
import {
  createSignInMessage,
  parseSignInMessage,
  type SignInFailure,
  type SignInFields,
  SignInMessageError,
  SignInVerificationError,
  verifySignIn,
} from '@dmtp/protocol'
import { describe, expect, test } from 'vitest'
import { collectFailures, describeError, loadVectors, settle } from '../_util.js'

type Named<T> = [name: string, value: T][]
type SignedFields = SignInFields & { signature: string; time?: string; domainBinding?: string; matchNonce?: string }

const parsingPositive: Named<{ message: string; fields: SignInFields }> = Object.entries(
  loadVectors('siwe/parsing_positive.json'),
)
const parsingNegative: Named<string> = Object.entries(loadVectors('siwe/parsing_negative.json'))
const parsingNegativeObjects: Named<SignInFields> = Object.entries(loadVectors('siwe/parsing_negative_objects.json'))
const verificationPositive: Named<SignedFields> = Object.entries(loadVectors('siwe/verification_positive.json'))
const verificationNegative: Named<SignedFields> = Object.entries(loadVectors('siwe/verification_negative.json'))
const eip1271: Named<{ message: string; signature: string }> = Object.entries(loadVectors('siwe/eip1271.json'))

const nameOf = ([name]: [string, unknown]) => JSON.stringify(name)
const FIELD_NAMES = [
  'scheme',
  'domain',
  'address',
  'statement',
  'uri',
  'version',
  'chainId',
  'nonce',
  'issuedAt',
  'expirationTime',
  'notBefore',
  'requestId',
  'resources',
] as const

/** The message fields of a vector, without the verification extras (signature, time, …). */
function messageFields(vector: SignedFields): SignInFields {
  const fields: Record<string, unknown> = {}
  for (const key of FIELD_NAMES) if (key in vector) fields[key] = vector[key]
  return fields as SignInFields
}

/** A calendar date that exists (the vectors' "invalid" dates are like February 31). */
function isRealDate(text: string | undefined): boolean {
  if (text === undefined) return true
  const match = /^(\d{4})-(\d{2})-(\d{2})T/.exec(text)
  if (!match) return false
  const [year, month, day] = match.slice(1).map(Number) as [number, number, number]
  const date = new Date(Date.UTC(year, month - 1, day))
  return date.getUTCFullYear() === year && date.getUTCMonth() === month - 1 && date.getUTCDate() === day
}

/** The first check of `verifySignIn` a negative vector must fail, when the vector makes it plain. */
function expectedFailure(vector: SignedFields): SignInFailure | undefined {
  if (![vector.issuedAt, vector.expirationTime, vector.notBefore].every(isRealDate)) return undefined
  if (vector.domainBinding !== undefined && vector.domainBinding !== vector.domain) return 'domain_mismatch'
  if (vector.matchNonce !== undefined && vector.matchNonce !== vector.nonce) return 'nonce_mismatch'
  const time = vector.time === undefined ? Date.now() : Date.parse(vector.time)
  if (vector.expirationTime !== undefined && time >= Date.parse(vector.expirationTime)) return 'expired'
  if (vector.notBefore !== undefined && time < Date.parse(vector.notBefore)) return 'not_yet_valid'
  return 'invalid_signature'
}

const verify = (vector: SignedFields, message: string) =>
  verifySignIn({
    message,
    signature: vector.signature,
    domain: vector.domainBinding ?? vector.domain,
    nonce: vector.matchNonce,
    time: vector.time === undefined ? undefined : new Date(vector.time),
  })

describe('parseSignInMessage', () => {
  test(`default (${parsingPositive.length} parsing_positive messages give their fields)`, async () => {
    const failures = await collectFailures(parsingPositive, nameOf, ([, { message, fields }]) => {
      const parsed = parseSignInMessage(message) as Record<string, unknown>
      const expected = fields as Record<string, unknown>
      // Absent, undefined and null all mean "no such optional field".
      const wrong = FIELD_NAMES.filter(
        (key) => JSON.stringify(parsed[key] ?? null) !== JSON.stringify(expected[key] ?? null),
      ).map((key) => `${key}: got ${JSON.stringify(parsed[key])}, expected ${JSON.stringify(expected[key])}`)
      const extra = Object.keys(expected).filter((key) => !(FIELD_NAMES as readonly string[]).includes(key))
      if (extra.length) return `vector has fields this test does not know: ${extra.join(', ')}`
      if (wrong.length) return wrong.join('; ')
    })
    expect(failures).toEqual([])
  })

  test(`behavior: ${parsingNegative.length} parsing_negative messages throw SignInMessageError`, async () => {
    const failures = await collectFailures(parsingNegative, nameOf, async ([, message]) => {
      const out = await settle(() => parseSignInMessage(message))
      if (out.ok) return `parsed as ${JSON.stringify(out.value)}`
      if (!(out.error instanceof SignInMessageError)) return `threw ${describeError(out.error)}`
    })
    expect(failures).toEqual([])
  })
})

describe('createSignInMessage', () => {
  test(`default (${parsingPositive.length} parsing_positive fields give their message exactly)`, async () => {
    const failures = await collectFailures(parsingPositive, nameOf, ([, { message, fields }]) => {
      const created = createSignInMessage(fields)
      if (created !== message) return `created ${JSON.stringify(created)}`
    })
    expect(failures).toEqual([])
  })

  test(`behavior: ${parsingNegativeObjects.length} parsing_negative_objects throw SignInMessageError`, async () => {
    const failures = await collectFailures(parsingNegativeObjects, nameOf, async ([, fields]) => {
      const out = await settle(() => createSignInMessage(fields))
      if (out.ok) return `created ${JSON.stringify(out.value)}`
      if (!(out.error instanceof SignInMessageError)) return `threw ${describeError(out.error)}`
    })
    expect(failures).toEqual([])
  })
})

describe('verifySignIn', () => {
  test(`default (${verificationPositive.length} verification_positive messages verify)`, async () => {
    const failures = await collectFailures(verificationPositive, nameOf, async ([, vector]) => {
      const message = createSignInMessage(messageFields(vector))
      const out = await settle(() => verify(vector, message))
      if (!out.ok) return `rejected: ${describeError(out.error)}`
      if (out.value.address !== vector.address || out.value.nonce !== vector.nonce) return 'returned other fields'
    })
    expect(failures).toEqual([])
  })

  test(`behavior: ${verificationNegative.length} verification_negative messages are rejected, for the plain reason`, async ({
    annotate,
  }) => {
    const outcomes: string[] = []
    const failures = await collectFailures(verificationNegative, nameOf, async ([name, vector]) => {
      const created = await settle(() => createSignInMessage(messageFields(vector)))
      const expected = expectedFailure(vector)
      if (!created.ok) {
        outcomes.push(`${name}: createSignInMessage threw`)
        // Refusing to even build the message (an impossible date) is a rejection too.
        if (!(created.error instanceof SignInMessageError)) return `createSignInMessage threw ${describeError(created.error)}`
        return expected === undefined ? undefined : `createSignInMessage threw, expected verifySignIn to fail with ${expected}`
      }
      const out = await settle(() => verify(vector, created.value))
      if (out.ok) return 'verified'
      if (!(out.error instanceof SignInVerificationError)) return `threw ${describeError(out.error)}`
      outcomes.push(`${name}: ${out.error.failure}`)
      if (expected !== undefined && out.error.failure !== expected) return `failure ${out.error.failure}, expected ${expected}`
    })
    expect(failures).toEqual([])
    await annotate(outcomes.join('; '))
  })

  // EIP-1271 signatures come from contract wallets on mainnet; checking them needs a chain
  // client (verifyWalletMessage). The default verifier recovers an EOA locally, so it must refuse them.
  test(`behavior: ${eip1271.length} EIP-1271 messages parse, and local EOA recovery rejects them (invalid_signature)`, async () => {
    const failures = await collectFailures(eip1271, nameOf, async ([, { message, signature }]) => {
      const fields = parseSignInMessage(message)
      const out = await settle(() => verifySignIn({ message, signature, domain: fields.domain }))
      if (out.ok) return 'verified without a chain'
      if (!(out.error instanceof SignInVerificationError)) return `threw ${describeError(out.error)}`
      if (out.error.failure !== 'invalid_signature') return `failure ${out.error.failure}, expected invalid_signature`
    })
    expect(failures).toEqual([])
  })
})
