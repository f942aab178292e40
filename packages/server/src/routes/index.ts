/** Every route module, registered by hand and in order. */
import type { FastifyInstance } from 'fastify'
import type { AppContext } from '../context.js'
import { jsonBodyPlugin } from '../plugins.js'
import { streamRoutes } from '../ws/index.js'
import { anchoringRoutes } from './anchoring/index.js'
import { apiKeyRoutes } from './api-keys/index.js'
import { authRoutes } from './auth/index.js'
import { healthRoutes } from './health/index.js'
import { ipfsRoutes } from './ipfs/index.js'
import { keyRoutes } from './keys/index.js'
import { messageRoutes } from './messages/index.js'
import { migrationRoutes } from './migrations/index.js'
import { roomRoutes } from './rooms/index.js'
import { roomKeyRoutes } from './rooms/keys.js'
import { roomLinkRoutes } from './rooms/links.js'

export async function registerRoutes(app: FastifyInstance, ctx: AppContext): Promise<void> {
  // Every JSON body below goes through the strict parser (UTF-8 only, charset checked).
  await app.register(jsonBodyPlugin)
  await app.register(healthRoutes, { ctx })
  await app.register(authRoutes, { ctx })
  await app.register(apiKeyRoutes, { ctx })
  await app.register(keyRoutes, { ctx })
  await app.register(roomRoutes, { ctx })
  await app.register(roomKeyRoutes, { ctx })
  await app.register(roomLinkRoutes, { ctx })
  await app.register(messageRoutes, { ctx })
  await app.register(anchoringRoutes, { ctx })
  await app.register(migrationRoutes, { ctx })
  await app.register(ipfsRoutes, { ctx })
  await app.register(streamRoutes, { ctx })
}
