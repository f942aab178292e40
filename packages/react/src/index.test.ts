// @vitest-environment node
import { describe, expect, test } from 'vitest'
import * as exports from './index.js'

describe('exports', () => {
  test('default', () => {
    expect(Object.keys(exports)).toMatchInlineSnapshot(`
      [
        "DMTPProvider",
        "DMTPNotConnectedError",
        "DMTPProviderNotFoundError",
        "useConnectDMTP",
        "useConnectionState",
        "useConversations",
        "useDMTPClient",
        "useDMTPEvent",
        "useJoinRequests",
        "useMembers",
        "useMessages",
        "useRoom",
        "useRoomEncryption",
        "useRooms",
        "useSearchRooms",
        "useSendMessage",
        "localStorageStorage",
      ]
    `)
  })
})
