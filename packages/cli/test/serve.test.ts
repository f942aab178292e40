import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { describe, expect, test } from 'vitest'
import { json, runCli, STRANGER, startCli } from './_util.js'

describe('dmtp serve', () => {
  test('default: --port 0 --json prints the URL, serves, and stops cleanly on SIGTERM', async () => {
    const data = fs.mkdtempSync(path.join(os.tmpdir(), 'dmtp-cli-serve-'))
    try {
      const serve = startCli(['serve', '--port', '0', '--data', data, '--json'], { env: { DMTP_LOG_LEVEL: 'warn' } })
      await serve.waitFor('stdout', /\n/)
      const info = json(serve.stdout)
      expect(info).toEqual({
        url: expect.stringMatching(/^http:\/\/localhost:\d+$/),
        dataDir: data,
        database: 'sqlite',
        chain: {
          chainId: 31337,
          rpcUrl: expect.stringMatching(/^http:\/\/127\.0\.0\.1:\d+$/),
          registry: expect.stringMatching(/^0x[0-9a-fA-F]{40}$/),
          operator: expect.stringMatching(/^0x[0-9a-fA-F]{40}$/),
        },
      })
      expect((await fetch(`${info.url}/v1/info`)).status).toBe(200)
      const whois = await runCli(['whois', STRANGER, '--json', '--server', info.url])
      expect(json(whois.stdout)).toMatchObject({ registered: false })

      expect(await serve.stop('SIGTERM')).toBe(0)
      expect(fs.existsSync(path.join(data, 'dmtp.sqlite'))).toBe(true)
      // The embedded chain stopped with the server, leaving its state for the next start.
      expect(fs.existsSync(path.join(data, 'chain', 'chain.json'))).toBe(true)
      expect(fs.existsSync(path.join(data, 'chain', 'anvil.pid'))).toBe(false)
      await expect(fetch(`${info.url}/v1/info`)).rejects.toThrow()
    } finally {
      fs.rmSync(data, { recursive: true, force: true })
    }
  })

  test('behavior: prints the listening line for people; SIGINT stops it', async () => {
    const data = fs.mkdtempSync(path.join(os.tmpdir(), 'dmtp-cli-serve-'))
    try {
      const serve = startCli(['serve', '--port', '0', '--data', data], { env: { DMTP_LOG_LEVEL: 'silent' } })
      await serve.waitFor('stdout', /registry 0x/)
      expect(serve.stdout).toMatch(
        /^DMTP server listening on http:\/\/localhost:\d+\nAnchoring on chain 31337 at http:\/\/127\.0\.0\.1:\d+, registry 0x[0-9a-fA-F]{40}\n$/,
      )
      expect(await serve.stop('SIGINT')).toBe(0)
    } finally {
      fs.rmSync(data, { recursive: true, force: true })
    }
  })

  test('behavior: a bad environment is invalid_config', async () => {
    const result = await runCli(['serve', '--json'], { env: { DMTP_DATABASE_URL: 'mysql://nope' } })
    expect(result).toMatchObject({ code: 1, stdout: '' })
    expect(result.stderr).toMatchInlineSnapshot(`
      "{"error":{"code":"invalid_config","message":"DMTP_DATABASE_URL must start with postgres://, postgresql:// or sqlite:"}}
      "
    `)
  })
})
