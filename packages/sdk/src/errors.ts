/**
 * SDK errors. Server failures arrive as `ApiError` with the server's stable `code`; the classes
 * here are what the SDK itself detects, named so an app can tell a person what to do.
 */
import { BaseError } from '@dmtp/protocol'

export { ApiError, type ApiErrorType, BaseError, type ErrorCode } from '@dmtp/protocol'

export type RecipientNotRegisteredErrorType = RecipientNotRegisteredError & { name: 'RecipientNotRegisteredError' }

export class RecipientNotRegisteredError extends BaseError {
  override name = 'RecipientNotRegisteredError'
  readonly address: string
  constructor({ address }: { address: string }) {
    super(`${address} has not set up DMTP yet, so an end-to-end encrypted message cannot reach it.`, {
      metaMessages: [
        'Ask them to open DMTP once with their wallet, or send through the server (not end-to-end encrypted until they set up).',
      ],
    })
    this.address = address
  }
}

export type KeysNotSetUpErrorType = KeysNotSetUpError & { name: 'KeysNotSetUpError' }

export class KeysNotSetUpError extends BaseError {
  override name = 'KeysNotSetUpError'
  constructor({ address }: { address: string }) {
    super(`${address} has no DMTP keys on this server yet; set them up first.`)
  }
}

export type KeyBundleRejectedErrorType = KeyBundleRejectedError & { name: 'KeyBundleRejectedError' }

/** A key bundle from the server failed the client's own checks: never encrypt to it. */
export class KeyBundleRejectedError extends BaseError {
  override name = 'KeyBundleRejectedError'
  constructor({ address, reason, cause }: { address: string; reason: string; cause?: unknown }) {
    super(`The key bundle served for ${address} failed verification: ${reason}.`, {
      cause,
      metaMessages: ['The server may be faulty or malicious; nothing was encrypted to these keys.'],
    })
  }
}

export type WalletRequiredErrorType = WalletRequiredError & { name: 'WalletRequiredError' }

/** The client was created without a wallet, and the action needs one (to sign or decrypt). */
export class WalletRequiredError extends BaseError {
  override name = 'WalletRequiredError'
  constructor() {
    super('This action needs a wallet; create the client with one.')
  }
}

export type ServerKeyRejectedErrorType = ServerKeyRejectedError & { name: 'ServerKeyRejectedError' }

/** The server's key failed the client's checks: nothing is relayed through it. */
export class ServerKeyRejectedError extends BaseError {
  override name = 'ServerKeyRejectedError'
  constructor({ reason, cause }: { reason: string; cause?: unknown }) {
    super(`The server's key was refused: ${reason}.`, {
      cause,
      metaMessages: ['Messages to wallets that have not set up DMTP go through this key; none was sent.'],
    })
  }
}
