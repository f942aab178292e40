/**
 * Builds every dependency of the server from its config, in order, and tears them down in
 * reverse: each resource is registered for teardown as soon as it exists, so a failure halfway
 * closes what was opened. Holds no request logic. Tests pass overrides (a clock, a log
 * destination, a crash checkpoint) instead of touching globals.
 */
import type { CryptoBackend } from '@dmtp/protocol'
import { nodeCryptoBackend } from '@dmtp/protocol/node'
import type { DestinationStream } from 'pino'
import type { ServerConfig } from './config/config.js'
import type { ServerSecrets } from './config/secrets.js'
import { startVerifierWorkers } from './crypto/verifier-workers.js'
import { Database } from './db/database.js'
import { type Checkpoint, noCheckpoint } from './faults.js'
import { type Clock, ServiceIdentity, systemClock } from './identity.js'
import { createLogger, type Logger } from './logger.js'
import { createBlockStore } from './ports/block-store/index.js'
import type { BlockStore } from './ports/block-store/types.js'
import { createChain } from './ports/chain/index.js'
import type { ChainClient } from './ports/chain/types.js'
import { createPubSub } from './ports/pub-sub/index.js'
import type { PubSub } from './ports/pub-sub/types.js'
import { AnchoringService } from './services/anchoring/anchoring-service.js'
import { ApiKeyService } from './services/api-keys/api-key-service.js'
import { AuthService } from './services/auth/auth-service.js'
import { BlockSweeper } from './services/blocks/block-sweeper.js'
import { KeyService } from './services/keys/key-service.js'
import { MessageService } from './services/messages/message-service.js'
import { MigrationService } from './services/migration/migration-service.js'
import { RoomLinkService } from './services/room-links/room-link-service.js'
import { RoomCache } from './services/rooms/room-cache.js'
import { RoomKeyService } from './services/rooms/room-key-service.js'
import { RoomService } from './services/rooms/room-service.js'
import { RoomWriter } from './services/rooms/room-writer.js'
import { ServerKeyService } from './services/server-key/server-key-service.js'

export type AppContextOverrides = {
  clock?: Clock
  logDestination?: DestinationStream
  crypto?: CryptoBackend
  /** A directory of static files (the web app's build) to serve at /; the server uses it only to register those routes. */
  webRoot?: string
  /** Called at each named point of multi-step work; tests pass `crashAt(point)` (faults.ts). */
  checkpoint?: Checkpoint
}

type Teardown = () => Promise<void> | void

export class AppContext {
  readonly config!: ServerConfig
  readonly logger!: Logger
  readonly clock!: Clock
  readonly crypto!: CryptoBackend
  readonly identity!: ServiceIdentity
  readonly database!: Database
  readonly pubSub!: PubSub
  readonly blockStore!: BlockStore
  readonly chain!: ChainClient | undefined
  readonly checkpoint!: Checkpoint
  readonly roomCache!: RoomCache
  readonly sweeper!: BlockSweeper
  readonly writer!: RoomWriter
  readonly auth!: AuthService
  readonly keys!: KeyService
  readonly serverKey!: ServerKeyService
  readonly rooms!: RoomService
  readonly roomKeys!: RoomKeyService
  readonly roomLinks!: RoomLinkService
  readonly messages!: MessageService
  readonly migrations!: MigrationService
  readonly anchoring!: AnchoringService
  readonly apiKeys!: ApiKeyService

  private readonly teardowns: Teardown[] = []

  private constructor() {}

