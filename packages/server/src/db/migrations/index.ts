/**
 * Every migration, listed by hand (a filesystem provider breaks once the code is bundled). Each
 * takes `(db, dialect)` so the rare dialect-specific column type stays inside the migration.
 */
import type { Kysely, Migration, MigrationProvider } from 'kysely'
import * as foundation from './20261122T000000000Z-foundation.js'
import * as anchoring from './20261122T120000000Z-anchoring.js'
import * as relay from './20261122T180000000Z-relay.js'
import * as apiKeys from './20261123T000000000Z-api-keys.js'
import * as relayedRoomsIndex from './20261127T000000000Z-relayed-rooms-index.js'
import * as keysetIndexes from './20261127T120000000Z-keyset-indexes.js'
import * as rooms from './20261203T000000000Z-rooms.js'
import * as manifestTimeBound from './20261216T000000000Z-manifest-time-bound.js'
import * as roomKeys from './20261220T000000000Z-room-keys.js'
import * as roomLinks from './20261227T000000000Z-room-links.js'
import * as invitationExpiry from './20261230T000000000Z-invitation-expiry.js'

export type Dialect = 'sqlite' | 'postgres'

type DialectMigration = {
  up(db: Kysely<any>, dialect: Dialect): Promise<void>
  down(db: Kysely<any>, dialect: Dialect): Promise<void>
}

const migrations: Record<string, DialectMigration> = {
  '20261122T000000000Z-foundation': foundation,
  '20261122T120000000Z-anchoring': anchoring,
  '20261122T180000000Z-relay': relay,
  '20261123T000000000Z-api-keys': apiKeys,
  '20261127T000000000Z-relayed-rooms-index': relayedRoomsIndex,
  '20261127T120000000Z-keyset-indexes': keysetIndexes,
  '20261203T000000000Z-rooms': rooms,
  '20261216T000000000Z-manifest-time-bound': manifestTimeBound,
  '20261220T000000000Z-room-keys': roomKeys,
  '20261227T000000000Z-room-links': roomLinks,
  '20261230T000000000Z-invitation-expiry': invitationExpiry,
}

export function migrationProvider(dialect: Dialect): MigrationProvider {
  return {
    async getMigrations() {
      const out: Record<string, Migration> = {}
      for (const [name, migration] of Object.entries(migrations)) {
        out[name] = { up: (db) => migration.up(db, dialect), down: (db) => migration.down(db, dialect) }
      }
      return out
    },
  }
}
