/**
 * Connection-level guards. Concurrent TCP connections per IP address (`limits.connectionsPerIp`),
 * HTTP and streams alike.
 * A connection over the limit is not served: its first request, or stream upgrade, is answered
 * `429 too_many_connections` and the connection is closed; one that sends nothing is dropped when
 * idle for a second. The address is the TCP peer's (`trustProxy` is off): behind a proxy every
 * client shares the proxy's, so raise the limit or set it to 0 there.
 *
 * And the answer to what Node refuses before any route runs (a request past its headers or
 * request timeout, oversized headers, malformed HTTP), in the project's error shape.
 */
import { STATUS_CODES } from 'node:http'
import type { Socket } from 'node:net'
import { type ErrorCode, errorCodes } from '@dmtp/protocol'
import type { FastifyInstance } from 'fastify'
import fp from 'fastify-plugin'
import { HttpError } from './errors.js'

/** How long a refused connection may stay silent before it is dropped. */
const REFUSED_IDLE_MS = 1_000

export const connectionLimitPlugin = fp(async (app: FastifyInstance, { perIp }: { perIp: number }) => {
  if (perIp === 0) return
  const open = new Map<string, number>()
  const refused = new WeakSet<Socket>()
  app.server.on('connection', (socket: Socket) => {
    const ip = socket.remoteAddress ?? ''
    const count = open.get(ip) ?? 0
    if (count >= perIp) {
      refused.add(socket)
      socket.setTimeout(REFUSED_IDLE_MS, () => socket.destroy())
      return
    }
    open.set(ip, count + 1)
    socket.once('close', () => {
      const left = (open.get(ip) ?? 1) - 1
      if (left > 0) open.set(ip, left)
      else open.delete(ip)
    })
  })
  app.addHook('onRequest', async (request, reply) => {
    if (!refused.has(request.raw.socket)) return
    reply.header('connection', 'close')
    throw new HttpError({
      code: 'too_many_connections',
      message: `Too many connections from this address (at most ${perIp}); close some and retry.`,
    })
  })
})

/** Fastify's `clientErrorHandler`: answers once if the socket can still take it, then drops it. */
export function clientErrorHandler(error: Error & { code?: string }, socket: Socket): void {
  if (error.code === 'ECONNRESET' || socket.destroyed) return
  const [code, message]: [ErrorCode, string] =
    error.code === 'ERR_HTTP_REQUEST_TIMEOUT'
      ? ['request_timeout', 'The request took too long to arrive.']
      : error.code === 'HPE_HEADER_OVERFLOW'
        ? ['headers_too_large', 'The request headers are too large.']
        : ['invalid_request', 'Malformed HTTP request.']
  const status = errorCodes[code]
  const body = JSON.stringify({ error: { code, message } })
  if (socket.writable) {
    socket.write(
      `HTTP/1.1 ${status} ${STATUS_CODES[status]}\r\nContent-Type: application/json; charset=utf-8\r\n` +
        `Content-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`,
    )
  }
  socket.destroy()
}