  static async fromConfig(
    config: ServerConfig,
    secrets: ServerSecrets,
    overrides: AppContextOverrides = {},
  ): Promise<AppContext> {
    const ctx = new AppContext()
    // Fields are assigned once, here, in dependency order (readonly to everyone else).
    const set = ctx as { -readonly [K in keyof AppContext]: AppContext[K] }
    try {
      set.config = config
      set.logger = createLogger(config.log, overrides.logDestination)
      set.clock = overrides.clock ?? systemClock
      set.checkpoint = overrides.checkpoint ?? noCheckpoint
      set.identity = new ServiceIdentity(config.service.chainId, config.service.publicUrl)
      const database =
        config.db.provider === 'sqlite'
          ? Database.sqlite(config.db.path)
          : await Database.postgres({ url: config.db.url, schema: config.db.schema })
      set.database = database
      ctx.teardowns.push(() => database.destroy())
      await database.migrateToLatest()
      const pubSub = createPubSub(config.pubSub)
      set.pubSub = pubSub
      ctx.teardowns.push(() => pubSub.destroy())
      const blockStore = await createBlockStore(config.blockStore)
      set.blockStore = blockStore
      ctx.teardowns.push(() => blockStore.destroy())
      const chain = await createChain(config.chain, {
        chainId: config.service.chainId,
        dataDir: config.dataDir,
        operatorKey: secrets.operatorKey,
      })
      set.chain = chain
      if (chain) {
        ctx.teardowns.push(() => chain.destroy())
        ctx.logger.info({ chain: chain.info }, 'chain ready')
      }
      const verifiers =
        overrides.crypto || config.verifyThreads === 0
          ? undefined
          : startVerifierWorkers(nodeCryptoBackend, { threads: config.verifyThreads })
      if (verifiers) ctx.teardowns.push(() => verifiers.stop())
      set.crypto = overrides.crypto ?? verifiers?.crypto ?? nodeCryptoBackend
      ctx.wireServices(secrets)
      ctx.logger.info({ db: config.db.provider, dataDir: config.dataDir }, 'context ready')
      return ctx
    } catch (error) {
      await ctx.destroy()
      throw error
    }
  }

  /** The services, each given one dependency object. */
  private wireServices(secrets: ServerSecrets): void {
    const set = this as { -readonly [K in keyof AppContext]: AppContext[K] }
    const { config, logger, clock, crypto, identity, database, pubSub, blockStore, chain, checkpoint } = this
    set.roomCache = new RoomCache()
    set.sweeper = new BlockSweeper({ database, blockStore, clock, logger: logger.child({ subsystem: 'server:blocks' }) })
    set.writer = new RoomWriter({
      database,
      pubSub,
      clock,
      roomCache: this.roomCache,
      sweeper: this.sweeper,
      crypto,
      rotation: config.limits.rotation,
      // Made below; the writer asks for it only once the server has started.
      serverKey: { get: () => this.serverKey.get() },
    })
    set.auth = new AuthService({ database, config: config.auth, identity, clock })
    set.keys = new KeyService({ database, crypto, identity, pubSub, clock })
    set.serverKey = new ServerKeyService({
      crypto,
      keyService: this.keys,
      identity,
      operatorKey: secrets.operatorKey,
      clock,
      logger: logger.child({ subsystem: 'server:keys' }),
    })
    const shared = {
      database,
      crypto,
      keys: this.keys,
      roomCache: this.roomCache,
      writer: this.writer,
      clock,
      limits: config.limits,
    }
    set.rooms = new RoomService({ ...shared, pubSub })
    set.roomKeys = new RoomKeyService({ ...shared, rooms: this.rooms })
    set.roomLinks = new RoomLinkService({ ...shared, rooms: this.rooms })
    set.messages = new MessageService({ ...shared, serverKey: this.serverKey, rooms: this.rooms })
    set.migrations = new MigrationService({
      database,
      crypto,
      keys: this.keys,
      serverKey: this.serverKey,
      pubSub,
      sweeper: this.sweeper,
      clock,
      logger: logger.child({ subsystem: 'server:migration' }),
      checkpoint,
    })
    set.anchoring = new AnchoringService({
      database,
      crypto,
      blockStore,
      chain,
      pubSub,
      config: config.anchoring,
      clock,
      logger: logger.child({ subsystem: 'server:anchoring' }),
      checkpoint,
    })
    set.apiKeys = new ApiKeyService({ database, config: config.apiKeys, clock })
    // Torn down before the ports they use: jobs first, then whatever is queued to write.
    this.teardowns.push(
      () => this.writer.flush(),
      () => this.sweeper.stop(),
      () => this.anchoring.stop(),
      () => this.migrations.stop(),
    )
  }

  /** Tears down in reverse order of construction; safe to call twice. */
  async destroy(): Promise<void> {
    for (const teardown of this.teardowns.splice(0).reverse()) {
      try {
        await teardown()
      } catch (error) {
        this.logger?.warn({ err: error }, 'teardown failed')
      }
    }
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.destroy()
  }
}
