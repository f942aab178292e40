/**
 * `dmtp setup`: makes this wallet's DMTP keys and publishes its signed key bundle; on a new
 * machine, unlocks the keys already published instead; `--rotate` replaces them. Then makes the
 * messages relayed to this wallet before it had keys end-to-end encrypted (pattern β), with a
 * progress bar on stderr.
 */
import { WALLET_SCHEMES, type WalletScheme } from '@dmtp/protocol'
import { Command, Option } from 'commander'
import { connect } from '../connect.js'
import { globalOptions } from '../global-options.js'
import { printJson, printLine, printNotice, printWarning } from '../output.js'
import { progressBar } from '../progress.js'
import { requireWallet } from '../wallet.js'

type SetupOptions = { rotate?: boolean; scheme?: WalletScheme }

/**
 * @example
 * import { setupCommand } from './commands/setup.js'
 * program.addCommand(setupCommand())
 */
export function setupCommand(): Command {
  return new Command('setup')
    .description("Create this wallet's DMTP keys and publish them (or recover them on a new machine)")
    .option('--rotate', 'replace the keys with new ones; messages made with the old keys stay readable')
    .addOption(
      new Option(
        '--scheme <scheme>',
        'how the private keys are encrypted to the wallet (default: x25519-xsalsa20-poly1305)',
      ).choices(WALLET_SCHEMES),
    )
    .addHelpText(
      'after',
      `
Examples:
  $ DMTP_WALLET_KEY=0x… dmtp setup                Keys ready for 0xA11ce… (new), bundle bafy…
  $ dmtp setup --wallet-key-file ~/.dmtp/key       the same key on another machine: (recovered)
  $ dmtp setup --rotate                            new keys: (rotated)
  $ dmtp setup --json                              {"address","cid","created","replaced","scheme","migration"}

Messages sent to this wallet before it had keys are then made end-to-end encrypted here
("migration": {"migrated","remaining"}); if that is interrupted, \`dmtp migrate\` resumes it.`,
    )
    .action(async (options: SetupOptions, command: Command) => {
      const globals = globalOptions(command)
      const client = connect(globals, requireWallet(globals))
      const progress = progressBar({ enabled: !globals.json || process.stderr.isTTY === true })
      const result = await client
        .setup({
          rotate: options.rotate,
          scheme: options.scheme,
          onMigrationProgress: ({ done, total }) => progress.report({ phase: 'migrating', done, total }),
        })
        .finally(() => progress.done())
      if (options.scheme && options.scheme !== result.scheme) {
        printNotice(`keys already exist with scheme ${result.scheme}; add --rotate to make new ones with ${options.scheme}`)
      }
      if (globals.json) {
        const { address, cid, created, replaced, scheme, migration } = result
        printJson({ address, cid, created, replaced, scheme, migration })
      } else {
        const how = !result.created ? 'recovered' : result.replaced ? 'rotated' : 'new'
        printLine(`Keys ready for ${result.address} (${how}), bundle ${result.cid}`)
        const { migrated } = result.migration
        if (migrated > 0) printLine(`Made ${migrated} message(s) sent before setup end-to-end encrypted`)
      }
      const { remaining, error } = result.migration
      if (remaining > 0) {
        printWarning(
          `${remaining} message(s) sent before setup are not end-to-end encrypted yet${error ? ` (${error})` : ''}; run \`dmtp migrate\``,
        )
      } else if (error) {
        printWarning(`could not check for messages sent before setup (${error}); run \`dmtp migrate\``)
      }
    })
}
