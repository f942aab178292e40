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
import { editCommand } from './commands/edit.js'
import { groupCommand } from './commands/group.js'
import { migrateCommand } from './commands/migrate.js'
import { pinCommand } from './commands/pin.js'
import { reactCommand } from './commands/react.js'
import { readCommand } from './commands/read.js'
import { recallCommand } from './commands/recall.js'
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
    .description('DMTP: wallet-to-wallet messaging: end-to-end encrypted 1:1, public rooms and private groups')
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
  $ dmtp read --follow                           new messages as they arrive, every room
  $ dmtp group create --name x --type public     a public room (not end-to-end encrypted)
  $ dmtp group search builders                   find public rooms, then: dmtp group join --room ID
  $ dmtp send --room AGWw… gm                    post in a room (--reply-to ID: a reply)
  $ dmtp read --room AGWw…                       a room's history, with reactions and edits
  $ dmtp react --room AGWw… --id 3h5J… 👍         also: dmtp edit, dmtp recall, dmtp pin
  $ dmtp group mute --room AGWw… --member 0xB0b… --for 30m
                                                 moderation, roles, members: see dmtp group --help
  $ dmtp whois 0xB0b…                            someone's keys, verified here
  $ dmtp verify                                  check the server against the chain (--room ID: one room)
  $ dmtp recover --room ID --out history.json    rebuild a room's history from chain + blocks
  $ dmtp apikey create --name "My dApp"           an API key for a dApp (operator, on the server's data)

Exit status: 0 on success, 1 on an error, 2 on a usage error. Set DMTP_DEBUG=1 for stack traces.`,
    )
  for (const command of [
    serveCommand(),
    setupCommand(),
    sendCommand(),
    migrateCommand(),
    readCommand(),
    reactCommand(),
    editCommand(),
    recallCommand(),
    pinCommand(),
    groupCommand(),
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
