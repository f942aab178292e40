/**
 * Pattern β through the CLI, on a server that anchors on the embedded chain (so clients can check
 * the server's key against the registry owner): the sender is warned, the receiver's setup makes
 * the history end-to-end encrypted, and `dmtp migrate` finishes an interrupted migration.
 */
import { createClient, privateKeyWallet } from '@dmtp/sdk'
import { describe, expect, test } from 'vitest'
import { json, newUser, TestServer } from './_util.js'

type ReadMessage = { id: string; sender: string; text: string | null; e2ee: boolean; status?: string }

describe('dmtp, pattern β (sqlite, anvil)', () => {
  test('default: the sender is warned, the receiver sets up, and the history is end-to-end encrypted', async () => {
    await using server = await TestServer.create({ chain: true })
    const alice = newUser(server)
    const bob = newUser(server)
    await alice.run(['setup'])

    const sent = await alice.run(['send', '--to', bob.address, '--json', 'before', 'you', 'joined'])
    expect(sent).toMatchObject({ code: 0 })
    expect(json(sent.stdout)).toEqual({ id: expect.any(String), room: expect.any(String), e2ee: false })
    expect(sent.stderr).toMatch(new RegExp(`^warning: ${bob.address} has not set up DMTP yet: .*server, which can read it.*\\n$`))
    const human = await alice.run(['send', '--to', bob.address, 'second'])
    expect(human.stdout).toMatch(new RegExp(`^Sent \\S+ to ${bob.address} \\(NOT end-to-end encrypted\\)\\n$`))
    expect(human.stderr).toMatch(/^warning: /)

    const before = json<ReadMessage[]>((await alice.run(['read', '--with', bob.address, '--json'])).stdout)
    expect(before.map((m) => [m.text, m.e2ee])).toEqual([
      ['before you joined', false],
      ['second', false],
    ])
    const humanRead = await alice.run(['read', '--with', bob.address])
    expect(humanRead.stdout).toContain('(NOT end-to-end encrypted): second')

    const setup = await bob.run(['setup', '--json'])
    expect(setup).toMatchObject({ code: 0, stderr: '' })
    expect(json(setup.stdout).migration).toEqual({ migrated: 2, remaining: 0 })

    for (const reader of [bob, alice]) {
      const read = json<ReadMessage[]>(
        (await reader.run(['read', '--with', reader === bob ? alice.address : bob.address, '--json'])).stdout,
      )
      expect(read.map((m) => [m.sender, m.text, m.e2ee])).toEqual([
        [alice.address, 'before you joined', true],
        [alice.address, 'second', true],
      ])
    }
    // Now that bob has keys, alice's messages go end to end, with no warning.
    const direct = await alice.run(['send', '--to', bob.address, 'now e2ee', '--json'])
    expect(direct).toMatchObject({ code: 0, stderr: '' })
    expect(json(direct.stdout).e2ee).toBe(true)
  })

  test('behavior: dmtp migrate needs keys, and finishes a migration that setup left half done', async () => {
    await using server = await TestServer.create({
      chain: true,
      configure: (c) =>
        void Object.assign(c.limits, { messagesPerSecond: 10_000, messageBurst: 10_000, requestsPerMinute: 100_000 }),
    })
    const alice = newUser(server)
    const bob = newUser(server)
    const noKeys = await bob.run(['migrate', '--json'])
    expect(noKeys).toMatchObject({ code: 1, stdout: '' })
    expect(json(noKeys.stderr).error.code).toBe('keys_not_set_up')

    await alice.run(['setup'])
    const aliceSdk = createClient({ server: server.url, wallet: privateKeyWallet(alice.key) })
    // More than one upload (a page of 500 envelopes), so setup can be cut off after the first.
    const texts = Array.from({ length: 600 }, (_, i) => `queued ${i}`)
    for (const text of texts) expect((await aliceSdk.send(bob.address, text)).e2ee).toBe(false)

    const bobSdk = createClient({ server: server.url, wallet: privateKeyWallet(bob.key) })
    const interrupted = await bobSdk.setup({
      onMigrationProgress: () => {
        throw new Error('the laptop lid closed')
      },
    })
    expect(interrupted.migration).toMatchObject({ remaining: expect.any(Number), error: expect.stringContaining('lid closed') })
    expect(interrupted.migration.remaining).toBeGreaterThan(0)

    const resumed = await bob.run(['migrate', '--json'])
    expect(resumed).toMatchObject({ code: 0 })
    expect(json(resumed.stdout)).toEqual({
      migrated: interrupted.migration.remaining,
      alreadyMigrated: 0,
      rejected: [],
      remaining: 0,
    })
    expect((await bob.run(['migrate'])).stdout).toBe('Migrated 0 message(s); none left\n')
    const setupAgain = await bob.run(['setup'])
    expect(setupAgain).toMatchObject({ code: 0, stderr: '' })
    expect(setupAgain.stdout).toMatch(/^Keys ready for \S+ \(recovered\), bundle \S+\n$/)

    const read = json<ReadMessage[]>((await bob.run(['read', '--with', alice.address, '--json'])).stdout)
    expect(read.map((m) => m.text)).toEqual(texts)
    expect(read.every((m) => m.e2ee)).toBe(true)
  })
})
