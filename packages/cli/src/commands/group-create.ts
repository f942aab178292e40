/**
 * `dmtp group create`: a public room (anyone can find, join, read and post; not end-to-end
 * encrypted, every message signed) or a private group (by invitation or approval; not end-to-end
 * encrypted yet either). You are its Owner; the signed `create` event starts its membership log.
 */
import { Command, Option } from 'commander'
import { connect } from '../connect.js'
import { globalOptions } from '../global-options.js'
import { printJson, printLine, terminalSafe } from '../output.js'
import { roomTypeLabel } from '../rooms.js'
import { requireWallet } from '../wallet.js'

type CreateOptions = { name: string; type: 'public' | 'private'; description?: string; announce?: boolean }

/**
 * @example
 * import { groupCreateCommand } from './commands/group-create.js'
 * group.addCommand(groupCreateCommand())
 */
export function groupCreateCommand(): Command {
  return new Command('create')
    .description('Create a public room or a private group (you are its Owner)')
    .requiredOption('--name <name>', 'its name, shown to everyone who finds or joins it')
    .addOption(
      new Option('--type <type>', 'public: anyone can find and join; private: by invitation or approval')
        .choices(['public', 'private'])
        .makeOptionMandatory(),
    )
    .option('--description <text>', 'what it is about (searched, for public rooms)')
    .option('--announce', 'announcement-only: Members read, only Sub Admins and up post')
    .addHelpText(
      'after',
      `
Examples:
  $ dmtp group create --name "DMTP builders" --type public --description "all about DMTP"
  $ dmtp group create --name core-team --type private
  $ dmtp group create --name news --type public --announce --json   {"room","type","name","description","announce"}

Neither kind is end-to-end encrypted: the server and the room's readers see every message, each
signed by its sender. Share the room id ("room") for others to join.`,
    )
    .action(async (options: CreateOptions, command: Command) => {
      const globals = globalOptions(command)
      const client = connect(globals, requireWallet(globals))
      const { room } = await client.rooms.create({
        type: options.type,
        name: options.name,
        description: options.description,
        announce: options.announce === true,
      })
      const { id, type, name, description, announce } = room
      if (globals.json) return printJson({ room: id, type, name, description, announce })
      printLine(terminalSafe(`Created ${type === 'public' ? 'the public room' : 'the private group'} "${name}" ${id}`))
      printLine(`  ${roomTypeLabel(type)}${announce ? '; announcement-only' : ''}; you are its owner`)
    })
}
