/**
 * Issue 16 item 19: `dmtp serve` killed with SIGKILL leaves no anvil behind. The embedded chain runs
 * under a watchdog that stops it (with the state dump of a clean stop) when the server's end of a
 * pipe closes, as the kernel does for a killed process; the next start on the same data dir finds
 * the port and the state file free, and the chain as it was.
 */
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { describe, expect, onTestFinished, test } from 'vitest'
import { json, startCli } from './_util.js'

/** Every live process whose command line names `needle`, with its argv. */
function processesNaming(needle: string): { pid: number; argv: string[] }[] {
  const found: { pid: number; argv: string[] }[] = []
  for (const entry of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue
    let cmdline: string
    try {
      cmdline = fs.readFileSync(`/proc/${entry}/cmdline`, 'utf8')
    } catch {
      continue
    }
    const status = fs.existsSync(`/proc/${entry}/status`) ? fs.readFileSync(`/proc/${entry}/status`, 'utf8') : ''
    // A zombie is dead; it only waits for its parent to read its exit status.
    if (cmdline.includes(needle) && !/^State:\s+Z/m.test(status)) found.push({ pid: Number(entry), argv: cmdline.split('\0') })
  }
  return found
}

const isAnvilBinary = (argv: string[]) => path.basename(argv[0] ?? '') === 'anvil'

async function rpc(url: string, method: string, params: unknown[]): Promise<unknown> {
  const response = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ jsonrpc: '2.0', id: 1, method, params }),
  })
  const body = (await response.json()) as { result?: unknown; error?: unknown }
  if (body.error) throw new Error(`${method}: ${JSON.stringify(body.error)}`)
  return body.result
}

async function serve(data: string) {
  const server = startCli(['serve', '--port', '0', '--data', data, '--json'], { env: { DMTP_LOG_LEVEL: 'warn' } })
  await server.waitFor('stdout', /\n/, 60_000)
  return { server, info: json(server.stdout) }
}

describe('dmtp serve and its embedded anvil', () => {
  test('behavior: kill -9 of serve stops its anvil at once; a restart on the same data works, with the chain intact', async () => {
    const data = fs.mkdtempSync(path.join(os.tmpdir(), 'dmtp-cli-orphan-'))
    onTestFinished(() => {
      for (const { pid } of processesNaming(path.join(data, 'chain'))) process.kill(pid, 'SIGKILL')
      fs.rmSync(data, { recursive: true, force: true })
    })
    const state = path.join(data, 'chain', 'chain.json')
    const first = await serve(data)
    const anvils = processesNaming(state).filter(({ argv }) => isAnvilBinary(argv))
    expect(anvils).toHaveLength(1)
    const anvil = anvils[0]?.pid as number
    // Written just before the kill, so only the dump of a clean stop (not the periodic one) keeps it.
    const marker = `0x${'1234'.repeat(10)}`
    await rpc(first.info.chain.rpcUrl, 'anvil_setBalance', [marker, '0xdead'])

    const killedAt = Date.now()
    expect(await first.server.stop('SIGKILL')).toBe(null)
    while (fs.existsSync(`/proc/${anvil}`) && processesNaming(state).some(({ pid }) => pid === anvil)) {
      if (Date.now() - killedAt > 5_000) throw new Error(`anvil ${anvil} still runs 5 s after its server was killed`)
      await new Promise((resolve) => setTimeout(resolve, 25))
    }
    const goneMs = Date.now() - killedAt
    expect(goneMs).toBeLessThan(5_000)
    // The watchdog goes with it: nothing naming this data dir's chain is left.
    for (let i = 0; i < 40 && processesNaming(state).length > 0; i++) await new Promise((resolve) => setTimeout(resolve, 25))
    expect(processesNaming(state)).toEqual([])
    await expect(fetch(first.info.chain.rpcUrl)).rejects.toThrow()

    const second = await serve(data)
    expect(second.info.chain.registry).toBe(first.info.chain.registry)
    expect(await rpc(second.info.chain.rpcUrl, 'eth_getBalance', [marker, 'latest'])).toBe('0xdead')
    expect(await rpc(second.info.chain.rpcUrl, 'eth_getCode', [second.info.chain.registry, 'latest'])).not.toBe('0x')
    expect((await fetch(`${second.info.url}/v1/info`)).status).toBe(200)
    expect(await second.server.stop('SIGTERM')).toBe(0)
    expect(processesNaming(state)).toEqual([])
    expect(fs.existsSync(path.join(data, 'chain', 'anvil.pid'))).toBe(false)
    console.log(`anvil gone ${goneMs} ms after kill -9 of dmtp serve`)
  }, 120_000)
})
