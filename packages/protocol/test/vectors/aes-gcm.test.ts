/**
 * Wycheproof AES-GCM against every backend's `aesGcmEncrypt` (ciphertext || 16-byte tag) and
 * `aesGcmDecrypt`. DMTP only ever calls them with 96-bit IVs and 128-bit tags (envelopes and
 * wrapped keys), so:
 * - 96-bit IV, 128-bit tag: every valid case must round-trip exactly, every invalid one must fail;
 * - other IV sizes: platforms differ (WebCrypto in Node takes only 96- and 128-bit IVs, noble
 *   refuses IVs under 64 bits, node:crypto refuses 2056-bit ones), so a backend may reject such an
 *   IV, but whatever it returns must be right, and invalid cases (empty IV) must fail everywhere;
 * - other tag sizes: not applicable (the interface has no tag length); counted, never run.
 */
import { DecryptionFailedError } from '@dmtp/protocol'
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

type GcmGroup = { ivSize: number; keySize: number; tagSize: number }
type GcmCase = WycheproofCase & { key: string; iv: string; aad: string; msg: string; ct: string; tag: string }

const file = loadVectors<WycheproofFile<GcmGroup>>('wycheproof/aes_gcm_test.json')
const all = casesOf<GcmGroup, GcmCase>(file)
const applicable = all.filter(({ group }) => group.tagSize === 128)
const otherTagSize = all.filter(({ group }) => group.tagSize !== 128)
const validIv96 = applicable.filter(({ group, test }) => test.result === 'valid' && group.ivSize === 96)
const validOtherIv = applicable.filter(({ group, test }) => test.result === 'valid' && group.ivSize !== 96)
const invalid = applicable.filter(({ test }) => test.result !== 'valid')

describe('aesGcm', () => {
  test(`behavior: ${otherTagSize.length} cases with tagSize≠128 not applicable (never passed to a backend)`, () => {
    // Every case of the file is either run below or counted here; none is silently dropped.
    expect(file.algorithm).toBe('AES-GCM')
    expect(all.length).toBe(file.numberOfTests)
    expect(validIv96.length + validOtherIv.length + invalid.length + otherTagSize.length).toBe(file.numberOfTests)
    expect(invalid.every(({ test }) => test.result === 'invalid')).toBe(true)
  })

  for (const backend of backends) {
    describe(backend.name, () => {
      const encrypt = (c: GcmCase) => settle(() => backend.aesGcmEncrypt(hex(c.key), hex(c.iv), hex(c.msg), hex(c.aad)))
      const decrypt = (c: GcmCase) => settle(() => backend.aesGcmDecrypt(hex(c.key), hex(c.iv), hex(c.ct + c.tag), hex(c.aad)))

      test(`default (${validIv96.length} valid cases with 96-bit IVs: encrypt gives ct||tag, decrypt gives msg)`, async () => {
        const failures = await collectFailures(validIv96, wycheproofId, async ({ test }) => {
          const sealed = await encrypt(test)
          if (!sealed.ok) return `encrypt threw ${describeError(sealed.error)}`
          if (toHex(sealed.value) !== test.ct + test.tag) return `encrypt gave ${toHex(sealed.value)}`
          const opened = await decrypt(test)
          if (!opened.ok) return `decrypt threw ${describeError(opened.error)}`
          if (toHex(opened.value) !== test.msg) return `decrypt gave ${toHex(opened.value)}`
        })
        expect(failures).toEqual([])
      })

      test(`behavior: ${invalid.length} invalid cases fail to decrypt (DecryptionFailedError) and never encrypt to ct||tag`, async () => {
        const failures = await collectFailures(invalid, wycheproofId, async ({ test }) => {
          const opened = await decrypt(test)
          if (opened.ok) return `decrypt returned ${toHex(opened.value)}`
          if (!(opened.error instanceof DecryptionFailedError)) return `decrypt threw ${describeError(opened.error)}`
          const sealed = await encrypt(test)
          if (sealed.ok && toHex(sealed.value) === test.ct + test.tag) return 'encrypt produced the invalid ct||tag'
        })
        expect(failures).toEqual([])
      })

      test(`behavior: ${validOtherIv.length} valid cases with IV sizes DMTP never uses give the right result or are rejected`, async ({
        annotate,
      }) => {
        const rejected = new Set<number>()
        const failures = await collectFailures(validOtherIv, wycheproofId, async ({ group, test }) => {
          const sealed = await encrypt(test)
          if (!sealed.ok) rejected.add(group.ivSize)
          if (sealed.ok && toHex(sealed.value) !== test.ct + test.tag) return `encrypt gave a wrong ${toHex(sealed.value)}`
          const opened = await decrypt(test)
          if (opened.ok && toHex(opened.value) !== test.msg) return `decrypt gave a wrong ${toHex(opened.value)}`
          if (!opened.ok && !(opened.error instanceof DecryptionFailedError)) {
            return `decrypt threw ${describeError(opened.error)}`
          }
          // A backend that encrypts with an IV must also decrypt with it (and the reverse).
          if (sealed.ok !== opened.ok) return `encrypt ${sealed.ok ? 'accepted' : 'rejected'} the IV, decrypt did not`
        })
        expect(failures).toEqual([])
        await annotate(`rejected IV sizes (bits): ${[...rejected].sort((a, b) => a - b).join(', ') || 'none'}`)
      })
    })
  }
})
