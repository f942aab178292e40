/**
 * `dmtp verify`: checks the server against the chain: every message (and, in groups, every
 * membership-log entry) of the wallet's rooms is anchored, pending (newer than the last sync),
 * missing, altered or unavailable (its manifest not served), and every wallet's current key bundle
 * is the one anchored on chain. The wallet's rooms come from the anchored manifests too, so a room
 * the server hides is caught. Exits 1 when anything is missing, altered, unavailable, hidden or
 * mismatched; a server without a chain is `chain_unavailable`.
 */
import { ApiError } from '@dmtp/sdk'
import { Command } from 'commander'
import { chainTarget, withChainOptions } from '../chain-options.js'
import { connect } from '../connect.js'
import { globalOptions } from '../global-options.js'
import { printJson, printLine, terminalSafe } from '../output.js'
import { parseId } from '../parsers.js'
import { progressBar } from '../progress.js'
import { requireWallet } from '../wallet.js'

type VerifyOptions = { room?: string; rpc?: string; chainRpc?: string; registry?: string }

/**
 * @example
 * import { verifyCommand } from './commands/verify.js'
 * program.addCommand(verifyCommand())
 */
export function verifyCommand(): Command {
  return withChainOptions(
    new Command('verify')
      .description('Check the server against the chain: anchored, pending, missing or altered, message by message')
      .option('--room <id>', 'only this room (a 1:1 conversation or a group you are in)', parseId)
      .option('--rpc <url>', 'read the pinned chain through an EVM JSON-RPC you chose (recommended)'),
  )
    .addHelpText(
      'after',
      `
Examples:
  $ dmtp verify                                   every room of your wallet, 1:1 and groups
  $ dmtp verify --room AGWwcmrhX9BHfF0JejIEqg --json
  $ dmtp verify --rpc https://polygon-rpc.com     the pinned chain, through an RPC you chose
  $ dmtp verify --chain-rpc https://polygon-rpc.com --registry 0x…   against a chain you choose

Without --rpc or --chain-rpc, the chain is read through the RPC the server names, and a warning
says so: an operator who runs the only RPC can lie about the chain as well.

--json prints {"anchored","pending","missing","altered","unavailable","hiddenRooms","keys":{…},…}
with the details. In a group, its membership-log entries are checked too (an entry the log replay
refuses counts as altered). "unavailable" counts what cannot be checked because an anchored
manifest is not served; "hiddenRooms" lists rooms the chain shows are yours but the server does
not. Exit status 1 when anything is missing, altered, unavailable, hidden or mismatched.`,
    )
    .action(async (options: VerifyOptions, command: Command) => {
      const globals = globalOptions(command)
      const client = connect(globals, requireWallet(globals))
      if (options.room) {
        // A room the wallet is not in would be verified as empty, and pass: say so instead.
        const { membership } = await client.rooms.get(options.room)
        if (membership.status !== 'member') {
          throw new ApiError({ code: 'not_member', message: 'You are not a member of this room.' })
        }
      }
      const progress = progressBar({ enabled: !globals.json || process.stderr.isTTY === true })
      const report = await client
        .verify({ room: options.room, rpcUrl: options.rpc, chain: chainTarget(options), onProgress: progress.report })
        .finally(() => progress.done())
      if (globals.json) printJson(report)
      else {
        const unavailable = report.unavailable > 0 ? `, ${report.unavailable} unavailable` : ''
        printLine(
          `${report.ok ? 'OK' : 'FAILED'}: ${report.anchored} anchored, ${report.pending} pending, ${report.missing} missing, ${report.altered} altered${unavailable}`,
        )
        printLine(`keys: ${report.keys.anchored} anchored, ${report.keys.pending} pending, ${report.keys.mismatched} mismatched`)
        printLine(`manifests on chain: ${report.manifests.count} (last sync ${report.manifests.lastSyncAt ?? 'never'})`)
        if (report.manifests.unavailable > 0)
          printLine(`  ${report.manifests.unavailable} anchored manifest(s) not served intact`)
        for (const hidden of report.hiddenRooms)
          printLine(`  hidden   room ${terminalSafe(hidden)}: anchored as yours, but the server does not list it`)
        for (const detail of report.details.filter((d) => d.status !== 'pending')) {
          const what = detail.kind === 'log' ? 'log entry ' : ''
          printLine(
            `  ${detail.status.padEnd(8)} ${what}${detail.cid} (room ${terminalSafe(detail.room)}): ${terminalSafe(detail.reason)}`,
          )
        }
        for (const key of report.keyDetails.filter((k) => k.status === 'mismatched')) {
          printLine(`  key      ${key.address}: ${terminalSafe(key.reason)}`)
        }
        for (const warning of report.warnings) printLine(`  warning  ${warning.code}: ${terminalSafe(warning.message)}`)
      }
      if (!report.ok) process.exitCode = 1
    })
}
