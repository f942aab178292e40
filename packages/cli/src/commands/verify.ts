/**
 * `dmtp verify`: checks the server against the chain: every message of the wallet's conversations
 * is anchored, pending (newer than the last sync), missing or altered, and every wallet's current
 * key bundle is the one anchored on chain. Exits 1 when anything is missing, altered or mismatched.
 */
import { Command } from 'commander'
import { chainTarget, withChainOptions } from '../chain-options.js'
import { connect } from '../connect.js'
import { globalOptions } from '../global-options.js'
import { printJson, printLine, terminalSafe } from '../output.js'
import { progressBar } from '../progress.js'
import { requireWallet } from '../wallet.js'

type VerifyOptions = { room?: string; chainRpc?: string; registry?: string }

/**
 * @example
 * import { verifyCommand } from './commands/verify.js'
 * program.addCommand(verifyCommand())
 */
export function verifyCommand(): Command {
  return withChainOptions(
    new Command('verify')
      .description('Check the server against the chain: anchored, pending, missing or altered, message by message')
      .option('--room <id>', 'only this conversation'),
  )
    .addHelpText(
      'after',
      `
Examples:
  $ dmtp verify                                   every conversation of your wallet
  $ dmtp verify --room AGWwcmrhX9BHfF0JejIEqg --json
  $ dmtp verify --chain-rpc https://polygon-rpc.com --registry 0x…   against a chain you choose

--json prints {"anchored","pending","missing","altered","keys":{"anchored","mismatched"},…} with the
details. Exit status 1 when anything is missing, altered or mismatched.`,
    )
    .action(async (options: VerifyOptions, command: Command) => {
      const globals = globalOptions(command)
      const client = connect(globals, requireWallet(globals))
      const progress = progressBar({ enabled: !globals.json || process.stderr.isTTY === true })
      const report = await client
        .verify({ room: options.room, chain: chainTarget(options), onProgress: progress.report })
        .finally(() => progress.done())
      if (globals.json) printJson(report)
      else {
        printLine(
          `${report.ok ? 'OK' : 'FAILED'}: ${report.anchored} anchored, ${report.pending} pending, ${report.missing} missing, ${report.altered} altered`,
        )
        printLine(`keys: ${report.keys.anchored} anchored, ${report.keys.pending} pending, ${report.keys.mismatched} mismatched`)
        printLine(`manifests on chain: ${report.manifests.count} (last sync ${report.manifests.lastSyncAt ?? 'never'})`)
        if (report.manifests.unavailable > 0)
          printLine(`  ${report.manifests.unavailable} anchored manifest(s) not served intact`)
        for (const detail of report.details.filter((d) => d.status !== 'pending')) {
          printLine(`  ${detail.status.padEnd(8)} ${detail.cid} (room ${detail.room}): ${terminalSafe(detail.reason)}`)
        }
        for (const key of report.keyDetails.filter((k) => k.status === 'mismatched')) {
          printLine(`  key      ${key.address}: ${terminalSafe(key.reason)}`)
        }
      }
      if (!report.ok) process.exitCode = 1
    })
}
