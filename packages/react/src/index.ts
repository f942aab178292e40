/**
 * @dmtp/react: React hooks for DMTP, wallet-to-wallet messaging in 1:1 rooms (end-to-end
 * encrypted) and groups. `DMTPProvider`, `useConnectDMTP` and `useSendMessage` keep the names and
 * shapes of the public DMTP React SDK (`dmtp-sdk-react`), so its apps can switch with few changes.
 */

export type { ConnectionStateReturnType, ConnectStatus, DMTPEvent, MessageAction, RoomChange } from './_store.js'
export { DMTPProvider, type DMTPProviderProps } from './dmtp-provider.js'
export {
  DMTPNotConnectedError,
  type DMTPNotConnectedErrorType,
  DMTPProviderNotFoundError,
  type DMTPProviderNotFoundErrorType,
} from './errors.js'
export { type UseConnectDMTPReturnType, useConnectDMTP } from './hooks/use-connect-dmtp.js'
export { useConnectionState } from './hooks/use-connection-state.js'
export { type UseConversationsReturnType, useConversations } from './hooks/use-conversations.js'
export { useDMTPClient } from './hooks/use-dmtp-client.js'
export { useDMTPEvent } from './hooks/use-dmtp-event.js'
export { type UseJoinRequestsReturnType, useJoinRequests } from './hooks/use-join-requests.js'
export { type UseMembersParameters, type UseMembersReturnType, useMembers } from './hooks/use-members.js'
export {
  type SendOptions,
  type UseMessagesParameters,
  type UseMessagesReturnType,
  useMessages,
} from './hooks/use-messages.js'
export { type ModerationOptions, type Removal, type UseRoomReturnType, useRoom } from './hooks/use-room.js'
export { type UseRoomEncryptionReturnType, useRoomEncryption } from './hooks/use-room-encryption.js'
export { type UseRoomsReturnType, useRooms } from './hooks/use-rooms.js'
export { type UseSearchRoomsParameters, type UseSearchRoomsReturnType, useSearchRooms } from './hooks/use-search-rooms.js'
export {
  type UseSendMessageErrorType,
  type UseSendMessageReturnType,
  useSendMessage,
} from './hooks/use-send-message.js'
export { localStorageStorage } from './local-storage-storage.js'
