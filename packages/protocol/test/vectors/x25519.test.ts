/**
 * Wycheproof X25519 (RFC 7748) against every backend's `x25519(secretKey, publicKey)`.
 * DMTP's rule on top of RFC 7748: an all-zero shared secret (a low-order peer key) is rejected.
 */
import { describe, expect, test } from 'vitest'
import {
  backends,
  casesOf,
  collectFailures,
  describeError,
  hex,
  loadVectors,
  settle,
  toHex,
  type WycheproofCase,
  type WycheproofFile,
  wycheproofId,
} from '../_util.js'

type X25519Case = WycheproofCase & { public: string; private: string; shared: string }

const file = loadVectors<WycheproofFile<{ curve: string }>>('wycheproof/x25519_test.json')
const cases = casesOf<{ curve: string }, X25519Case>(file)
const isZero = (text: string) => /^(00)+$/.test(text)

const valid = cases.filter(({ test }) => test.result === 'valid')
const acceptable = cases.filter(({ test }) => test.result === 'acceptable')
const invalid = cases.filter(({ test }) => test.result === 'invalid')
const zeroShared = cases.filter(({ test }) => isZero(test.shared))

describe('x25519', () => {
  test('behavior: the vector file is read whole', () => {
    expect(file.algorithm).toBe('XDH')
    expect(cases.every(({ group }) => group.curve === 'curve25519')).toBe(true)
    expect(valid.length + acceptable.length + invalid.length).toBe(file.numberOfTests)
  })

  for (const backend of backends) {
    describe(backend.name, () => {
      const run = (c: X25519Case) => settle(() => backend.x25519(hex(c.private), hex(c.public)))

      test(`default (${valid.length} valid cases: output equals shared)`, async () => {
        const failures = await collectFailures(valid, wycheproofId, async ({ test }) => {
          const out = await run(test)
          if (!out.ok) return `threw ${describeError(out.error)}`
          if (toHex(out.value) !== test.shared) return `got ${toHex(out.value)}, expected ${test.shared}`
        })
        expect(failures).toEqual([])
      })

      test(`behavior: ${acceptable.length} acceptable cases equal shared or throw`, async ({ annotate }) => {
        let rejected = 0
        const failures = await collectFailures(acceptable, wycheproofId, async ({ test }) => {
          const out = await run(test)
          if (!out.ok) rejected++
          if (out.ok && toHex(out.value) !== test.shared) return `got ${toHex(out.value)}, expected ${test.shared} or a throw`
        })
        expect(failures).toEqual([])
        await annotate(`accepted ${acceptable.length - rejected}, rejected ${rejected}`)
      })

      test(`behavior: ${zeroShared.length} cases with an all-zero shared secret (low-order points) throw`, async () => {
        expect(zeroShared.length).toBeGreaterThan(0)
        const failures = await collectFailures(zeroShared, wycheproofId, async ({ test }) => {
          const out = await run(test)
          if (out.ok) return `returned ${toHex(out.value)} instead of throwing`
          if (!(out.error instanceof Error) || out.error.name !== 'InvalidKeyError') {
            return `threw ${describeError(out.error)}, expected InvalidKeyError`
          }
        })
        expect(failures).toEqual([])
      })

      // The current file has no `invalid` X25519 cases (low-order keys are `acceptable` with the
      // ZeroSharedSecret flag, checked above); this still guards any that a later file adds.
      test(`behavior: ${invalid.length} invalid cases throw`, async () => {
        const failures = await collectFailures(invalid, wycheproofId, async ({ test }) => {
          const out = await run(test)
          if (out.ok) return `returned ${toHex(out.value)} instead of throwing`
        })
        expect(failures).toEqual([])
      })
    })
  }
})
