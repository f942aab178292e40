/**
 * Wycheproof HKDF-SHA256 (RFC 5869) against every backend's `hkdfSha256`: valid cases give the
 * expected output key material; invalid ones (more than 255 × 32 bytes asked for) throw.
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

type HkdfCase = WycheproofCase & { ikm: string; salt: string; info: string; size: number; okm: string }

const file = loadVectors<WycheproofFile<{ keySize: number }>>('wycheproof/hkdf_sha256_test.json')
const cases = casesOf<{ keySize: number }, HkdfCase>(file)
const valid = cases.filter(({ test }) => test.result === 'valid')
const invalid = cases.filter(({ test }) => test.result === 'invalid')

describe('hkdfSha256', () => {
  test('behavior: the vector file is read whole', () => {
    expect(file.algorithm).toBe('HKDF-SHA-256')
    expect(valid.length + invalid.length).toBe(file.numberOfTests)
  })

  for (const backend of backends) {
    describe(backend.name, () => {
      const derive = (c: HkdfCase) => settle(() => backend.hkdfSha256(hex(c.ikm), hex(c.salt), hex(c.info), c.size))

      test(`default (${valid.length} valid cases give okm)`, async () => {
        const failures = await collectFailures(valid, wycheproofId, async ({ test }) => {
          const out = await derive(test)
          if (!out.ok) return `threw ${describeError(out.error)}`
          if (toHex(out.value) !== test.okm) return `got ${toHex(out.value)}, expected ${test.okm}`
        })
        expect(failures).toEqual([])
      })

      test(`behavior: ${invalid.length} invalid cases (output too long) throw`, async () => {
        expect(invalid.length).toBeGreaterThan(0)
        const failures = await collectFailures(invalid, wycheproofId, async ({ test }) => {
          const out = await derive(test)
          if (out.ok) return `returned ${out.value.length} bytes instead of throwing`
        })
        expect(failures).toEqual([])
      })
    })
  }
})
