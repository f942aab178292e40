/**
 * The `dmtp` program: global options, one subcommand per file in `commands/`, help with
 * examples. Errors are not printed here: the program throws, and `bin.ts` renders them (as JSON
 * with `--json`) and picks the exit code.
 */
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { Command, Option } from 'commander'
import { apiKeyCommand } from './commands/apikey.js'
import { migrateCommand } from './commands/migrate.js'
import { readCommand } from './commands/read.js'
import { recoverCommand } from './commands/recover.js'
import { sendCommand } from './commands/send.js'
import { serveCommand } from './commands/serve.js'
import { setupCommand } from './commands/setup.js'
import { verifyCommand } from './commands/verify.js'
import { whoisCommand } from './commands/whois.js'
import { parseServerUrl } from './parsers.js'

const { version } = JSON.parse(fs.readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version: string }

/**
 * Builds the `dmtp` command. It throws a `CommanderError` instead of exiting, and prints no errors
 * itself (help and `--version` still go to stdout).
 * @example
 * import { createProgram } from '@dmtp/cli'
 * await createProgram().parseAsync(['whois', '0xB0b…', '--json'], { from: 'user' })
 */
export function createProgram(): Command {
  const program = new Command('dmtp')
    .description('DMTP: wallet-to-wallet end-to-end encrypted messaging')
    .version(version)
    .option('--json', 'machine output: JSON on stdout; errors as {"error":{"code","message"}} on stderr')
    .addOption(
      new Option('--server <url>', 'DMTP server URL')
        .env('DMTP_SERVER')
        .default('http://localhost:8787')
        .argParser(parseServerUrl),
    )
    .addOption(new Option('--home <dir>', 'where session tokens are kept').default(path.join(os.homedir(), '.dmtp'), '~/.dmtp'))
    .option('--wallet-key-file <file>', 'file holding the wallet private key (default: env DMTP_WALLET_KEY)')
    .configureHelp({ showGlobalOptions: true })
    .configureOutput({ outputError: () => {} })
    .exitOverride()
    .addHelpText(
      'after',
      `
Examples:
  $ dmtp serve                                   run a server on http://localhost:8787
  $ export DMTP_WALLET_KEY=0x…                   your wallet's private key (or --wallet-key-file FILE)
  $ dmtp setup                                   create your DMTP keys and publish them
  $ dmtp send --to 0xB0b… gm                     send an end-to-end encrypted message
  $ dmtp migrate                                 make messages sent before your setup end-to-end
  $ dmtp read --with 0xB0b…                      the conversation, decrypted here
  $ dmtp read --follow                           new messages as they arrive
  $ dmtp whois 0xB0b…                            someone's keys, verified here
  $ dmtp verify                                  check the server against the chain
  $ dmtp recover --room ID --out history.json    rebuild a conversation from chain + blocks
  $ dmtp apikey create --name "My dApp"           an API key for a dApp (operator, on the server's data)

Exit status: 0 on success, 1 on an error, 2 on a usage error. Set DMTP_DEBUG=1 for stack traces.`,
    )
  for (const command of [
    serveCommand(),
    setupCommand(),
    sendCommand(),
    migrateCommand(),
    readCommand(),
    whoisCommand(),
    verifyCommand(),
    recoverCommand(),
    apiKeyCommand(),
  ]) {
    program.addCommand(command.copyInheritedSettings(program))
    for (const sub of command.commands) sub.copyInheritedSettings(command)
  }
  return program
}
