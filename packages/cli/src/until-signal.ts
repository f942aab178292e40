/** Waiting for Ctrl-C (SIGINT) or a service manager's SIGTERM, to stop a long-running command cleanly. */

/**
 * Resolves with the first SIGINT or SIGTERM. The handlers are removed then, so a second signal
 * gets Node's default and ends the process at once, should a clean stop hang.
 * @example
 * import { untilSignal } from './until-signal.js'
 * await untilSignal()
 * await server.destroy()
 */
export function untilSignal(): Promise<NodeJS.Signals> {
  return new Promise((resolve) => {
    const onSignal = (signal: NodeJS.Signals) => {
      process.off('SIGINT', onSignal)
      process.off('SIGTERM', onSignal)
      resolve(signal)
    }
    process.on('SIGINT', onSignal)
    process.on('SIGTERM', onSignal)
  })
}
