/**
 * `repinChain`: trusts the chain the server names now, deliberately. A client pins the chain id
 * and registry of a server on first use and refuses a `/v1/info` that later names another
 * (`ChainChangedError`); when the operator really moved the registry, and the user has confirmed
 * it out of band, this forgets the old pin and pins the current one.
 */
import type { ServerInfo } from '@dmtp/protocol'
import { forgetRegistryReader } from '../_chain.js'
import { type ChainPin, forgetChainPin, pinnedChain } from '../_chain-pin.js'
import { forgetServerKey } from '../_server-key.js'
import { forgetServerInfo, serverInfo } from '../_session.js'
import type { DmtpClientBase } from '../client.js'
import type { ChainChangedErrorType } from '../errors.js'

export type RepinChainReturnType = {
  /** What was pinned before; null when nothing was. */
  previous: ChainPin | null
  /** What is pinned now; null when the server names no chain (nothing is pinned then). */
  pinned: ChainPin | null
}

export type RepinChainErrorType = ChainChangedErrorType | Error

/**
 * @throws {ChainChangedError} when the client was created with `chain` and the server names
 * another: a configured chain is changed in the configuration, not re-pinned.
 * @example
 * import { repinChain } from '@dmtp/sdk'
 * const { previous, pinned } = await repinChain(client)
 * console.log(`was ${previous?.registry}, now ${pinned?.registry}`)
 */
export async function repinChain(client: DmtpClientBase): Promise<RepinChainReturnType> {
  // An unreadable pin is forgotten too: that is what re-pinning is for.
  const previous = await pinnedChain(client).catch(() => undefined)
  await forgetChainPin(client)
  forgetServerInfo(client)
  forgetRegistryReader(client)
  forgetServerKey(client)
  const info: ServerInfo = await serverInfo(client)
  const current = info.chain ? await pinnedChain(client) : undefined
  return { previous: previous?.pin ?? null, pinned: current?.pin ?? null }
}
