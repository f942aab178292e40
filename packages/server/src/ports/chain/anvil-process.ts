/**
 * The embedded chain: anvil (Foundry's local EVM node, from the npm package `@foundry-rs/anvil`,
 * whose platform package ships the binary) run as a child process. Its state is loaded from and
 * dumped to a file in the data dir (`--state … --state-interval 5`), so the contract and every
 * anchor survive restarts.
 *
 * A server killed with SIGKILL cannot stop its child; anvil then keeps running and dumping state.
 * The next start finds it by its pid file and stops it cleanly (it dumps on exit) before starting
 * a new one, so nothing written to the chain is lost.
 */
import { type ChildProcess, spawn } from 'node:child_process'
import fs from 'node:fs'
import { createRequire } from 'node:module'
import path from 'node:path'

const PLATFORM_PACKAGES: Record<string, string> = {
  'linux-x64': '@foundry-rs/anvil-linux-amd64',
  'linux-arm64': '@foundry-rs/anvil-linux-arm64',
  'darwin-x64': '@foundry-rs/anvil-darwin-amd64',
  'darwin-arm64': '@foundry-rs/anvil-darwin-arm64',
  'win32-x64': '@foundry-rs/anvil-win32-amd64',
}

export type AnvilOptions = {
  /** Directory for `chain.json` (state) and `anvil.pid`. */
  dir: string
  chainId: number
  /** Seconds between state dumps. */
  stateInterval?: number
  /** 0 picks a free port. */
  port?: number
}

/** Path of the anvil binary from its npm platform package. */
export function anvilBinary(): string {
  const name = PLATFORM_PACKAGES[`${process.platform}-${process.arch}`]
  if (!name) throw new Error(`anvil has no npm binary for ${process.platform}-${process.arch}; set DMTP_CHAIN_RPC to an EVM node`)
  const manifest = createRequire(import.meta.url).resolve(`${name}/package.json`)
  return path.join(path.dirname(manifest), 'bin', process.platform === 'win32' ? 'anvil.exe' : 'anvil')
}

export class AnvilProcess {
  private constructor(
    private readonly child: ChildProcess,
    readonly rpcUrl: string,
    private readonly pidFile: string,
  ) {}

  /** Starts anvil and resolves once it listens. */
  static async start({ dir, chainId, stateInterval = 5, port = 0 }: AnvilOptions): Promise<AnvilProcess> {
    fs.mkdirSync(dir, { recursive: true })
    const pidFile = path.join(dir, 'anvil.pid')
    await stopOrphan(pidFile)
    const child = spawn(
      anvilBinary(),
      [
        '--host',
        '127.0.0.1',
        '--port',
        String(port),
        '--chain-id',
        String(chainId),
        '--state',
        path.join(dir, 'chain.json'),
        '--state-interval',
        String(stateInterval),
      ],
      { stdio: ['ignore', 'pipe', 'pipe'] },
    )
    const rpcUrl = await new Promise<string>((resolve, reject) => {
      let output = ''
      const onData = (chunk: Buffer) => {
        output += chunk.toString()
        const match = /Listening on ([\d.]+:\d+)/.exec(output)
        if (match) resolve(`http://${match[1]}`)
      }
      child.stdout?.on('data', onData)
      child.stderr?.on('data', (chunk: Buffer) => {
        output += chunk.toString()
      })
      child.once('exit', (code) => reject(new Error(`anvil exited with code ${code} before listening: ${output.slice(-500)}`)))
      child.once('error', reject)
    })
    child.stdout?.removeAllListeners('data')
    child.stdout?.resume()
    child.stderr?.resume()
    if (child.pid) fs.writeFileSync(pidFile, String(child.pid))
    return new AnvilProcess(child, rpcUrl, pidFile)
  }

  /** Stops anvil; it writes its state file on the way out. */
  async stop(): Promise<void> {
    if (this.child.exitCode === null && this.child.signalCode === null) {
      const exited = new Promise((resolve) => this.child.once('exit', resolve))
      this.child.kill('SIGTERM')
      await Promise.race([exited, new Promise((resolve) => setTimeout(resolve, 5_000))])
      if (this.child.exitCode === null && this.child.signalCode === null) this.child.kill('SIGKILL')
    }
    fs.rmSync(this.pidFile, { force: true })
  }
}

async function stopOrphan(pidFile: string): Promise<void> {
  let pid: number
  try {
    pid = Number(fs.readFileSync(pidFile, 'utf8'))
  } catch {
    return
  }
  if (!Number.isInteger(pid) || pid <= 0 || !isAnvil(pid)) return
  process.kill(pid, 'SIGTERM')
  for (let i = 0; i < 100 && isAlive(pid); i++) await new Promise((resolve) => setTimeout(resolve, 50))
  if (isAlive(pid)) process.kill(pid, 'SIGKILL')
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0)
    return true
  } catch {
    return false
  }
}

/** Only ever signal a process that is anvil (a stale pid may have been reused). */
function isAnvil(pid: number): boolean {
  if (!isAlive(pid)) return false
  try {
    return fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes('anvil')
  } catch {
    return process.platform !== 'linux'
  }
}
