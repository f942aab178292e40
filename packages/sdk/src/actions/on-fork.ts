/**
 * Listens for split views: a room found forked, the server showing members different membership
 * logs (docs/private-groups.md §9). Called once per room, with the evidence, when this client
 * finds it (reading a message, an action or a key delivery; syncing a log). A room already forked
 * is on `getRoom`'s `fork`; an open stream also yields a `fork` event.
 */
import type { RoomFork } from '../_room-fork.js'
import type { DmtpClientBase } from '../client.js'

export type OnForkParameters = (fork: RoomFork) => void
/** Stops listening. */
export type OnForkReturnType = () => void

/**
 * @example
 * import { onFork } from '@dmtp/sdk'
 * const stop = onFork(client, (fork) => console.warn(`${fork.room}: the server shows members different member lists`))
 */
export function onFork(client: DmtpClientBase, listener: OnForkParameters): OnForkReturnType {
  client.state.forkListeners.add(listener)
  return () => void client.state.forkListeners.delete(listener)
}
