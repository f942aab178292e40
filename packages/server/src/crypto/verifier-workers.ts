/**
 * Ed25519 verification in worker threads, in batches. The server checks one signature per message
 * (~80 µs of CPU on a small VM); inline that would be most of its event loop. libuv's threadpool
 * takes one job per signature: each wakes a thread, and with its four threads contending with the
 * event loop on two cores, the server delivered ~10% fewer messages than with the checks batched
 * (measured with the replay benchmark). Here the checks queued in one turn of the event loop
 * travel to a worker in one transferred buffer and come back as one array of answers.
 *
 * A check that arrives while nothing else is queued or in flight, and is the first of its turn,
 * goes to the base backend (inline there): a round trip to a worker costs more latency than the
 * check itself when the server is idle.
 */
import { availableParallelism } from 'node:os'
import { Worker } from 'node:worker_threads'
import type { CryptoBackend } from '@dmtp/protocol'

// Dynamic imports only: the eval'd worker inherits the parent's flags, so it may run as a
// CommonJS script or as an ES module (`--input-type=module`), and must work as both.
const WORKER_SOURCE = `
;(async () => {
  const { parentPort } = await import('node:worker_threads')
  const { createPublicKey, verify } = await import('node:crypto')
  const keys = new Map()
  const publicKey = (bytes) => {
    const x = Buffer.from(bytes).toString('base64url')
    let key = keys.get(x)
    if (!key) {
      if (keys.size >= 4096) keys.clear()
      key = createPublicKey({ key: { kty: 'OKP', crv: 'Ed25519', x }, format: 'jwk' })
      keys.set(x, key)
    }
    return key
  }
  parentPort.on('message', ({ id, buffer, count }) => {
    const bytes = new Uint8Array(buffer)
    const view = new DataView(buffer)
    const answers = new Uint8Array(count)
    let offset = 0
    for (let i = 0; i < count; i++) {
      const length = view.getUint32(offset)
      const key = bytes.subarray(offset + 4, offset + 36)
      const signature = bytes.subarray(offset + 36, offset + 100)
      const message = bytes.subarray(offset + 100, offset + 100 + length)
      offset += 100 + length
      try { answers[i] = verify(null, message, publicKey(key), signature) ? 1 : 0 } catch { answers[i] = 0 }
    }
    parentPort.postMessage({ id, answers }, [answers.buffer])
  })
})()
`

/** Checks per batch at most; a fuller queue is split over the workers. */
const MAX_BATCH = 256

type Check = { key: Uint8Array; message: Uint8Array; signature: Uint8Array; resolve: (valid: boolean) => void }
type Thread = { worker: Worker; pending: Map<number, Check[]>; load: number }

export type VerifierWorkers = {
  /** `base` with `ed25519Verify` batched to the workers; every other primitive is `base`'s. */
  crypto: CryptoBackend
  stop(): Promise<void>
}

/**
 * @param threads - worker threads; defaults to one less than the cores (at least one, at most 4).
 * @example
 * const verifiers = startVerifierWorkers(nodeCryptoBackend)
 * const valid = await verifiers.crypto.ed25519Verify(publicKey, message, signature)
 * await verifiers.stop()
 */
export function startVerifierWorkers(base: CryptoBackend, { threads }: { threads?: number } = {}): VerifierWorkers {
  const count = threads ?? Math.min(4, Math.max(1, availableParallelism() - 1))
  let threadsAlive: Thread[] = []
  const queue: Check[] = []
  let flushScheduled = false
  let nextId = 0

  // A worker that fails hands its checks back to the base backend: none is lost or answered wrong.
  const retire = (thread: Thread) => {
    threadsAlive = threadsAlive.filter((t) => t !== thread)
    for (const checks of thread.pending.values()) {
      for (const check of checks) void base.ed25519Verify(check.key, check.message, check.signature).then(check.resolve)
    }
    thread.pending.clear()
  }

  for (let i = 0; i < count; i++) {
    const thread: Thread = { worker: new Worker(WORKER_SOURCE, { eval: true }), pending: new Map(), load: 0 }
    thread.worker.on('message', ({ id, answers }: { id: number; answers: Uint8Array }) => {
      const checks = thread.pending.get(id)
      if (!checks) return
      thread.pending.delete(id)
      thread.load -= checks.length
      if (thread.load === 0) thread.worker.unref()
      for (const [j, check] of checks.entries()) check.resolve(answers[j] === 1)
    })
    thread.worker.on('error', () => retire(thread))
    thread.worker.on('exit', () => retire(thread))
    // An idle worker never keeps the process alive; one with checks in flight does (see `send`).
    thread.worker.unref()
    threadsAlive.push(thread)
  }

  const send = (thread: Thread, checks: Check[]) => {
    let size = 0
    for (const check of checks) size += 100 + check.message.length
    const buffer = new ArrayBuffer(size)
    const bytes = new Uint8Array(buffer)
    const view = new DataView(buffer)
    let offset = 0
    for (const { key, signature, message } of checks) {
      view.setUint32(offset, message.length)
      bytes.set(key, offset + 4)
      bytes.set(signature, offset + 36)
      bytes.set(message, offset + 100)
      offset += 100 + message.length
    }
    const id = nextId++
    thread.pending.set(id, checks)
    if (thread.load === 0) thread.worker.ref()
    thread.load += checks.length
    thread.worker.postMessage({ id, buffer, count: checks.length }, [buffer])
  }

  const flush = () => {
    flushScheduled = false
    while (queue.length > 0) {
      const thread = threadsAlive.reduce<Thread | undefined>((best, t) => (!best || t.load < best.load ? t : best), undefined)
      const batch = queue.splice(0, MAX_BATCH)
      if (thread) send(thread, batch)
      else for (const check of batch) void base.ed25519Verify(check.key, check.message, check.signature).then(check.resolve)
    }
  }

  let ranInlineThisTurn = false
  const mayRunInline = () => {
    if (ranInlineThisTurn || queue.length > 0 || threadsAlive.some((thread) => thread.load > 0)) return false
    ranInlineThisTurn = true
    setImmediate(() => {
      ranInlineThisTurn = false
    })
    return true
  }

  const ed25519Verify: CryptoBackend['ed25519Verify'] = (key, message, signature) => {
    if (!(key instanceof Uint8Array) || key.length !== 32) return Promise.resolve(false)
    if (!(signature instanceof Uint8Array) || signature.length !== 64) return Promise.resolve(false)
    if (!(message instanceof Uint8Array)) return Promise.resolve(false)
    if (threadsAlive.length === 0 || mayRunInline()) return base.ed25519Verify(key, message, signature)
    return new Promise((resolve) => {
      queue.push({ key, message, signature, resolve })
      if (queue.length >= MAX_BATCH * threadsAlive.length) flush()
      else if (!flushScheduled) {
        flushScheduled = true
        setImmediate(flush)
      }
    })
  }

  return {
    crypto: { ...base, ed25519Verify },
    async stop() {
      flush()
      await Promise.all(
        threadsAlive.map(
          (thread) =>
            new Promise<void>((resolve) => {
              const drained = () => (thread.pending.size === 0 ? resolve() : setTimeout(drained, 5))
              drained()
            }),
        ),
      )
      const stopping = threadsAlive
      threadsAlive = []
      await Promise.all(stopping.map((thread) => thread.worker.terminate()))
    },
  }
}
