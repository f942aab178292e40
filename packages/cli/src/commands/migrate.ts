/**
 * `dmtp migrate`: makes the messages relayed to this wallet before it set up DMTP (pattern β)
 * end-to-end encrypted. `dmtp setup` already does this; `migrate` resumes an interrupted run and
 * picks up messages relayed since. Safe to run again, and from two machines at once.
 */
import { KeysNotSetUpError } from '@dmtp/sdk'
import { Command } from 'commander'
import { connect } from '../connect.js'
import { globalOptions } from '../global-options.js'
import { printJson, printLine, printWarning } from '../output.js'
import { progressBar } from '../progress.js'
import { requireWallet } from '../wallet.js'

/**
 * @example
 * import { migrateCommand } from './commands/migrate.js'
 * program.addCommand(migrateCommand())
 */
export function migrateCommand(): Command {
  return new Command('migrate')
    .description('Make messages sent to you before you set up DMTP end-to-end encrypted')
    .addHelpText(
      'after',
      `
Examples:
  $ dmtp migrate                                  Migrated 120 message(s); none left
  $ dmtp migrate --json                           {"migrated","alreadyMigrated","rejected","remaining"}

Each message is checked first (it opens only with the key you share with the server's verified
key, and the sender signed its text), then re-encrypted here with the key you share with its
sender; the server then deletes the copy it could read. A message that fails a check is left alone
and listed under "rejected"; exit 1 then.`,
    )
    .action(async (_options: unknown, command: Command) => {
      const globals = globalOptions(command)
      const wallet = requireWallet(globals)
      const client = connect(globals, wallet)
      if (!(await client.whois(wallet.address)).registered) throw new KeysNotSetUpError({ address: wallet.address })
      const progress = progressBar({ enabled: !globals.json || process.stderr.isTTY === true })
      const result = await client
        .migrate({ onProgress: ({ done, total }) => progress.report({ phase: 'migrating', done, total }) })
        .finally(() => progress.done())
      if (globals.json) printJson(result)
      else {
        const left = result.remaining === 0 ? 'none left' : `${result.remaining} left (run again later)`
        printLine(`Migrated ${result.migrated} message(s); ${left}`)
        if (result.alreadyMigrated > 0) printLine(`  ${result.alreadyMigrated} had already been migrated (another device)`)
        for (const { id, reason } of result.rejected) printWarning(`message ${id} was left alone: ${reason}`)
      }
      if (result.rejected.length > 0) process.exitCode = 1
    })
}
