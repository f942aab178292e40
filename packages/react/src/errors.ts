/**
 * Errors of `@dmtp/react` itself. Everything else a hook reports is the SDK's own typed error
 * (`ApiError`, `RecipientNotRegisteredError`, …), passed through unchanged.
 */
import { BaseError } from '@dmtp/sdk'

export type DMTPProviderNotFoundErrorType = DMTPProviderNotFoundError & { name: 'DMTPProviderNotFoundError' }

/** A hook ran outside `<DMTPProvider>`. */
export class DMTPProviderNotFoundError extends BaseError {
  override name = 'DMTPProviderNotFoundError'
  constructor({ hook }: { hook: string }) {
    super(`\`${hook}\` must be used inside <DMTPProvider>.`, {
      metaMessages: ['Wrap the app (or the part that messages) in <DMTPProvider server="…">.'],
    })
  }
}

export type DMTPNotConnectedErrorType = DMTPNotConnectedError & { name: 'DMTPNotConnectedError' }

/** Sending or reading before `connectDMTP()` finished: the keys are not unlocked yet. */
export class DMTPNotConnectedError extends BaseError {
  override name = 'DMTPNotConnectedError'
  constructor() {
    super('DMTP is not connected yet.', {
      metaMessages: ['Call `connectDMTP()` from `useConnectDMTP()` first, and wait for `isConnectDMTP`.'],
    })
  }
}
