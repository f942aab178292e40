/**
 * `useSendMessage`: sends a 1:1 message (`client.send`). Same call shape as the public DMTP React
 * SDK: `useSendMessage(onSuccess?, onError?)` returns `(message, toAddress) => Promise`.
 */
import type { SendErrorType, SendReturnType } from '@dmtp/sdk'
import { useCallback } from 'react'
import { useDMTPStore } from '../_context.js'
import type { DMTPNotConnectedError } from '../errors.js'

export type UseSendMessageErrorType = SendErrorType | DMTPNotConnectedError

export type UseSendMessageReturnType = (message: string, toAddress: string) => Promise<SendReturnType>

/**
 * @param onSuccess - called with the result: `e2ee` is false, and `notice` says why, when the
 *   receiver has not set up DMTP and the message went through the server's key (pattern β).
 * @param onError - called with the typed error (`DMTPNotConnectedError`, `ApiError`,
 *   `RecipientNotRegisteredError`, …) before the returned promise rejects with it.
 * @example
 * import { useSendMessage } from '@dmtp/react'
 *
 * function Composer({ to }: { to: string }) {
 *   const sendMessage = useSendMessage((result) => result.notice && alert(result.notice))
 *   return <button onClick={() => sendMessage('gm', to).catch(() => {})}>Send</button>
 * }
 */
export function useSendMessage(
  onSuccess?: ((result: SendReturnType) => void) | undefined,
  onError?: ((error: UseSendMessageErrorType) => void) | undefined,
): UseSendMessageReturnType {
  const store = useDMTPStore('useSendMessage')
  return useCallback(
    async (message: string, toAddress: string) => {
      let result: SendReturnType
      try {
        result = await store.send(message, toAddress)
      } catch (error) {
        onError?.(error as UseSendMessageErrorType)
        throw error
      }
      onSuccess?.(result)
      return result
    },
    [store, onSuccess, onError],
  )
}
