/**
 * The embedded chain: anvil (Foundry's local EVM node, from the npm package `@foundry-rs/anvil`,
 * whose platform package ships the binary) run as a child process. Its state is loaded from and
 * dumped to a file in the data dir (`--state … --state-interval 5`), so the contract and every
 * anchor survive restarts.
 *
 * Anvil has no check of its parent, so it runs under a watchdog (POSIX `sh`): the shell starts
 * anvil and a reader of its stdin, a pipe whose other end only this process holds. However this
 * process ends, SIGKILL included, the kernel closes that end; the reader sees end of file and stops
 * anvil with SIGTERM, which dumps its state on the way out. The shell leads its own process group,
 * so anvil, the reader and the shell can be signalled together, and a terminal's Ctrl-C reaches
 * the server, which stops anvil itself. A start still finds a previous group by its pid file (a
 * watchdog still waiting for anvil's dump) and waits for it to end, so the port and the state file
 * are free and nothing written to the chain is lost. Windows has no `sh`: anvil runs unwatched.
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

// `sh -c WATCHDOG anvil <binary> <args…>`: fd 3 keeps the pipe for the reader; anvil reads nothing.
const WATCHDOG =
  'exec 3<&0; "$@" </dev/null & anvil=$!; (cat <&3 >/dev/null; kill -TERM "$anvil" 2>/dev/null) & exec 3<&-; wait "$anvil"'
const WATCHED = process.platform !== 'win32'

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
    const args = [
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
    ]
    const child = WATCHED
      ? spawn('/bin/sh', ['-c', WATCHDOG, 'anvil', anvilBinary(), ...args], { stdio: ['pipe', 'pipe', 'pipe'], detached: true })
      : spawn(anvilBinary(), args, { stdio: ['ignore', 'pipe', 'pipe'] })
    // Once anvil is gone, the reader need not wait for this process to end.
    child.once('exit', () => child.stdin?.destroy())
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

  /** Stops anvil; it writes its state file on the way out. Resolves once it has exited. */
  async stop(): Promise<void> {
    if (this.child.exitCode === null && this.child.signalCode === null) {
      const exited = new Promise((resolve) => this.child.once('exit', resolve))
      // Closing the watchdog's pipe is what a dying server does: the watchdog stops anvil.
      if (WATCHED) this.child.stdin?.destroy()
      else this.child.kill('SIGTERM')
      const stopped = await Promise.race([exited.then(() => true), sleep(5_000).then(() => false)])
      if (!stopped) {
        if (WATCHED && this.child.pid) signalGroup(this.child.pid, 'SIGKILL')
        else this.child.kill('SIGKILL')
        await exited
      }
    }
    fs.rmSync(this.pidFile, { force: true })
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms))
}

function signalGroup(leader: number, signal: NodeJS.Signals): void {
  try {
    process.kill(-leader, signal)
  } catch {
    // Already gone.
  }
}

/**
 * Stops what a previous start left running. The pid file names the watchdog, which leads a
 * process group: while any of the group lives (anvil dumping its state), its id cannot be reused,
 * so a live group with a dead or anvil-running leader is the old one. An older release wrote
 * anvil's own pid, not a group: that is stopped alone.
 */
async function stopOrphan(pidFile: string): Promise<void> {
  let pid: number
  try {
    pid = Number(fs.readFileSync(pidFile, 'utf8'))
  } catch {
    return
  }
  if (!Number.isInteger(pid) || pid <= 0) return
  const group = isAlive(-pid) && (!isAlive(pid) || isAnvil(pid))
  if (!group && !isAnvil(pid)) return
  const target = group ? -pid : pid
  process.kill(target, 'SIGTERM')
  for (let i = 0; i < 100 && isAlive(target); i++) await sleep(50)
  if (isAlive(target)) process.kill(target, 'SIGKILL')
  for (let i = 0; i < 40 && isAlive(target); i++) await sleep(50)
}

/** Whether process `pid` (or, negative, any process of group `-pid`) exists. */
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
