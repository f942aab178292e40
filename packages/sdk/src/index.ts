/**
 * @dmtp/sdk: wallet-to-wallet end-to-end encrypted messaging for Node and browsers.
 */

export type { ChainConfig, ChainOverride, ChainTarget } from './_chain.js'
export type { ChainPin } from './_chain-pin.js'
export {
  type DecryptedMessage,
  type MessageStatus,
  type MessageType,
  type MessageWarning,
  RECEIVED_AT_SKEW_MS,
} from './_decrypt.js'
export type { Invitation } from './_invitation.js'
export type { ProgressReporter } from './_manifests.js'
export type { PostResult } from './_post.js'
export type { BrokenReceipt, HeldReceipt } from './_receipts.js'
export type { ForkHead, ForkRecord, RoomFork } from './_room-fork.js'
export type { LogProblem } from './_room-log.js'
export { shortAddress, systemLine } from './_system-line.js'
export { type AnswerJoinRequestParameters, answerJoinRequest } from './actions/answer-join-request.js'
export {
  type CheckReceiptsErrorType,
  type CheckReceiptsParameters,
  type CheckReceiptsReturnType,
  checkReceipts,
} from './actions/check-receipts.js'
export { type ConversationSummary, type ConversationsReturnType, conversations } from './actions/conversations.js'
export {
  type CreateInviteLinkErrorType,
  type CreateInviteLinkParameters,
  type CreateInviteLinkReturnType,
  createInviteLink,
  DEFAULT_INVITE_LINK_SECONDS,
} from './actions/create-invite-link.js'
export { type CreateRoomParameters, type CreateRoomReturnType, createRoom } from './actions/create-room.js'
export { type DefineRoleParameters, defineRole } from './actions/define-role.js'
export { type DeleteRoomParameters, deleteRoom } from './actions/delete-room.js'
export { type EditParameters, edit } from './actions/edit.js'
export { type FoldMessagesParameters, foldMessages, type MessageView, type Reaction } from './actions/fold-messages.js'
export { type GetInboxErrorType, type GetInboxParameters, type GetInboxReturnType, getInbox } from './actions/get-inbox.js'
export {
  type GetInviteLinksErrorType,
  type GetInviteLinksParameters,
  type GetInviteLinksReturnType,
  getInviteLinks,
} from './actions/get-invite-links.js'
export {
  type GetKeyBundleParameters,
  type GetKeyBundleReturnType,
  getKeyBundle,
  type KeyAnchorStatus,
} from './actions/get-key-bundle.js'
export { type GetMembersParameters, type GetMembersReturnType, getMembers, type VerifiedMember } from './actions/get-members.js'
export {
  type GetMessagesErrorType,
  type GetMessagesParameters,
  type GetMessagesReturnType,
  getMessages,
  type HistoryGap,
  HistoryRejectedError,
  type HistoryRejectedErrorType,
} from './actions/get-messages.js'
export { type GetRoomParameters, type GetRoomReturnType, getRoom } from './actions/get-room.js'
export { type GetRoomKeysParameters, type GetRoomKeysReturnType, getRoomKeys } from './actions/get-room-keys.js'
export { type GetRoomLogParameters, type GetRoomLogReturnType, getRoomLog, type RoomLogEvent } from './actions/get-room-log.js'
export { type GetRoomsReturnType, getRooms, type RoomSummary } from './actions/get-rooms.js'
export { DEFAULT_INVITATION_MS, type InviteParameters, type InviteReturnType, invite } from './actions/invite.js'
export {
  type JoinByLinkErrorType,
  type JoinByLinkParameters,
  type JoinByLinkReturnType,
  joinByLink,
} from './actions/join-by-link.js'
export { type JoinRoomParameters, type JoinRoomReturnType, joinRoom } from './actions/join-room.js'
export { type LeaveRoomParameters, leaveRoom } from './actions/leave-room.js'
export { type MarkReadParameters, markRead } from './actions/mark-read.js'
export { type MigrateParameters, type MigrateReturnType, migrate } from './actions/migrate.js'
export { type ModerateParameters, type ModerationAction, moderate } from './actions/moderate.js'
export { type OnForkParameters, type OnForkReturnType, onFork } from './actions/on-fork.js'
export { type OpenDirectParameters, type OpenDirectReturnType, openDirect } from './actions/open-direct.js'
export { type PinParameters, pin } from './actions/pin.js'
export { type ReactParameters, react } from './actions/react.js'
export { type RecallParameters, recall } from './actions/recall.js'
export {
  type RecoveredMessage,
  type RecoverParameters,
  type RecoverReturnType,
  recover,
  type UnavailableBlock,
  type UnavailableBlockKind,
} from './actions/recover.js'
export { type RepinChainErrorType, type RepinChainReturnType, repinChain } from './actions/repin-chain.js'
export {
  type RevokeInviteLinkErrorType,
  type RevokeInviteLinkParameters,
  type RevokeInviteLinkReturnType,
  revokeInviteLink,
} from './actions/revoke-invite-link.js'
export { type RotateRoomKeyParameters, type RotateRoomKeyReturnType, rotateRoomKey } from './actions/rotate-room-key.js'
export { type SearchRoomsParameters, type SearchRoomsReturnType, searchRooms } from './actions/search-rooms.js'
export { type SendErrorType, type SendParameters, type SendReturnType, send } from './actions/send.js'
export { type SetEncryptionParameters, type SetEncryptionReturnType, setEncryption } from './actions/set-encryption.js'
export { type SetRoleParameters, setRole } from './actions/set-role.js'
export { type SetupErrorType, type SetupParameters, type SetupReturnType, type SetupStep, setup } from './actions/setup.js'
export {
  SignInDomainMismatchError,
  type SignInDomainMismatchErrorType,
  type SignInErrorType,
  type SignInReturnType,
  signIn,
} from './actions/sign-in.js'
export { signOut } from './actions/sign-out.js'
export { type StreamEvent, type StreamParameters, type StreamReturnType, stream } from './actions/stream.js'
export { type UpdateRoomParameters, updateRoom } from './actions/update-room.js'
export {
  type MessageCheck,
  NotAnchoredError,
  type VerifyDetail,
  type VerifyParameters,
  type VerifyReturnType,
  type VerifyWarning,
  verify,
} from './actions/verify.js'
export type { CreateClientParameters, DmtpClientBase, WebSocketLike } from './client.js'
export { createClient, type DmtpClient } from './create-client.js'
export {
  ApiError,
  BaseError,
  ChainChangedError,
  type ChainChangedErrorType,
  ChainMismatchError,
  type ChainMismatchErrorType,
  type ErrorCode,
  KeyBundleRejectedError,
  KeysNotSetUpError,
  KeyWithheldError,
  type KeyWithheldErrorType,
  type ReceiptRejectedCode,
  ReceiptRejectedError,
  type ReceiptRejectedErrorType,
  RecipientNotRegisteredError,
  ServerKeyRejectedError,
  WalletRequiredError,
} from './errors.js'
export { type ClientStorage, memoryStorage } from './storage.js'
export { createHttpTransport, type HttpTransport } from './transports/http.js'
export type { ConnectionState } from './transports/stream-socket.js'
export { fromEip1193 } from './wallets/from-eip1193.js'
export { privateKeyWallet } from './wallets/private-key-wallet.js'
export { resolveWallet, supportsWalletEncryption } from './wallets/resolve-wallet.js'
export type { DmtpWallet, Eip1193Provider, ViemAccountLike, WalletInput } from './wallets/types.js'
