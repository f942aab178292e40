/**
 * Builds every dependency of the server in order, and tears them down in reverse. Holds no
 * request logic. Tests pass overrides (a clock, a log destination) instead of touching globals.
 */
import type { CryptoBackend } from '@dmtp/protocol'
import { nodeCryptoBackend } from '@dmtp/protocol/node'
import type { DestinationStream } from 'pino'
import type { ServerConfig } from './config/config.js'
import type { ServerSecrets } from './config/secrets.js'
import { startVerifierWorkers, type VerifierWorkers } from './crypto/verifier-workers.js'
import { Database } from './db/database.js'
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
import { KeyService } from './services/keys/key-service.js'
import { MessageService } from './services/messages/message-service.js'
import { MessageWriter } from './services/messages/message-writer.js'
import { MigrationService } from './services/migration/migration-service.js'
import { RoomService } from './services/rooms/room-service.js'
import { ServerKeyService } from './services/server-key/server-key-service.js'

export type AppContextOverrides = {
  clock?: Clock
  logDestination?: DestinationStream
  crypto?: CryptoBackend
  /** A directory of static files (the web app's build) to serve at /; the server uses it only to register those routes. */
  webRoot?: string
}

export class AppContext {
  private constructor(
    readonly config: ServerConfig,
    readonly logger: Logger,
    readonly clock: Clock,
    readonly crypto: CryptoBackend,
    readonly identity: ServiceIdentity,
    readonly database: Database,
    readonly pubSub: PubSub,
    readonly blockStore: BlockStore,
    readonly chain: ChainClient | undefined,
    readonly anchoring: AnchoringService,
    readonly writer: MessageWriter,
    readonly auth: AuthService,
    readonly keys: KeyService,
    readonly rooms: RoomService,
    readonly messages: MessageService,
    readonly serverKey: ServerKeyService,
    readonly migrations: MigrationService,
    readonly apiKeys: ApiKeyService,
    private readonly verifiers: VerifierWorkers | undefined,
  ) {}

  static async fromConfig(
    config: ServerConfig,
    secrets: ServerSecrets,
    overrides: AppContextOverrides = {},
  ): Promise<AppContext> {
    const logger = createLogger(config.log, overrides.logDestination)
    const clock = overrides.clock ?? systemClock
    const identity = new ServiceIdentity(config.service.chainId, config.service.publicUrl)
    const database =
      config.db.provider === 'sqlite'
        ? Database.sqlite(config.db.path)
        : await Database.postgres({ url: config.db.url, schema: config.db.schema })
    try {
      await database.migrateToLatest()
    } catch (error) {
      await database.destroy()
      throw error
    }
    const pubSub = createPubSub(config.pubSub)
    let blockStore: BlockStore
    try {
      blockStore = await createBlockStore(config.blockStore)
    } catch (error) {
      await database.destroy()
      throw error
    }
    let chain: ChainClient | undefined
    try {
      chain = await createChain(config.chain, {
        chainId: config.service.chainId,
        dataDir: config.dataDir,
        operatorKey: secrets.operatorKey,
      })
    } catch (error) {
      await blockStore.destroy()
      await database.destroy()
      throw error
    }
    if (chain) logger.info({ chain: chain.info }, 'chain ready')
    const verifiers =
      overrides.crypto || config.verifyThreads === 0
        ? undefined
        : startVerifierWorkers(nodeCryptoBackend, { threads: config.verifyThreads })
    const crypto = overrides.crypto ?? verifiers?.crypto ?? nodeCryptoBackend
    const anchoring = new AnchoringService(
      database,
      crypto,
      blockStore,
      chain,
      pubSub,
      config.anchoring,
      clock,
      logger.child({ subsystem: 'server:anchoring' }),
      config.faults,
    )
    const writer = new MessageWriter(database, pubSub, clock)
    const auth = new AuthService(database, config.auth, identity, clock)
    const keys = new KeyService(database, crypto, identity, pubSub, clock)
    const rooms = new RoomService(database, clock)
    const serverKey = new ServerKeyService(
      crypto,
      keys,
      identity,
      secrets.operatorKey,
      clock,
      logger.child({ subsystem: 'server:keys' }),
    )
    const messages = new MessageService(database, crypto, keys, rooms, writer, config.limits, clock, serverKey)
    const migrations = new MigrationService(
      database,
      crypto,
      keys,
      serverKey,
      blockStore,
      pubSub,
      clock,
      logger.child({ subsystem: 'server:migration' }),
      config.faults,
    )
    const apiKeys = new ApiKeyService(database, config.apiKeys, clock)
    logger.info({ db: config.db.provider, dataDir: config.dataDir }, 'context ready')
    return new AppContext(
      config,
      logger,
      clock,
      crypto,
      identity,
      database,
      pubSub,
      blockStore,
      chain,
      anchoring,
      writer,
      auth,
      keys,
      rooms,
      messages,
      serverKey,
      migrations,
      apiKeys,
      verifiers,
    )
  }

  async destroy(): Promise<void> {
    await this.migrations.stop()
    await this.anchoring.stop()
    await this.writer.flush()
    await this.verifiers?.stop()
    await this.pubSub.destroy()
    await this.chain?.destroy()
    await this.blockStore.destroy()
    await this.database.destroy()
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.destroy()
  }
}
