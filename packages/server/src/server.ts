/**
 * The DMTP server: Fastify with zod-validated routes, the WebSocket stream, OpenAPI at /docs,
 * per-address rate limits and one error shape. `create` builds without listening (tests use
 * `inject`); `start` listens; `destroy` closes the app, then the context.
 */
import type { AddressInfo } from 'node:net'
import { version } from '@dmtp/protocol'
import cors from '@fastify/cors'
import rateLimit from '@fastify/rate-limit'
import swagger from '@fastify/swagger'
import swaggerUi from '@fastify/swagger-ui'
import websocket from '@fastify/websocket'
import Fastify, { type FastifyBaseLogger, type FastifyInstance } from 'fastify'
import { jsonSchemaTransform, validatorCompiler, type ZodTypeProvider } from 'fastify-type-provider-zod'
import type { ServerConfig } from './config/config.js'
import type { ServerSecrets } from './config/secrets.js'
import { clientErrorHandler, connectionLimitPlugin } from './connection-limits.js'
import { AppContext, type AppContextOverrides } from './context.js'
import { HttpError } from './errors.js'
import { apiKeyPlugin, authPlugin, corsOptions, errorPlugin, frameworkErrorHandler } from './plugins.js'
import { registerRoutes } from './routes/index.js'
import { webRoutes } from './routes/web/index.js'

const MAX_FRAME_BYTES = 128 * 1024

export class Server {
  private constructor(
    readonly app: FastifyInstance,
    readonly ctx: AppContext,
  ) {}

  static async create(config: ServerConfig, secrets: ServerSecrets, overrides: AppContextOverrides = {}): Promise<Server> {
    const ctx = await AppContext.fromConfig(config, secrets, overrides)
    try {
      const app = Fastify({
        loggerInstance: ctx.logger.child({ subsystem: 'server:http' }) as FastifyBaseLogger,
        bodyLimit: config.limits.bodyBytes,
        // CIDs with longer hashes (sha2-512) exceed Fastify's default of 100 characters.
        routerOptions: { maxParamLength: 256 },
        // A longer one (or a bad percent-encoding) is answered in the project's error shape.
        frameworkErrors: frameworkErrorHandler,
        trustProxy: false,
        // Streams are told 1001 first (ws/index.ts); an upgraded socket whose peer never finishes
        // the close handshake would otherwise hold `close()` for ws's 30 s close timeout.
        forceCloseConnections: true,
        ...httpTimeouts(config),
        clientErrorHandler,
      }).withTypeProvider<ZodTypeProvider>()
      app.setValidatorCompiler(validatorCompiler)
      // The API speaks JSON only: without this, Fastify's built-in text/plain parser would turn a
      // text body into a string and answer 400 instead of 415.
      app.removeContentTypeParser('text/plain')
      // Responses are built by our own code from validated data; they are documented with zod
      // schemas but serialized as plain JSON rather than validated a second time.
      app.setSerializerCompiler(() => (data) => JSON.stringify(data))
      await app.register(errorPlugin, { ctx })
      await app.register(swagger, {
        openapi: {
          info: { title: 'DMTP API', version, description: 'Wallet-to-wallet end-to-end encrypted messaging. See docs/api.md.' },
          components: { securitySchemes: { bearer: { type: 'http', scheme: 'bearer' } } },
        },
        transform: jsonSchemaTransform,
      })
      await app.register(swaggerUi, { routePrefix: '/docs' })
      // Before the hooks below: its own onRequest hook marks upgrade requests, so that an upgrade
      // refused by a later hook (a bad API key) still has its socket closed after the answer.
      await app.register(websocket, {
        options: { maxPayload: MAX_FRAME_BYTES },
        // Root preClose hooks run before those of route plugins, and the plugin's default closes
        // every socket without a status code. Streams must get 1001 "going away" from
        // ws/index.ts (clients resume on it), so this one only stops accepting upgrades (503).
        preClose(done) {
          this.websocketServer.close()
          done()
        },
      })
      // CORS first, so preflights are answered and refusals below still carry CORS headers.
      await app.register(cors, corsOptions)
      await app.register(connectionLimitPlugin, { perIp: config.limits.connectionsPerIp })
      await app.register(apiKeyPlugin, { ctx })
      await app.register(authPlugin, { ctx })
      await app.register(rateLimit, {
        hook: 'preHandler',
        max: config.limits.requestsPerMinute,
        timeWindow: 60_000,
        keyGenerator: (request) => request.session?.address ?? request.ip,
        // The plugin throws what this returns; an HttpError keeps this message through the error handler.
        errorResponseBuilder: (_request, context) =>
          new HttpError({ code: 'rate_limited', message: `Too many requests; retry in ${Math.ceil(context.ttl / 1000)} s.` }),
      })
      await registerRoutes(app, ctx)
      if (overrides.webRoot) await app.register(webRoutes, { root: overrides.webRoot })
      return new Server(app, ctx)
    } catch (error) {
      await ctx.destroy()
      throw error
    }
  }

  /** Listens, and fixes the public URL from the bound address when none was configured. */
  async start(): Promise<string> {
    await this.app.listen({ host: this.ctx.config.service.host, port: this.ctx.config.service.port })
    const { port } = this.app.server.address() as AddressInfo
    if (!this.ctx.identity.isSet) this.ctx.identity.set(`http://localhost:${port}`)
    await this.ctx.serverKey.ensure()
    await this.ctx.migrations.start()
    this.ctx.anchoring.start()
    this.ctx.logger.info({ url: this.ctx.identity.url }, 'listening')
    return this.ctx.identity.url
  }

  /** The port actually bound (useful with port 0). */
  get port(): number {
    return (this.app.server.address() as AddressInfo).port
  }

  async destroy(): Promise<void> {
    await this.app.close()
    await this.ctx.destroy()
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.destroy()
  }
}

/**
 * Node's own timeouts, so idle and slow (slowloris) connections cannot pile up: Node checks the
 * headers and request deadlines on a timer (30 s by default), so that runs every second here.
 * Upgraded streams are not affected (ws turns the socket's timeout off; streams have heartbeats).
 */
function httpTimeouts({ limits: { http } }: ServerConfig) {
  return {
    connectionTimeout: http.idleTimeoutMs,
    keepAliveTimeout: http.keepAliveTimeoutMs,
    requestTimeout: http.requestTimeoutMs,
    http: {
      headersTimeout: http.headersTimeoutMs,
      requestTimeout: http.requestTimeoutMs,
      connectionsCheckingInterval: Math.min(1_000, http.headersTimeoutMs),
    },
  }
}
