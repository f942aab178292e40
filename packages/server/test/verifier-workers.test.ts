/**
 * Ed25519 checks batched to worker threads must answer exactly as node:crypto does, alone or in a
 * burst, across a shutdown, and must never keep a finished process alive.
 */
import { execFileSync } from 'node:child_process'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { nodeCryptoBackend } from '@dmtp/protocol/node'
import { describe, expect, test } from 'vitest'
import { casesOf, hex, loadVectors, type WycheproofCase } from '../../protocol/test/_util.js'
import { startVerifierWorkers } from '../src/crypto/verifier-workers.js'

type EddsaGroup = { publicKey: { pk: string } }
type EddsaCase = WycheproofCase & { msg: string; sig: string }

const cases = casesOf<EddsaGroup, EddsaCase>(loadVectors('wycheproof/ed25519_test.json')).map(({ group, test }) => ({
  key: hex(group.publicKey.pk),
  message: hex(test.msg),
  signature: hex(test.sig),
  valid: test.result === 'valid',
  id: test.tcId,
}))

describe('startVerifierWorkers', () => {
  test('default: every Wycheproof case at once answers as expected (batched to the workers)', async () => {
    const verifiers = startVerifierWorkers(nodeCryptoBackend, { threads: 2 })
    try {
      // Three rounds, so batches cross the per-batch limit and both workers take some.
      const all = [...cases, ...cases, ...cases]
      const answers = await Promise.all(all.map((c) => verifiers.crypto.ed25519Verify(c.key, c.message, c.signature)))
      expect(all.filter((c, i) => answers[i] !== c.valid).map((c) => c.id)).toEqual([])
      expect(all.some((c) => c.valid) && all.some((c) => !c.valid)).toBe(true)
    } finally {
      await verifiers.stop()
    }
  })

  test('behavior: checks one at a time (inline when idle) answer as expected', async () => {
    const verifiers = startVerifierWorkers(nodeCryptoBackend, { threads: 1 })
    try {
      for (const c of cases)
        expect(await verifiers.crypto.ed25519Verify(c.key, c.message, c.signature), `tcId ${c.id}`).toBe(c.valid)
    } finally {
      await verifiers.stop()
    }
  })

  test('behavior: malformed keys, signatures and messages are false, never a throw', async () => {
    const verifiers = startVerifierWorkers(nodeCryptoBackend, { threads: 1 })
    try {
      const [valid] = cases.filter((c) => c.valid)
      if (!valid) throw new Error('no valid case')
      const bad = [
        [valid.key.subarray(1), valid.message, valid.signature],
        [valid.key, valid.message, valid.signature.subarray(1)],
        [valid.key, 'not bytes' as unknown as Uint8Array, valid.signature],
        [new Uint8Array(32), valid.message, valid.signature],
      ] as const
      const answers = await Promise.all(
        bad.map(([key, message, signature]) => verifiers.crypto.ed25519Verify(key, message, signature)),
      )
      expect(answers).toEqual([false, false, false, false])
      expect(await verifiers.crypto.ed25519Verify(valid.key, valid.message, valid.signature)).toBe(true)
    } finally {
      await verifiers.stop()
    }
  })

  test('behavior: checks still queued when the workers stop are all answered, correctly', async () => {
    const verifiers = startVerifierWorkers(nodeCryptoBackend, { threads: 1 })
    const pending = cases.map((c) => verifiers.crypto.ed25519Verify(c.key, c.message, c.signature))
    await verifiers.stop()
    const answers = await Promise.all(pending)
    expect(cases.filter((c, i) => answers[i] !== c.valid).map((c) => c.id)).toEqual([])
    // After stop, checks still work (on the base backend).
    const [first] = cases
    if (first) expect(await verifiers.crypto.ed25519Verify(first.key, first.message, first.signature)).toBe(first.valid)
  })

  test('behavior: a process that never stops them still exits once its checks are answered', () => {
    const dist = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../dist/crypto/verifier-workers.js')
    const script = `
      import { startVerifierWorkers } from ${JSON.stringify(dist)}
      import { nodeCryptoBackend } from '@dmtp/protocol/node'
      import { generateKeyPairSync, sign } from 'node:crypto'
      const { publicKey, privateKey } = generateKeyPairSync('ed25519')
      const key = Buffer.from(publicKey.export({ format: 'jwk' }).x, 'base64url')
      const message = Buffer.from('gm')
      const signature = sign(null, message, privateKey)
      const verifiers = startVerifierWorkers(nodeCryptoBackend, { threads: 1 })
      const answers = await Promise.all([message, Buffer.from('gn'), message].map((m) => verifiers.crypto.ed25519Verify(key, m, signature)))
      console.log(JSON.stringify(answers))
    `
    const out = execFileSync(process.execPath, ['--input-type=module', '-e', script], {
      cwd: path.dirname(dist),
      timeout: 20_000,
      encoding: 'utf8',
    })
    expect(JSON.parse(out)).toEqual([true, false, true])
  })
})
