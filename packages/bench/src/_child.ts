/**
 * Spawns a bench child process (server or echo server) and waits for its first JSON line. Later
 * lines answer `request`s, one JSON line each way (stdin → stdout).
 */
import { type ChildProcess, spawn } from 'node:child_process'
import { once } from 'node:events'
import { fileURLToPath } from 'node:url'

export type Child<T> = {
  info: T
  process: ChildProcess
  /** Sends one JSON line to the child and resolves with the JSON line it answers. */
  request<R>(message: unknown): Promise<R>
  stop(): Promise<void>
}

export async function startChild<T>(script: string, args: string[] = []): Promise<Child<T>> {
  const file = fileURLToPath(new URL(script, import.meta.url))
  const child = spawn(process.execPath, [file, ...args], { stdio: ['pipe', 'pipe', 'inherit'] })
  const waiting: { resolve(value: unknown): void; reject(error: Error): void }[] = []
  let buffer = ''
  child.stdout?.on('data', (chunk: Buffer) => {
    buffer += chunk.toString()
    for (let newline = buffer.indexOf('\n'); newline >= 0; newline = buffer.indexOf('\n')) {
      const line = buffer.slice(0, newline)
      buffer = buffer.slice(newline + 1)
      waiting.shift()?.resolve(JSON.parse(line))
    }
  })
  child.once('exit', (code) => {
    for (const waiter of waiting.splice(0)) waiter.reject(new Error(`${script} exited with ${code}`))
  })
  const nextLine = <R>() =>
    new Promise<R>((resolve, reject) => waiting.push({ resolve: resolve as (v: unknown) => void, reject }))
  const info = await nextLine<T>()
  return {
    info,
    process: child,
    request<R>(message: unknown) {
      const answer = nextLine<R>()
      child.stdin?.write(`${JSON.stringify(message)}\n`)
      return answer
    },
    async stop() {
      if (child.exitCode !== null) return
      child.kill('SIGTERM')
      await once(child, 'exit')
    },
  }
}
