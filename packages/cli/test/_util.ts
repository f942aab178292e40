/**
 * Test helpers: run the BUILT `dmtp` (bin/dmtp.js → dist) as a child process, as a person or a
 * script would, against a `TestServer`. Build first (`npx tsc -b`; `npm test` does it): the
 * helpers refuse to run a build older than its sources.
 */
import { type ChildProcessWithoutNullStreams, spawn } from 'node:child_process'
import fs from 'node:fs'
import net from 'node:net'
import os from 'node:os'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { createClient, privateKeyWallet } from '@dmtp/sdk'
import { generatePrivateKey, privateKeyToAccount } from 'viem/accounts'
import { onTestFinished } from 'vitest'

export { DIALECTS, rowCounts, TestServer } from '../../server/test/_util.js'

/**
 * The CLI is a client: what it prints does not depend on the server's database, which the server
 * and SDK suites test on every dialect. Its tests run on SQLite (each command is a process start,
 * ~0.7 s; twice the dialects would be twice the minutes). `dmtp apikey`, which opens the
 * server's database itself, still runs on every dialect.
 */
export const CLIENT_DIALECTS = ['sqlite'] as const

const PACKAGES = fileURLToPath(new URL('../../', import.meta.url))
const BIN = path.join(PACKAGES, 'cli/bin/dmtp.js')

assertBuilt()

/** A wallet that never ran setup (fixed, so error messages can be snapshotted). */
export const STRANGER = '0x5A0b54D5dc17e0AadC383d2db43B0a0D3E029c4c'

export type CliResult = { code: number | null; stdout: string; stderr: string }
export type RunOptions = { env?: Record<string, string> | undefined; input?: string | undefined; timeoutMs?: number }

/** Runs `dmtp …args` to completion. Only PATH and a scratch HOME are inherited from this process. */
export function runCli(args: string[], { env = {}, input, timeoutMs = 20_000 }: RunOptions = {}): Promise<CliResult> {
  const child = spawnCli(args, env)
  child.stdin.end(input)
  let stdout = ''
  let stderr = ''
  child.stdout.on('data', (chunk) => {
    stdout += chunk
  })
  child.stderr.on('data', (chunk) => {
    stderr += chunk
  })
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL')
      reject(new Error(`dmtp ${args.join(' ')} timed out\nstdout: ${stdout}\nstderr: ${stderr}`))
    }, timeoutMs)
    child.on('close', (code) => {
      clearTimeout(timer)
      resolve({ code, stdout, stderr })
    })
  })
}

/** A long-running `dmtp` (serve, read --follow): wait for output, then stop it with a signal. */
export type CliProcess = {
  readonly stdout: string
  readonly stderr: string
  /** Resolves once `stream`'s output so far matches. */
  waitFor(stream: 'stdout' | 'stderr', pattern: RegExp, timeoutMs?: number): Promise<void>
  /** Sends `signal` and resolves with the exit code. */
  stop(signal?: NodeJS.Signals): Promise<number | null>
}

export function startCli(args: string[], { env = {} }: Pick<RunOptions, 'env'> = {}): CliProcess {
  const child = spawnCli(args, env)
  const output = { stdout: '', stderr: '' }
  const exited = new Promise<number | null>((resolve) => child.on('close', resolve))
  const onOutput = (stream: 'stdout' | 'stderr') => (chunk: Buffer) => {
    output[stream] += chunk
  }
  child.stdout.on('data', onOutput('stdout'))
  child.stderr.on('data', onOutput('stderr'))
  onTestFinished(() => {
    if (child.exitCode === null) child.kill('SIGKILL')
  })
  return {
    get stdout() {
      return output.stdout
    },
    get stderr() {
      return output.stderr
    },
    async waitFor(stream, pattern, timeoutMs = 15_000) {
      const deadline = Date.now() + timeoutMs
      while (!pattern.test(output[stream])) {
        if (child.exitCode !== null)
          throw new Error(`dmtp exited (${child.exitCode}) before ${stream} matched ${pattern}\n${JSON.stringify(output)}`)
        if (Date.now() > deadline)
          throw new Error(`timed out waiting for ${stream} to match ${pattern}\n${JSON.stringify(output)}`)
        await new Promise((resolve) => setTimeout(resolve, 25))
      }
    },
    stop(signal = 'SIGINT') {
      child.kill(signal)
      return exited
    },
  }
}

export type User = {
  key: `0x${string}`
  address: `0x${string}`
  home: string
  /** Runs `dmtp` as this user: --home, DMTP_SERVER and DMTP_WALLET_KEY set. */
  run(args: string[], options?: RunOptions): Promise<CliResult>
  /** Starts a long-running `dmtp` as this user. */
  start(args: string[]): CliProcess
}

/** A fresh wallet with its own --home, removed when the test ends. */
export function newUser(server: { url: string }): User {
  const key = generatePrivateKey()
  const home = fs.mkdtempSync(path.join(os.tmpdir(), 'dmtp-cli-home-'))
  onTestFinished(() => fs.rmSync(home, { recursive: true, force: true }))
  const env = { DMTP_SERVER: server.url, DMTP_WALLET_KEY: key }
  return {
    key,
    address: privateKeyToAccount(key).address,
    home,
    run: (args, options = {}) => runCli(['--home', home, ...args], { ...options, env: { ...env, ...options.env } }),
    start: (args) => startCli(['--home', home, ...args], { env }),
  }
}

/**
 * Sets up users' keys through the SDK, in this process: quicker than a `dmtp setup` each, for
 * tests about other commands.
 */
export async function setUp(server: { url: string }, ...users: User[]): Promise<void> {
  await Promise.all(users.map((user) => createClient({ server: server.url, wallet: privateKeyWallet(user.key) }).setup()))
}

/** Parses the one JSON document a `--json` command printed. */
export function json<T = any>(output: string): T {
  return JSON.parse(output) as T
}

/** A local port nothing listens on. */
export async function closedPort(): Promise<number> {
  const server = net.createServer()
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const { port } = server.address() as net.AddressInfo
  await new Promise((resolve) => server.close(resolve))
  return port
}

function spawnCli(args: string[], env: Record<string, string>): ChildProcessWithoutNullStreams {
  return spawn(process.execPath, [BIN, ...args], {
    env: { PATH: process.env.PATH ?? '', HOME: path.join(os.tmpdir(), 'dmtp-cli-test-home'), ...env },
  })
}

/** Fails fast, with the fix, when the build the CLI runs from is missing or older than its sources. */
function assertBuilt(): void {
  for (const name of ['protocol', 'sdk', 'server', 'cli']) {
    const buildInfo = path.join(PACKAGES, name, 'dist/.tsbuildinfo')
    const built = fs.existsSync(buildInfo) ? fs.statSync(buildInfo).mtimeMs : 0
    const sources = fs.readdirSync(path.join(PACKAGES, name, 'src'), { recursive: true, encoding: 'utf8' })
    const stale = sources.find(
      (file) =>
        file.endsWith('.ts') && !file.endsWith('.test.ts') && fs.statSync(path.join(PACKAGES, name, 'src', file)).mtimeMs > built,
    )
    if (built === 0 || stale) {
      throw new Error(
        `The cli tests run the built dmtp, but packages/${name}/dist is ${built ? `older than src/${stale}` : 'missing'}: run npx tsc -b first.`,
      )
    }
  }
}
