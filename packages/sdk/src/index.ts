/**
 * @dmtp/sdk: wallet-to-wallet end-to-end encrypted messaging for Node and browsers.
 */

export type { ChainTarget } from './_chain.js'
export type { DecryptedMessage, MessageStatus } from './_decrypt.js'
export type { ProgressReporter } from './_manifests.js'
export { type ConversationSummary, type ConversationsReturnType, conversations } from './actions/conversations.js'
export { type GetInboxParameters, type GetInboxReturnType, getInbox } from './actions/get-inbox.js'
export {
  type GetKeyBundleParameters,
  type GetKeyBundleReturnType,
  getKeyBundle,
  type KeyAnchorStatus,
} from './actions/get-key-bundle.js'
export { type GetMessagesParameters, type GetMessagesReturnType, getMessages } from './actions/get-messages.js'
export { type MarkReadParameters, markRead } from './actions/mark-read.js'
export { type MigrateParameters, type MigrateReturnType, migrate } from './actions/migrate.js'
export { type RecoveredMessage, type RecoverParameters, type RecoverReturnType, recover } from './actions/recover.js'
export { type SendErrorType, type SendParameters, type SendReturnType, send } from './actions/send.js'
export { type SetupErrorType, type SetupParameters, type SetupReturnType, type SetupStep, setup } from './actions/setup.js'
export { type SignInReturnType, signIn } from './actions/sign-in.js'
export { signOut } from './actions/sign-out.js'
export { type StreamEvent, type StreamParameters, type StreamReturnType, stream } from './actions/stream.js'
export {
  type MessageCheck,
  NotAnchoredError,
  type VerifyDetail,
  type VerifyParameters,
  type VerifyReturnType,
  verify,
} from './actions/verify.js'
export type { CreateClientParameters, DmtpClientBase, WebSocketLike } from './client.js'
export { createClient, type DmtpClient } from './create-client.js'
export {
  ApiError,
  BaseError,
  type ErrorCode,
  KeyBundleRejectedError,
  KeysNotSetUpError,
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
