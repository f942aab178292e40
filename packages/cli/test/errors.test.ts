import fs from 'node:fs'
import { describe, expect, test } from 'vitest'
import { closedPort, json, runCli, STRANGER } from './_util.js'

describe('dmtp errors', () => {
  test('behavior: a command that signs without a wallet is wallet_required', async () => {
    const result = await runCli(['send', '--to', STRANGER, 'hi', '--json'])
    expect(result).toMatchObject({ code: 1, stdout: '' })
    expect(result.stderr).toMatchInlineSnapshot(`
      "{"error":{"code":"wallet_required","message":"This command needs a wallet, and none was given."}}
      "
    `)
    const human = await runCli(['read'])
    expect(human).toMatchObject({ code: 1, stdout: '' })
    expect(human.stderr).toMatchInlineSnapshot(`
      "error: This command needs a wallet, and none was given.
      Set DMTP_WALLET_KEY=0x… (your wallet private key), or pass --wallet-key-file FILE.
      "
    `)
  })

  test('behavior: a malformed address or key is invalid_request', async () => {
    const env = { DMTP_WALLET_KEY: `0x${'11'.repeat(32)}` }
    const short = await runCli(['send', '--to', '0x1234', 'hi', '--json'], { env })
    expect(short).toMatchObject({ code: 1, stdout: '' })
    expect(short.stderr).toMatchInlineSnapshot(`
      "{"error":{"code":"invalid_request","message":"\\"0x1234\\" is not a wallet address: expected a 0x-prefixed 20-byte hex address."}}
      "
    `)
    const checksum = await runCli(['whois', STRANGER.replace('a', 'A'), '--json'])
    expect(checksum.stderr).toMatchInlineSnapshot(`
      "{"error":{"code":"invalid_request","message":"\\"0x5A0b54D5dc17e0AAdC383d2db43B0a0D3E029c4c\\" is not a wallet address: the address has a wrong EIP-55 checksum."}}
      "
    `)
    const key = await runCli(['setup', '--json'], { env: { DMTP_WALLET_KEY: '0xnot-a-key' } })
    expect(key).toMatchObject({ code: 1, stdout: '' })
    expect(key.stderr).toMatchInlineSnapshot(`
      "{"error":{"code":"invalid_request","message":"DMTP_WALLET_KEY does not hold a private key (0x + 64 hex digits)."}}
      "
    `)
  })

  test('behavior: an unreachable server is unavailable', async () => {
    const port = await closedPort()
    const result = await runCli(['whois', STRANGER, '--json', '--server', `http://127.0.0.1:${port}`])
    expect(result).toMatchObject({ code: 1, stdout: '' })
    expect(json(result.stderr)).toEqual({
      error: { code: 'unavailable', message: `Cannot reach the DMTP server at http://127.0.0.1:${port}.` },
    })
    const human = await runCli(['whois', STRANGER], { env: { DMTP_SERVER: `http://127.0.0.1:${port}` } })
    expect(human.stderr).toBe(
      `error: Cannot reach the DMTP server at http://127.0.0.1:${port}.\nIs the server running? Start one with \`dmtp serve\`, or point at another with --server URL.\n`,
    )
    expect(human.stderr).not.toMatch(/\n\s+at /)
  })

  test('behavior: usage errors exit 2', async () => {
    const missing = await runCli(['send', 'hi', '--json'])
    expect(missing).toMatchObject({ code: 2, stdout: '' })
    expect(missing.stderr).toMatchInlineSnapshot(`
      "{"error":{"code":"usage","message":"pass --to <address> or --room <id> (one of them)"}}
      "
    `)
    const early = await runCli(['--server', 'ftp://example.com', 'whois', STRANGER, '--json'])
    expect(early).toMatchObject({ code: 2, stdout: '' })
    expect(early.stderr).toMatchInlineSnapshot(`
      "{"error":{"code":"usage","message":"option '--server <url>' argument 'ftp://example.com' is invalid. Expected an http:// or https:// URL."}}
      "
    `)
    const unknown = await runCli(['sned'])
    expect(unknown).toMatchObject({ code: 2, stdout: '' })
    expect(unknown.stderr).toMatchInlineSnapshot(`
      "error: unknown command 'sned'
      (Did you mean send?)
      See \`dmtp --help\`.
      "
    `)
    expect((await runCli(['serve', '--port', '70000'])).code).toBe(2)
    expect((await runCli([])).code).toBe(2)
  })

  test('behavior: --help shows examples; --version prints the version', async () => {
    const help = await runCli(['--help'])
    expect(help).toMatchObject({ code: 0, stderr: '' })
    expect(help.stdout).toContain('Examples:')
    for (const command of ['serve', 'setup', 'send', 'read', 'whois']) {
      const result = await runCli([command, '--help'])
      expect(result).toMatchObject({ code: 0, stderr: '' })
      expect(result.stdout).toContain(`Usage: dmtp ${command}`)
      expect(result.stdout).toContain('Examples:')
      expect(result.stdout).toContain('Global Options:')
    }
    const { version } = json(fs.readFileSync(new URL('../package.json', import.meta.url), 'utf8'))
    expect(await runCli(['--version'])).toEqual({ code: 0, stdout: `${version}\n`, stderr: '' })
  })
})
