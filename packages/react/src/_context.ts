/** The React context between `<DMTPProvider>` and the hooks. @internal */
import { createContext, useContext } from 'react'
import type { DmtpStore } from './_store.js'
import { DMTPProviderNotFoundError } from './errors.js'

export const DMTPContext = createContext<DmtpStore | null>(null)

/** The provider's store; throws `DMTPProviderNotFoundError` outside one. */
export function useDMTPStore(hook: string): DmtpStore {
  const store = useContext(DMTPContext)
  if (!store) throw new DMTPProviderNotFoundError({ hook })
  return store
}
