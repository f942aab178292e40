import type { BlockStoreConfig } from '../../config/config.js'
import { DiskBlockStore } from './disk-block-store.js'
import { KuboBlockStore } from './kubo-block-store.js'
import { SqliteBlockStore } from './sqlite-block-store.js'
import type { BlockStore } from './types.js'

export async function createBlockStore(config: BlockStoreConfig): Promise<BlockStore> {
  switch (config.provider) {
    case 'sqlite':
      return SqliteBlockStore.create(config)
    case 'disk':
      return DiskBlockStore.create(config)
    case 'kubo':
      return KuboBlockStore.create(config)
  }
}
