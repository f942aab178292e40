/** `useDMTPClient`: the provider's SDK client, for anything the hooks do not cover. */
import type { DmtpClient } from '@dmtp/sdk'
import { useDMTPStore } from '../_context.js'

/**
 * @returns the `DmtpClient` of the nearest `<DMTPProvider>`.
 * @throws {DMTPProviderNotFoundError} outside a provider.
 * @example
 * import { useDMTPClient } from '@dmtp/react'
 * const client = useDMTPClient()
 * const bundle = await client.whois('0xB0b…')
 */
export function useDMTPClient(): DmtpClient {
  return useDMTPStore('useDMTPClient').client
}
