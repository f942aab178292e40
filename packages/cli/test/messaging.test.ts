import fs from 'node:fs'
import path from 'node:path'
import { describe, expect, test } from 'vitest'
import { CLIENT_DIALECTS, json, newUser, rowCounts, runCli, STRANGER, TestServer } from './_util.js'

/** On a server without a chain, every send says the receiver's key could not be checked (issue 16 item 3). */
const UNCHECKED_KEY =
  /^warning: The key of 0x[0-9a-fA-F]{40} could not be checked against the chain \(this server does not anchor keys\): a rolled-back or swapped key would not be caught\.\n$/

describe.each(CLIENT_DIALECTS)('dmtp (%s)', (dialect) => {
  test('default: setup, send, read a conversation, reply, read the inbox', async () => {
    await using server = await TestServer.create({ dialect })
    const alice = newUser(server)
    const bob = newUser(server)

    const setup = await alice.run(['setup', '--json'])
    expect(setup).toMatchObject({ code: 0, stderr: '' })
    expect(json(setup.stdout)).toEqual({
      address: alice.address,
      cid: expect.stringMatching(/^b[a-z2-7]+$/),
      created: true,
      replaced: null,
      scheme: 'x25519-xsalsa20-poly1305',
      migration: { migrated: 0, remaining: 0 },
    })
    const bobSetup = await bob.run(['setup'])
    expect(bobSetup.stdout).toMatch(new RegExp(`^Keys ready for ${bob.address} \\(new\\), bundle b[a-z2-7]+\\n$`))

    const sent = await alice.run(['send', '--to', bob.address, '--json', 'hello', 'bob', '👋'])
    expect(sent).toMatchObject({ code: 0, stderr: expect.stringMatching(UNCHECKED_KEY) })
    expect(sent.stdout.trim().split('\n')).toHaveLength(1)
    const { id, room } = json(sent.stdout)
    expect(json(sent.stdout)).toEqual({
      id: expect.any(String),
      room: expect.any(String),
      e2ee: true,
      warning: expect.stringMatching(/could not be checked against the chain/),
    })

    const read = await bob.run(['read', '--with', alice.address, '--json'])
    expect(read).toMatchObject({ code: 0, stderr: '' })
    expect(json(read.stdout)).toEqual([
      {
        id,
        room,
        sender: alice.address,
        receiver: bob.address,
        text: 'hello bob 👋',
        timestamp: expect.any(String),
        e2ee: true,
        status: 'ok',
        type: 'message',
        replyTo: null,
        mentions: [],
        reactions: [],
        edited: false,
        recalled: false,
        pinned: false,
      },
    ])

    const reply = await bob.run(['send', '--to', alice.address.toLowerCase(), 'hi', 'alice'])
    expect(reply).toMatchObject({ code: 0, stderr: expect.stringMatching(UNCHECKED_KEY) })
    expect(reply.stdout).toMatch(new RegExp(`^Sent \\S+ to ${alice.address} \\(end-to-end encrypted\\)\\n$`))

    const inbox = await alice.run(['read', '--json'])
    expect(json(inbox.stdout).map((m: { type: string; sender: string; text: string }) => [m.type, m.sender, m.text])).toEqual([
      ['message', alice.address, 'hello bob 👋'],
      ['message', bob.address, 'hi alice'],
    ])
    const human = await alice.run(['read'])
    expect(human.stdout.split('\n')).toEqual([
      expect.stringMatching(
        new RegExp(`^\\[\\d{4}-\\d\\d-\\d\\dT[\\d:.]+Z\\] ${id} ${alice.address} → ${bob.address}: hello bob 👋$`),
      ),
      expect.stringMatching(new RegExp(`^\\[\\S+\\] [\\w-]{22} ${bob.address} → ${alice.address}: hi alice$`)),
      '',
    ])
  })

  test('behavior: setup again recovers the keys; --rotate replaces them', async () => {
    await using server = await TestServer.create({ dialect })
    const alice = newUser(server)
    const { cid } = json((await alice.run(['setup', '--json'])).stdout)
    const again = await alice.run(['setup'])
    expect(again.stdout).toBe(`Keys ready for ${alice.address} (recovered), bundle ${cid}\n`)
    const rotated = json((await alice.run(['setup', '--rotate', '--json'])).stdout)
    expect(rotated).toMatchObject({ created: true, replaced: cid })
    expect(rotated.cid).not.toBe(cid)
  })

  test('behavior: whois for registered and unregistered wallets (no wallet needed)', async () => {
    await using server = await TestServer.create({ dialect })
    const bob = newUser(server)
    const { cid } = json((await bob.run(['setup', '--json'])).stdout)
    const env = { DMTP_SERVER: server.url }

    const registered = await runCli(['whois', bob.address.toLowerCase(), '--json'], { env })
    expect(registered).toMatchObject({ code: 0, stderr: '' })
    expect(json(registered.stdout)).toEqual({
      address: bob.address,
      registered: true,
      verified: true,
      bundleCid: cid,
      anchored: 'unchecked',
    })
    const human = await runCli(['whois', bob.address], { env })
    expect(human.stdout).toMatch(
      new RegExp(
        `^${bob.address} is registered; its key bundle is verified\\.\\n  bundle       ${cid}\\n  fingerprint  ([0-9a-f]{4} ){4}[0-9a-f]{4}\\n  on chain     not checked: .*\\n$`,
      ),
    )

    const stranger = await runCli(['whois', STRANGER, '--json'], { env })
    expect(stranger.code).toBe(0)
    expect(json(stranger.stdout)).toMatchInlineSnapshot(`
      {
        "address": "0x5A0b54D5dc17e0AadC383d2db43B0a0D3E029c4c",
        "anchored": null,
        "bundleCid": null,
        "problem": "not registered: this wallet has no DMTP keys on this server",
        "registered": false,
        "verified": false,
      }
    `)
    expect((await runCli(['whois', STRANGER], { env })).stdout).toMatchInlineSnapshot(`
      "0x5A0b54D5dc17e0AadC383d2db43B0a0D3E029c4c is not registered: it has no DMTP keys on this server.
      "
    `)
  })

  test('behavior: whois reports a key bundle that fails verification', async () => {
    await using server = await TestServer.create({ dialect })
    const bob = newUser(server)
    const { cid } = json((await bob.run(['setup', '--json'])).stdout)
    // A server that swaps the keys in a bundle: the wallet's signature and the CID no longer match.
    const db = server.ctx.database.db
    const stored = await db.selectFrom('key_bundles').select('bundle').where('cid', '=', cid).executeTakeFirstOrThrow()
    const bundle = json(stored.bundle)
    const { x25519, ed25519 } = bundle.DMTPpubKey
    bundle.DMTPpubKey = { ...bundle.DMTPpubKey, x25519: ed25519, ed25519: x25519 }
    await db
      .updateTable('key_bundles')
      .set({ bundle: JSON.stringify(bundle) })
      .where('cid', '=', cid)
      .execute()
    // The server caches current keys; a restart makes it serve what the database now holds.
    await server.restart()

    const env = { DMTP_SERVER: server.url }
    const result = await runCli(['whois', bob.address, '--json'], { env })
    expect(result).toMatchObject({ code: 0, stderr: '' })
    expect(json(result.stdout)).toEqual({
      address: bob.address,
      registered: true,
      verified: false,
      bundleCid: cid,
      anchored: null,
      problem: expect.stringContaining('failed verification'),
    })
    const human = await runCli(['whois', bob.address], { env })
    expect(human.stdout).toContain(`${bob.address} is registered, but its key bundle FAILED verification`)
  })

  test('behavior: to a wallet without keys, --no-relay fails with recipient_not_registered and stores nothing', async () => {
    await using server = await TestServer.create({ dialect })
    const alice = newUser(server)
    await alice.run(['setup'])
    const before = await rowCounts(server)
    const result = await alice.run(['send', '--to', STRANGER, '--no-relay', 'anyone there?', '--json'])
    expect(result).toMatchObject({ code: 1, stdout: '' })
    expect(result.stderr).toMatchInlineSnapshot(`
      "{"error":{"code":"recipient_not_registered","message":"0x5A0b54D5dc17e0AadC383d2db43B0a0D3E029c4c has not set up DMTP yet, so an end-to-end encrypted message cannot reach it."}}
      "
    `)
    const human = await alice.run(['send', '--to', STRANGER, '--no-relay', 'anyone there?'])
    expect(human).toMatchObject({ code: 1, stdout: '' })
    expect(human.stderr).toMatchInlineSnapshot(`
      "error: 0x5A0b54D5dc17e0AadC383d2db43B0a0D3E029c4c has not set up DMTP yet, so an end-to-end encrypted message cannot reach it.
      Ask them to open DMTP once with their wallet, or send through the server (not end-to-end encrypted until they set up).
      "
    `)
    expect(await rowCounts(server)).toEqual(before)
  })

  test('behavior: relaying through a server whose key cannot be checked (no chain) fails with server_key_rejected', async () => {
    await using server = await TestServer.create({ dialect })
    const alice = newUser(server)
    await alice.run(['setup'])
    const before = await rowCounts(server)
    const result = await alice.run(['send', '--to', STRANGER, 'anyone there?', '--json'])
    expect(result).toMatchObject({ code: 1, stdout: '' })
    expect(json(result.stderr)).toEqual({
      error: { code: 'server_key_rejected', message: expect.stringContaining('anchors on no chain') },
    })
    expect(await rowCounts(server)).toEqual(before)
  })

  test('behavior: sending before setup fails with keys_not_set_up', async () => {
    await using server = await TestServer.create({ dialect })
    const alice = newUser(server)
    const result = await alice.run(['send', '--to', STRANGER, 'hi', '--json'])
    expect(result).toMatchObject({ code: 1, stdout: '' })
    expect(json(result.stderr)).toEqual({
      error: { code: 'keys_not_set_up', message: `${alice.address} has no DMTP keys on this server yet; set them up first.` },
    })
  })

  test('behavior: the session token is kept in --home and reused across commands', async () => {
    await using server = await TestServer.create({ dialect })
    const alice = newUser(server)
    const bob = newUser(server)
    await bob.run(['setup'])
    for (const args of [['setup'], ['send', '--to', bob.address, 'one'], ['send', '--to', bob.address, 'two'], ['read']]) {
      expect((await alice.run(args)).code).toBe(0)
    }
    const sessions = await server.ctx.database.db
      .selectFrom('sessions')
      .selectAll()
      .where('address', '=', alice.address)
      .execute()
    expect(sessions).toHaveLength(1)

    // The home keeps the session token, and what the SDK holds the server to (newest key bundles,
    // receipts of sends, the chain pin) — public values only, never key material.
    const file = path.join(alice.home, 'sessions.json')
    const text = fs.readFileSync(file, 'utf8')
    const keys = Object.keys(json(text))
    expect(keys.filter((key) => key.startsWith('dmtp:session:'))).toEqual([
      `dmtp:session:${server.url}:${alice.address.toLowerCase()}`,
    ])
    expect(keys).toContain(`dmtp:newest-key:${server.url}:${bob.address.toLowerCase()}`)
    for (const key of keys) expect(key).toMatch(/^dmtp:(session|newest-key|receipts|chain):/)
    expect(text).not.toContain(alice.key.slice(2))
    expect(fs.statSync(file).mode & 0o777).toBe(0o600)
    expect(fs.statSync(alice.home).mode & 0o777).toBe(0o700)
  })

  test('behavior: --wallet-key-file and text from stdin', async () => {
    await using server = await TestServer.create({ dialect })
    const alice = newUser(server)
    const bob = newUser(server)
    await bob.run(['setup'])
    const keyFile = path.join(alice.home, 'wallet.key')
    fs.writeFileSync(keyFile, `  ${alice.key}\n`, { mode: 0o600 })
    const fromFile = (args: string[], input?: string) =>
      runCli(['--home', alice.home, '--wallet-key-file', keyFile, ...args], { env: { DMTP_SERVER: server.url }, input })

    expect(json((await fromFile(['setup', '--json'])).stdout).address).toBe(alice.address)
    const sent = await fromFile(['send', '--to', bob.address, '-'], 'line one\nline two\n')
    expect(sent).toMatchObject({ code: 0, stderr: expect.stringMatching(UNCHECKED_KEY) })
    const [message] = json((await bob.run(['read', '--with', alice.address, '--json'])).stdout)
    expect(message).toMatchObject({ sender: alice.address, text: 'line one\nline two' })
    const human = await bob.run(['read', '--with', alice.address])
    expect(human.stdout).toMatch(/: line one\n {4}line two\n$/)
  })
})
