/** The `/v1/stream` WebSocket route; connections are tracked so shutdown can close them cleanly. */
import type { FastifyInstance } from 'fastify'
import type { AppContext } from '../context.js'
import { CLOSE, StreamConnection } from './stream-connection.js'

export async function streamRoutes(app: FastifyInstance, { ctx }: { ctx: AppContext }): Promise<void> {
  const connections = new Set<StreamConnection>()
  app.get('/v1/stream', { websocket: true, schema: { hide: true } }, (socket) => {
    const connection = new StreamConnection(ctx, socket)
    connections.add(connection)
    socket.on('close', () => connections.delete(connection))
  })
  app.addHook('preClose', async () => {
    for (const connection of connections) connection.close(CLOSE.goingAway, 'server shutting down')
  })
}
