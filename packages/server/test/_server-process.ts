/**
 * A DMTP server in its own process (from the built `dist`), for tests that must kill it the hard
 * way. It keeps its port across restarts so clients and key bundles (which name the domain) stay
 * valid. `npm test` builds before testing, so `dist` is current. `DMTP_TEST_CRASH_AT=<point>`
 * makes it kill itself at that checkpoint (faults.ts), as a kill -9 there would.
 */
import { type ChildProcess, spawn } from 'node:child_process'
import fs from 'node:fs'
import net from 'node:net'
import path from 'node:path'
import { fileURLToPath } from 'node:url'

const SERVER_DIST = fileURLToPath(new URL('../dist/index.js', import.meta.url))

const SCRIPT = `
const { readEnv, envToConfig, envToSecrets, Server, crashAt } = await import(process.env.DMTP_SERVER_DIST)
const env = readEnv()
const config = envToConfig(env)
const point = process.env.DMTP_TEST_CRASH_AT
const server = await Server.create(config, envToSecrets(env, config), point ? { checkpoint: crashAt(point) } : {})
const url = await server.start()
process.stdout.write(JSON.stringify({ url }) + '\\n')
process.on('SIGTERM', async () => { await server.destroy(); process.exit(0) })
`

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const probe = net.createServer()
    probe.listen(0, '127.0.0.1', () => {
      const { port } = probe.address() as net.AddressInfo
      probe.close(() => resolve(port))
    })
    probe.on('error', reject)
  })
}

export class ServerProcess {
  private constructor(
    readonly child: ChildProcess,
    readonly url: string,
  ) {}

  static async start(env: Record<string, string>): Promise<ServerProcess> {
    const child = spawn(process.execPath, ['--input-type=module', '-e', SCRIPT], {
      env: { ...process.env, ...env, DMTP_SERVER_DIST: SERVER_DIST },
      stdio: ['ignore', 'pipe', 'pipe'],
    })
    let errors = ''
    child.stderr?.on('data', (chunk: Buffer) => {
      errors += chunk.toString()
    })
    const url = await new Promise<string>((resolve, reject) => {
      let out = ''
      child.stdout?.on('data', (chunk: Buffer) => {
        out += chunk.toString()
        const line = out.split('\n')[0]
        if (out.includes('\n') && line) resolve((JSON.parse(line) as { url: string }).url)
      })
      child.once('exit', (code, signal) =>
        reject(new Error(`server exited (${code ?? signal}) before listening: ${errors.slice(-800)}`)),
      )
    })
    return new ServerProcess(child, url)
  }

  /** Resolves with the signal or code the process ended with. */
  exited(): Promise<string> {
    if (this.child.exitCode !== null || this.child.signalCode !== null) {
      return Promise.resolve(String(this.child.signalCode ?? this.child.exitCode))
    }
    return new Promise((resolve) => this.child.once('exit', (code, signal) => resolve(String(signal ?? code))))
  }

  async stop(): Promise<void> {
    if (this.child.exitCode === null && this.child.signalCode === null) {
      this.child.kill('SIGTERM')
      await this.exited()
    }
  }
}

/** Kills an anvil a killed server left behind (tests clean up after themselves). */
export function killOrphanAnvil(dataDir: string): void {
  try {
    const pid = Number(fs.readFileSync(path.join(dataDir, 'chain', 'anvil.pid'), 'utf8'))
    if (pid > 0) process.kill(pid, 'SIGKILL')
  } catch {
    // nothing left behind
  }
}
