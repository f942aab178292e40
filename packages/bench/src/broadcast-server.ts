/**
 * The floor for fan-out: a bare `ws` server that sends every frame it receives to every connected
 * socket (the sender's included, as a room's stream delivers to its sender), the same text to
 * each, with nothing checked, stored or routed. It batches as DMTP's room writer does: frames
 * that arrive while the event loop turns go out together on the next turn (`setImmediate`), each
 * socket corked meanwhile, so one socket's frames of a batch leave in one `writev`. Without that,
 * a bare broadcast makes one syscall per frame and per socket and is slower than DMTP itself.
 * Any line on stdin is answered with `{ cpuMs, frames, flushes }`: the CPU time this process has
 * used, and the frames broadcast so far in how many batches.
 */
import type { Socket } from 'node:net'
import readline from 'node:readline'
import { WebSocketServer } from 'ws'
import { cpuMs } from './_stats.js'

const server = new WebSocketServer({ host: '127.0.0.1', port: 0 })
let batch: Buffer[] = []
const counts = { frames: 0, flushes: 0 }

function flush(): void {
  const frames = batch
  batch = []
  counts.frames += frames.length
  counts.flushes++
  for (const client of server.clients) {
    // `_socket` is ws's underlying net.Socket (an internal, stable across ws 8), as DMTP's stream uses it.
    const tcp = (client as unknown as { _socket?: Socket })._socket
    tcp?.cork()
    for (const frame of frames) client.send(frame, { binary: false })
    tcp?.uncork()
  }
}

server.on('connection', (socket) =>
  socket.on('message', (data: Buffer) => {
    if (batch.push(data) === 1) setImmediate(flush)
  }),
)
server.on('listening', () => {
  const address = server.address()
  process.stdout.write(`${JSON.stringify({ port: address !== null && typeof address === 'object' ? address.port : 0 })}\n`)
})
process.on('SIGTERM', () => server.close(() => process.exit(0)))
readline
  .createInterface({ input: process.stdin })
  .on('line', () => process.stdout.write(`${JSON.stringify({ cpuMs: cpuMs(), ...counts })}\n`))
