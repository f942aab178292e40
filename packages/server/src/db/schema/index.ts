import type * as apiKeys from './api-keys.js'
import type * as authNonces from './auth-nonces.js'
import type * as blockDeletions from './block-deletions.js'
import type * as cids from './cids.js'
import type * as counters from './counters.js'
import type * as handoffs from './handoffs.js'
import type * as keyBundles from './key-bundles.js'
import type * as manifests from './manifests.js'
import type * as messages from './messages.js'
import type * as processingChats from './processing-chats.js'
import type * as roomEpochs from './room-epochs.js'
import type * as roomKeyDeliveries from './room-key-deliveries.js'
import type * as roomLinks from './room-links.js'
import type * as roomMembers from './room-members.js'
import type * as roomRoles from './room-roles.js'
import type * as rooms from './rooms.js'
import type * as sessions from './sessions.js'
import type * as users from './users.js'

export type DatabaseSchema = users.PartialDB &
  keyBundles.PartialDB &
  rooms.PartialDB &
  roomMembers.PartialDB &
  roomRoles.PartialDB &
  roomEpochs.PartialDB &
  roomKeyDeliveries.PartialDB &
  roomLinks.PartialDB &
  processingChats.PartialDB &
  counters.PartialDB &
  messages.PartialDB &
  manifests.PartialDB &
  cids.PartialDB &
  handoffs.PartialDB &
  blockDeletions.PartialDB &
  sessions.PartialDB &
  authNonces.PartialDB &
  apiKeys.PartialDB
