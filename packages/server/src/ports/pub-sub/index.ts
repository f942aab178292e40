import type { PubSubConfig } from '../../config/config.js'
import { MemoryPubSub } from './memory-pub-sub.js'
import type { PubSub } from './types.js'

export function createPubSub(config: PubSubConfig): PubSub {
  switch (config.provider) {
    case 'memory':
      return new MemoryPubSub()
  }
}
