/**
 * `useSendMessage`: sends a message (`client.send`) to a wallet (1:1) or a room. Same call shape
 * as the public DMTP React SDK: `useSendMessage(onSuccess?, onError?)` returns
 * `(message, toAddress) => Promise`; a room id works in place of the address, and a third
 * argument takes `replyTo` and `mentions`.
 */
import type { SendErrorType, SendParameters, SendReturnType } from '@dmtp/sdk'
import { useCallback } from 'react'
import { useDMTPStore } from '../_context.js'
import type { DMTPNotConnectedError } from '../errors.js'

export type UseSendMessageErrorType = SendErrorType | DMTPNotConnectedError

export type UseSendMessageReturnType = (
  message: string,
  toAddress: string,
  options?: Pick<SendParameters, 'replyTo' | 'mentions'>,
) => Promise<SendReturnType>

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
    async (message: string, toAddress: string, options?: Pick<SendParameters, 'replyTo' | 'mentions'>) => {
      let result: SendReturnType
      try {
        result = await store.send(message, toAddress, options)
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
