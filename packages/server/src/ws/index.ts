/** The `/v1/stream` WebSocket route; connections are tracked so shutdown can close them cleanly. */
import type { FastifyInstance } from 'fastify'
import type { AppContext } from '../context.js'
import { HttpError } from '../errors.js'
import { CLOSE, StreamConnection } from './stream-connection.js'
import { WalletStreams } from './stream-limits.js'

export async function streamRoutes(app: FastifyInstance, { ctx }: { ctx: AppContext }): Promise<void> {
  const connections = new Set<StreamConnection>()
  const walletStreams = new WalletStreams(ctx.config.limits.stream.perWallet)
  app.route({
    method: 'GET',
    url: '/v1/stream',
    schema: { hide: true },
    // A plain GET (no Upgrade) gets the project's error body; 426 must name the protocol (RFC 9110 §15.5.22).
    handler: async (_request, reply) => {
      reply.header('upgrade', 'websocket')
      throw new HttpError({ code: 'upgrade_required', message: 'Open /v1/stream as a WebSocket (Upgrade: websocket).' })
    },
    wsHandler: (socket) => {
      const connection = new StreamConnection(ctx, socket, walletStreams)
      connections.add(connection)
      socket.on('close', () => connections.delete(connection))
    },
  })
  app.addHook('preClose', async () => {
    for (const connection of connections) connection.close(CLOSE.goingAway, 'server shutting down')
  })
}
