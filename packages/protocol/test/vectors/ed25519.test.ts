/**
 * Wycheproof Ed25519 (RFC 8032, strict) against every backend's `ed25519Verify`, which must
 * answer true for every valid case and false, never a throw, for every invalid one.
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
  type WycheproofCase,
  type WycheproofFile,
  wycheproofId,
} from '../_util.js'

type EddsaGroup = { publicKey: { curve: string; pk: string } }
type EddsaCase = WycheproofCase & { msg: string; sig: string }

const file = loadVectors<WycheproofFile<EddsaGroup>>('wycheproof/ed25519_test.json')
const cases = casesOf<EddsaGroup, EddsaCase>(file)
const valid = cases.filter(({ test }) => test.result === 'valid')
const invalid = cases.filter(({ test }) => test.result === 'invalid')
const acceptable = cases.filter(({ test }) => test.result === 'acceptable')

describe('ed25519Verify', () => {
  test('behavior: the vector file is read whole', () => {
    expect(file.algorithm).toBe('EDDSA')
    expect(cases.every(({ group }) => group.publicKey.curve === 'edwards25519')).toBe(true)
    expect(valid.length + invalid.length).toBe(file.numberOfTests)
    expect(acceptable).toEqual([])
  })

  for (const backend of backends) {
    describe(backend.name, () => {
      const verify = ({ group, test }: { group: EddsaGroup; test: EddsaCase }) =>
        settle(() => backend.ed25519Verify(hex(group.publicKey.pk), hex(test.msg), hex(test.sig)))

      test(`default (${valid.length} valid cases verify)`, async () => {
        const failures = await collectFailures(valid, wycheproofId, async (item) => {
          const out = await verify(item)
          if (!out.ok) return `threw ${describeError(out.error)}`
          if (out.value !== true) return `returned ${String(out.value)}`
        })
        expect(failures).toEqual([])
      })

      // A burst of checks takes the threadpool (node backend) where a lone one runs inline.
      test('behavior: all cases at once answer as one at a time', async () => {
        const all = [...valid, ...invalid]
        const answers = await Promise.all(all.map(async (item) => (await verify(item)).value))
        expect(answers).toEqual(all.map(({ test }) => test.result === 'valid'))
      })

      test(`behavior: ${invalid.length} invalid cases return false without throwing`, async () => {
        const failures = await collectFailures(invalid, wycheproofId, async (item) => {
          const out = await verify(item)
          if (!out.ok) return `threw ${describeError(out.error)}`
          if (out.value !== false) return `returned ${String(out.value)}`
        })
        expect(failures).toEqual([])
      })
    })
  }
})
